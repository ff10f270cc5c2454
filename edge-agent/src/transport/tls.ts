/**
 * CoAP over TLS (RFC 8323 §3, `coaps+tcp://`, default port 5684) on node:tls, both roles,
 * with the credentials DTLS uses: PSK (a server lookup, a client identity + key) and X.509
 * (pki/ Credentials + TrustStore, validated with pki/validate.ts, i.e. libcoap's policy knobs,
 * not OpenSSL's own verifier). ALPN "coap" is offered and accepted (RFC 8323's TLS ALPN ID).
 *
 * SIGHUP: `updateCredentials` swaps certificate, CAs and PSK table for new handshakes
 * (server.setSecureContext), as DtlsServer.updatePki / reloadPsk do for DTLS.
 *
 * Why our validator decides (pki/validate.ts): the same chain rules must hold for DTLS and TLS
 * (check_common_ca, allow_self_signed, depth, CN callback). Where the policy accepts nothing
 * OpenSSL would refuse (no allowSelfSigned, no allowExpiredCerts) the server also sets node's
 * rejectUnauthorized with our CAs as `ca`: a client that sends no certificate is then refused
 * inside the handshake with a handshake_failure alert (RFC 5246 §7.4.6, OpenSSL's
 * SSL_VERIFY_FAIL_IF_NO_PEER_CERT). A chain node or our rules refuse is only found after the
 * handshake (node's verify callback accepts every chain and checks it afterwards; it has no way
 * to send unknown_ca), so that client sees the connection closed, not an alert.
 * PSK: node passes pskCallback through to OpenSSL for TLS 1.2 cipher suites; TLS 1.3 is
 * switched off whenever PSK is configured so a PSK-only client (libcoap -k/-u) can connect.
 */
import { createHash } from "node:crypto";
import tls from "node:tls";
import { isIP } from "node:net";
import type { Credentials } from "../pki/credentials.js";
import type { TrustStore } from "../pki/trust-store.js";
import { validatePeerChain, type PkiPolicy } from "../pki/validate.js";
import type { CoapServer } from "../server/server.js";
import type { StreamLayer } from "../coap/stream/stream-layer.js";
import { connectSocket, localOf, type StreamConnectOptions } from "./tcp.js";
import { SocketChannel, clientLayer, familyOf, remoteOf, serveStream, type StreamListenOptions, type StreamListener } from "./stream-socket.js";
import { ANONYMOUS, type PeerIdentity } from "./types.js";

/** Default port of coaps+tcp (RFC 8323 §8.2). */
export const COAPS_TCP_PORT = 5684;

/** The ALPN protocol ID of CoAP over TLS (RFC 8323, IANA "coap"). */
export const COAP_ALPN = "coap";

/** PSK ciphers on offer (TLS 1.2); OpenSSL's default list excludes PSK ("!PSK"). */
const PSK_CIPHERS = ["PSK-AES128-GCM-SHA256", "PSK-AES256-GCM-SHA384", "PSK-AES128-CCM", "PSK-AES128-CCM8", "PSK-AES128-CBC-SHA256", "PSK-CHACHA20-POLY1305"];
/** ECDHE-ECDSA first: our certificates are P-256. */
const CERT_CIPHERS = ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-CCM", "ECDHE-ECDSA-AES128-CCM8", "ECDHE-ECDSA-CHACHA20-POLY1305"];

/** Server PSK credentials (the shape of dtls PskServerCredentials). */
export interface TlsPskServer {
  /** Identity hint (libcoap's default is "CoAP"). */
  readonly hint?: string;
  lookup(identity: string, sni: string | undefined): Uint8Array | undefined;
}

/** Client PSK credentials (the shape of dtls PskClientCredentials). */
export interface TlsPskClient {
  readonly identity: string;
  readonly key: Uint8Array;
  /**
   * Chooses the credentials by the server's identity hint (libcoap's validate_ih_call_back, as
   * the DTLS client's pskHintCallback): undefined aborts the handshake. Not called when the
   * server sends no hint (then identity/key are used).
   */
  readonly hintCallback?: (hint: string) => { readonly identity: string; readonly key: Uint8Array } | undefined;
}

/** node:tls's client pskCallback for `psk` (also used by WSS): the hint callback first, if any. */
export function clientPskCallback(psk: TlsPskClient): (hint: string | null) => tls.PSKCallbackNegotation | null {
  return (hint) => {
    const chosen = hint !== null && psk.hintCallback ? psk.hintCallback(hint) : psk;
    return chosen && chosen.key.length > 0 ? { identity: chosen.identity, psk: Buffer.from(chosen.key) } : null;
  };
}

