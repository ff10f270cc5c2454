/**
 * Session kinds the generator speaks, as a table: each says whether it can run here (and why
 * not) and how to open one session to a target. A new kind (e.g. ECDHE-ECDSA once our client
 * has certificates) is one more row; the modes and the harness need no change.
 */
import { CIPHER_SUITES, CipherSuiteId, DtlsClient, type EcdheGroup } from "../../edge-agent/src/dtls/index.js";
import type { PeerAddress } from "../../edge-agent/src/transport/types.js";
import { ConnectedUdp, type ConnectOptions } from "./connected-udp.js";
import type { GenUdpEngine } from "./gen-udp.js";
import type { PskSpec, ProtocolName } from "./job.js";

/** One client session: datagrams out, plaintext CoAP in. */
export interface GenSession {
  send(data: Uint8Array): void;
  onMessage: (data: Uint8Array) => void;
  close(): Promise<void>;
  /** Closes the socket without telling the server (no close_notify): it keeps the session. */
  detach(): Promise<void>;
}

export interface OpenOptions {
  readonly psk?: PskSpec;
  readonly handshakeTimeoutMs: number;
  /** Local address to bind (one per simulated device, see sources.ts). */
  readonly localAddress?: string;
  /** The socket's UDP engine (gen-udp.ts); default DEFAULT_GEN_UDP. */
  readonly engine?: GenUdpEngine;
}

export interface Protocol {
  readonly name: ProtocolName;
  readonly title: string;
  /** Undefined when the generator can speak it; else the reason it cannot (yet). */
  unavailable(): string | undefined;
  open(target: PeerAddress, options: OpenOptions): Promise<GenSession>;
}

const ECDHE_ECDSA_CCM_8 = 0xc0ae;

function connectOptions(options: OpenOptions): ConnectOptions {
  return { localAddress: options.localAddress, engine: options.engine };
}

function plainSession(udp: ConnectedUdp): GenSession {
  const s: GenSession = {
    send: (data) => udp.send(udp.target, data),
    onMessage: () => {},
    close: () => udp.close(),
    detach: () => udp.close(),
  };
  udp.onDatagram = (data) => s.onMessage(data);
  return s;
}

/**
 * A DTLS session offering exactly one suite: PSK with `options.psk`, or (no psk) an anonymous
 * ECDHE client — no client certificate and the server's not verified, like a libcoap client
 * without credentials: the server still does its full ECDHE + ECDSA work.
 */
async function dtlsSession(target: PeerAddress, suite: number, options: OpenOptions, groups?: readonly EcdheGroup[]): Promise<GenSession> {
  const udp = await ConnectedUdp.open(target, connectOptions(options));
  let client: DtlsClient;
  try {
    client = await DtlsClient.connect(udp, target, {
      ...(options.psk ? { psk: { identity: options.psk.identity, key: new TextEncoder().encode(options.psk.key) } } : {}),
      cipherSuites: [suite],
      ...(groups ? { groups } : {}),
      handshakeTimeoutMs: options.handshakeTimeoutMs,
      // Loopback does not lose datagrams; a lost flight under overload is retransmitted after 1 s
      // as in the field, and counted in the handshake latency.
    });
  } catch (e) {
    await udp.close(); // connect() leaves the lower endpoint open on failure
    throw e;
  }
  const s: GenSession = {
    send: (data) => client.send(target, data),
    onMessage: () => {},
    close: () => client.close(),
    detach: () => udp.close(), // the client has no timers once established: dropping it is enough
  };
  client.onDatagram = (data) => s.onMessage(data);
  return s;
}

export const PROTOCOLS: Readonly<Record<ProtocolName, Protocol>> = {
  plain: {
    name: "plain",
    title: "CoAP over UDP",
    unavailable: () => undefined,
    open: async (target, options) => plainSession(await ConnectedUdp.open(target, connectOptions(options))),
  },
  psk: {
    name: "psk",
    title: "DTLS 1.2 TLS_PSK_WITH_AES_128_CCM_8",
    unavailable: () => undefined,
    open: (target, options) => {
      if (!options.psk) return Promise.reject(new Error("a PSK session needs psk credentials"));
      return dtlsSession(target, CipherSuiteId.TLS_PSK_WITH_AES_128_CCM_8, options);
    },
  },
  ecdhe: {
    name: "ecdhe",
    title: "DTLS 1.2 TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 (P-256)",
    unavailable: () => (CIPHER_SUITES.some((s) => s.id === ECDHE_ECDSA_CCM_8) ? undefined : "our DtlsClient has no ECDHE-ECDSA suite yet"),
    // secp256r1 only: CoAP's mandatory curve (RFC 7252 §9.1.3.2) and issue 7's "P-256" workload
    // (an OpenSSL-like client would offer x25519 first and get it).
    open: (target, options) =>
      dtlsSession(target, ECDHE_ECDSA_CCM_8, { ...options, psk: undefined }, ["secp256r1"]),
  },
};
