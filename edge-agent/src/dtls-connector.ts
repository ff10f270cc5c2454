/**
 * coaps:// for CoapClient: an `EndpointFactory` that opens a UDP socket per target and runs a
 * DTLS client handshake on it (libcoap `coap_new_client_session_psk2`). coap:// targets get a
 * plain UDP socket, so one client does both schemes.
 *
 * PSK choice follows libcoap's coap-client: a `-h` line whose hint equals the server's identity
 * hint supplies identity and key; otherwise the static `-u`/`-k` credentials; with neither the
 * handshake fails (handshake_failure). The server name (SNI, RFC 6066 §3) is the URI host when
 * it is a DNS name — never an IP literal, which §3 forbids in server_name.
 */
import { CoapClientError } from "./client/errors.js";
import type { EndpointFactory, RequestTarget } from "./client/client.js";
import { isIpLiteral } from "./client/uri.js";
import { DtlsClient, type DtlsClientOptions, type PskClientCredentials } from "./dtls/index.js";
import { UdpEndpoint } from "./transport/udp.js";

/** A `hint,identity,key` line of coap-client's `-h` file. */
export interface PskHintEntry extends PskClientCredentials {
  readonly hint: string;
}

export interface DtlsConnectorOptions {
  /** Static PSK credentials (coap-client `-u IDENTITY -k KEY`). */
  readonly psk?: PskClientCredentials;
  /** Credentials chosen by the server's identity hint (coap-client `-h FILE`). */
  readonly pskHints?: readonly PskHintEntry[];
  /** server_name to send; default: the URI host when it is a DNS name. `false`: never. */
  readonly sni?: string | false;
  /** Path MTU of the client's UDP socket (default 1152, libcoap's). */
  readonly mtu?: number;
  /** Local address and/or port to bind the UDP socket to (coap-client `-a ADDR` / `-p PORT`). */
  readonly local?: { readonly address?: string; readonly port?: number };
  /** More DtlsClient options (cipher suites, handshake timeout, certificates …). */
  readonly dtls?: Omit<DtlsClientOptions, "psk" | "pskHintCallback" | "sni">;
  /**
   * With `dtls.pki` verifying the server: its certificate must also name the URI host (SAN DNS
   * or IP, else CN; pki `policy.host`). Default true.
   */
  readonly verifyHost?: boolean;
  /** Called after each completed handshake (e.g. to print the negotiated suite). */
  readonly onConnected?: (client: DtlsClient, target: RequestTarget) => void;
}

/** The credential chooser for DtlsClientOptions.pskHintCallback, or undefined without `-h` lines. */
export function pskHintChooser(
  hints: readonly PskHintEntry[] | undefined,
  fallback: PskClientCredentials | undefined,
): ((hint: string) => PskClientCredentials | undefined) | undefined {
  if (!hints || hints.length === 0) return undefined;
  return (hint) => {
    const line = hints.find((h) => h.hint === hint);
    return line ? { identity: line.identity, key: line.key } : fallback;
  };
}

/**
 * An EndpointFactory for CoapClient: coaps:// targets get a connected DtlsClient (the promise
 * rejects with the DtlsError of a failed handshake), coap:// targets a UDP socket.
 */
export function dtlsEndpointFactory(options: DtlsConnectorOptions = {}): EndpointFactory {
  const hintCallback = pskHintChooser(options.pskHints, options.psk);
  return async (target) => {
    if (target.scheme !== "coap" && target.scheme !== "coaps") {
      throw new CoapClientError("unsupported-scheme", `${target.scheme}:// is not a datagram transport`);
    }
    if (target.address.family === "Unix") throw new CoapClientError("unsupported-scheme", "coap(s):// over a Unix socket path is not supported");
    const udp = await UdpEndpoint.bind({
      address: options.local?.address ?? (target.address.family === "IPv6" ? "::" : "0.0.0.0"),
      port: options.local?.port ?? 0,
      ...(options.mtu !== undefined ? { mtu: options.mtu } : {}),
    });
    if (target.scheme === "coap") return udp;
    const sni = options.sni === false ? undefined : (options.sni ?? (isIpLiteral(target.host) ? undefined : target.host));
    const pki = options.dtls?.pki;
    const hostChecked = pki && options.verifyHost !== false && pki.policy?.host === undefined ? { ...pki, policy: { ...pki.policy, host: target.host } } : pki;
    try {
      const client = await DtlsClient.connect(udp, target.address, {
        ...options.dtls,
        ...(hostChecked ? { pki: hostChecked } : {}),
        ...(options.psk ? { psk: options.psk } : {}),
        ...(hintCallback ? { pskHintCallback: hintCallback } : {}),
        ...(sni !== undefined ? { sni } : {}),
      });
      options.onConnected?.(client, target);
      return client;
    } catch (e) {
      await udp.close();
      throw e;
    }
  };
}