/** Certificate credentials and peer verification, shared by both roles. */
export interface TlsPkiOptions {
  /** Our certificate chain and key (pki loadCredentials). Required for a certificate server. */
  readonly certificate?: Credentials;
  /** CAs for the peer's chain (pki loadTrustStore). Given: the peer is verified (unless policy.verifyPeerCert is false). */
  readonly trust?: TrustStore;
  /** libcoap's verification knobs; `host` defaults to the target host on the client. */
  readonly policy?: PkiPolicy;
}

export interface TlsListenOptions extends StreamListenOptions, TlsPkiOptions {
  readonly psk?: TlsPskServer;
}

export interface TlsConnectOptions extends StreamConnectOptions, TlsPkiOptions {
  readonly psk?: TlsPskClient;
  /** Server name (SNI and the host to match); default: the target host when it is a name. */
  readonly sni?: string;
}

/** Node TLS options for our credentials (PEM exported once). Also used by WSS (transport/ws.ts). */
export function secureOptions(o: TlsPkiOptions, psk: boolean): tls.SecureContextOptions & { ALPNProtocols: string[]; maxVersion?: tls.SecureVersion } {
  const ciphers = [...(o.certificate || !psk ? CERT_CIPHERS : []), ...(psk ? PSK_CIPHERS : [])];
  return {
    ...(o.certificate
      ? {
          key: o.certificate.key.export({ type: "pkcs8", format: "pem" }) as string,
          cert: o.certificate.chain.map((c) => c.toString()).join(""),
        }
      : {}),
    ciphers: `${ciphers.join(":")}:@SECLEVEL=0`, // CCM8's 64-bit tag needs level 0 in OpenSSL 3
    ALPNProtocols: [COAP_ALPN],
    ...(psk ? { maxVersion: "TLSv1.2" as const } : {}),
  };
}

/** The peer's certificate chain as DER, leaf first. */
function peerChain(socket: tls.TLSSocket): Uint8Array[] {
  const out: Uint8Array[] = [];
  let c: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (c && c.raw && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256);
    out.push(new Uint8Array(c.raw));
    c = c.issuerCertificate;
  }
  return out;
}

/** Who the peer is, after the handshake; a string when the policy refuses it. Also used by WSS. */
export function identify(socket: tls.TLSSocket, o: TlsPkiOptions, pskIdentity: string | undefined, host: string | undefined): PeerIdentity | string {
  if (pskIdentity !== undefined) return { kind: "psk", identity: pskIdentity };
  const chain = peerChain(socket);
  const verify = o.trust !== undefined && o.policy?.verifyPeerCert !== false;
  if (chain.length === 0) return verify ? "the peer sent no certificate" : ANONYMOUS;
  const leaf = chain[0] as Uint8Array;
  const sha = createHash("sha256").update(leaf).digest("hex");
  if (!verify) return { kind: "x509", identity: socket.getPeerCertificate().subject?.CN?.toString() ?? "", certificateSha256: sha, certificateDer: leaf };
  const r = validatePeerChain(chain, o.trust as TrustStore, { ...o.policy, ...(host && o.policy?.host === undefined ? { host } : {}) });
  if (!r.ok) return `certificate refused: ${r.code}: ${r.message}`;
  return { kind: "x509", identity: r.cn, certificateSha256: r.sha256, certificateDer: leaf };
}

/** The credentials a TLS listener can swap while running (SIGHUP). */
export type TlsCredentials = Pick<TlsListenOptions, "psk" | "certificate" | "trust" | "policy">;

/** A coaps+tcp listener whose credentials can be replaced for new handshakes. */
export interface TlsListener extends StreamListener {
  /**
   * New handshakes use `next` (certificate, CAs, policy, PSK table); established connections keep
   * theirs, except those of a PSK identity that `next` no longer has, or has with another key:
   * they are ended (close_notify), as DtlsServer.reloadPsk does. Returns how many were ended.
   * Whether PSK and client certificates are on at all is fixed when the listener starts.
   */
  updateCredentials(next: TlsCredentials): number;
}

/**
 * Whether OpenSSL may check client chains in the handshake (see the module comment): only where
 * its verdict cannot differ from ours on what it refuses.
 */
function handshakeVerify(c: TlsCredentials): c is TlsCredentials & { readonly trust: TrustStore } {
  return c.trust !== undefined && c.policy?.verifyPeerCert !== false && c.policy?.allowSelfSigned !== true && c.policy?.allowExpiredCerts !== true;
}

/** The `ca` option for OpenSSL's handshake check: our CAs only (it replaces the system roots). */
function verifyContext(c: TlsCredentials): { ca?: string[] } {
  return handshakeVerify(c) ? { ca: c.trust.certificates.map((x) => x.x509.toString()) } : {};
}

const sniOf = (socket: tls.TLSSocket): string | undefined => (socket as tls.TLSSocket & { servername?: string | false }).servername || undefined;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Listens for CoAP over TLS and serves `server` (port default 5684). Needs PSK or a certificate. */
export async function listenTls(options: TlsListenOptions, server?: CoapServer): Promise<TlsListener> {
  if (!options.psk && !options.certificate) throw new TypeError("listenTls needs PSK credentials or a certificate");
  const pskIdentities = new WeakMap<tls.TLSSocket, string>();
  /** Open connections that authenticated with a PSK identity (a reload may end them). */
  const pskSockets = new Map<tls.TLSSocket, string>();
  const withPsk = options.psk !== undefined;
  let creds: TlsCredentials = options;
  // Fixed at start (a reload swaps the CAs, not whether OpenSSL checks): see handshakeVerify.
  const opensslVerifies = handshakeVerify(options);
  const tlsServer = tls.createServer({
    ...secureOptions(options, withPsk),
    ...verifyContext(options),
    requestCert: options.trust !== undefined,
    rejectUnauthorized: opensslVerifies,
    ...(withPsk
      ? {
          pskIdentityHint: options.psk?.hint,
          pskCallback: (socket: tls.TLSSocket, identity: string) => {
            const key = creds.psk?.lookup(identity, sniOf(socket));
            if (!key) return null;
            pskIdentities.set(socket, identity);
            return Buffer.from(key);
          },
        }
      : {}),
  });
  tlsServer.on("tlsClientError", () => {}); // failed handshakes are the client's problem
  const address = options.address ?? "127.0.0.1";
  const listener = await serveStream(
    tlsServer,
    "tls",
    "coaps",
    (done) => tlsServer.listen({ host: address, port: options.port ?? COAPS_TCP_PORT, ipv6Only: false }, done),
    () => {
      const a = tlsServer.address() as import("node:net").AddressInfo;
      return { address: a.address, port: a.port, family: familyOf(a.family) };
    },
    (socket) => {
      const s = socket as tls.TLSSocket;
      const id = identify(s, creds, pskIdentities.get(s), undefined);
      if (typeof id === "string") return undefined;
      if (id.kind === "psk" && id.identity !== undefined) {
        pskSockets.set(s, id.identity);
        s.once("close", () => pskSockets.delete(s));
      }
      return new SocketChannel(s, "tls", localOf(s), remoteOf(s), id);
    },
    options,
    server,
    "secureConnection",
  );
  return {
    ...listener,
    close: () => listener.close(),
    updateCredentials(next) {
      const previous = creds.psk;
      creds = next;
      if (next.certificate || withPsk) tlsServer.setSecureContext({ ...secureOptions(next, withPsk), ...(opensslVerifies ? verifyContext(next) : {}) });
      let ended = 0;
      for (const [socket, identity] of pskSockets) {
        const key = next.psk?.lookup(identity, sniOf(socket));
        const old = previous?.lookup(identity, sniOf(socket));
        if (key === undefined || (old !== undefined && !sameBytes(old, key))) {
          pskSockets.delete(socket);
          socket.end(); // close_notify, then FIN
          ended++;
        }
      }
      return ended;
    },
  };
}

/** Connects a coaps+tcp client session (PSK or certificates); resolves after the CSM exchange. */
export async function connectTls(options: TlsConnectOptions & { readonly host?: string }): Promise<StreamLayer> {
  const host = options.sni ?? options.host;
  const name = host !== undefined && isIP(host) === 0 ? host : undefined;
  const psk = options.psk;
  const pskCallback = psk ? clientPskCallback(psk) : () => null;
  let usedIdentity = psk?.identity ?? "";
  const withIdentity = (r: tls.PSKCallbackNegotation | null): tls.PSKCallbackNegotation | null => {
    if (r) usedIdentity = r.identity;
    return r;
  };
  const socket = await connectSocket(
    () =>
      tls.connect({
        host: options.address.address,
        port: options.address.port,
        ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
        ...(options.localPort !== undefined ? { localPort: options.localPort } : {}),
        ...(name ? { servername: name } : {}),
        ...secureOptions(options, psk !== undefined),
        rejectUnauthorized: false,
        ...(psk ? { pskCallback: (hint: string | null) => withIdentity(pskCallback(hint)) } : {}),
      }),
    "secureConnect",
    options.connectTimeoutMs,
  );
  // Over PSK the server is who knew the key: name it by the identity we used.
  const identity = psk ? ({ kind: "psk", identity: usedIdentity } as const) : identify(socket, options, undefined, host);
  if (typeof identity === "string") {
    socket.destroy();
    throw new Error(identity);
  }
  return clientLayer(new SocketChannel(socket, "tls", localOf(socket), options.address, identity), "coaps", options);
}
