/**
 * `DtlsClient`: the client role of the same engine, as a `DatagramEndpoint` bound to one server.
 * `DtlsClient.connect` runs the handshake (with the cookie exchange) and resolves once the
 * session is established; it rejects with a `DtlsError` (the alert, or `handshake_timeout`).
 *
 * Which suites it offers follows its credentials: `psk` → the PSK suites; `pki` → the
 * ECDHE_ECDSA suites; both → both. With neither, it is an ANONYMOUS ECDHE client (libcoap's
 * COAP_PROTO_DTLS session without credentials): ECDHE_ECDSA suites, no client certificate, and
 * the server's certificate is NOT verified — encrypted, but not authenticated. So is `pki`
 * without credentials and with `policy.verifyPeerCert: false`.
 */
import { ANONYMOUS, peerKey, type DatagramEndpoint, type DatagramHandler, type PeerAddress } from "../transport/types.js";
import { DtlsConnection, type CloseReason, type SessionInfo } from "./connection.js";
import type { DtlsError } from "./errors.js";
import { resolveClientPki, type DtlsClientPki } from "./key-exchange/pki-options.js";
import type { PskClientCredentials } from "./key-exchange/psk.js";
import { flushSends, resolveCommon, type DtlsCommonOptions } from "./options.js";
import { splitRecords } from "./record/header.js";
import { newStats, type DtlsStats } from "./stats.js";

export interface DtlsClientOptions extends DtlsCommonOptions {
  /** PSK identity and key. */
  readonly psk?: PskClientCredentials;
  /**
   * Chooses credentials for the server's identity hint (libcoap psk2 `validate_ih_call_back`):
   * called when the server sends a hint (or when no static `psk` is set); undefined aborts the
   * handshake with handshake_failure.
   */
  readonly pskHintCallback?: (hint: string) => PskClientCredentials | undefined;
  /** server_name (SNI, RFC 6066) to send; the server passes it to its PSK lookup / certificate chooser. */
  readonly sni?: string;
  /**
   * Certificates: ours (sent when the server asks), the CAs and policy the server's chain is
   * validated with. See the module comment for the anonymous client (no `psk`, no `pki`).
   */
  readonly pki?: DtlsClientPki;
}

export class DtlsClient implements DatagramEndpoint {
  readonly scheme = "coaps" as const;
  /** Receives each application-data record's plaintext from the server. */
  onDatagram: DatagramHandler = () => {};
  /** The session ended (peer close_notify, fatal alert, sequence exhaustion, or local close). */
  onClose: (reason: CloseReason, error?: DtlsError) => void = () => {};
  readonly stats: DtlsStats;

  readonly #lower: DatagramEndpoint;
  readonly #conn: DtlsConnection;
  readonly #ownsLower: boolean;
  readonly #budget: () => number;
  #closed = false;

  private constructor(lower: DatagramEndpoint, conn: DtlsConnection, stats: DtlsStats, ownsLower: boolean, budget: () => number) {
    this.#lower = lower;
    this.#conn = conn;
    this.stats = stats;
    this.#ownsLower = ownsLower;
    this.#budget = budget;
  }

  /**
   * Handshakes with `server` over `lower` (which the client takes over: it sets
   * `lower.onDatagram`). Resolves with the connected client; rejects with a DtlsError, after
   * which `lower` is left open and detached.
   */
  static connect(lower: DatagramEndpoint, server: PeerAddress, options: DtlsClientOptions = {}): Promise<DtlsClient> {
    const common = resolveCommon(options);
    const stats = newStats();
    const budget = () => options.mtu ?? lower.maxMessageSize(server);
    const serverKey = peerKey(server);
    return new Promise<DtlsClient>((resolve, reject) => {
      let client: DtlsClient | undefined;
      const conn = new DtlsConnection(
        {
          role: "client",
          config: {
            suites: common.suites,
            random: common.random,
            ...(options.psk ? { clientPsk: options.psk } : {}),
            ...(options.pskHintCallback ? { pskHintCallback: options.pskHintCallback } : {}),
            ...(options.sni !== undefined ? { sni: options.sni } : {}),
            groups: common.groups,
            wallClock: common.wallClock,
            ...(options.pki || (!options.psk && !options.pskHintCallback) ? { clientPki: resolveClientPki(options.pki) } : {}),
          },
          clock: common.clock,
          retransmit: common.retransmit,
          handshakeTimeoutMs: common.handshakeTimeoutMs,
          datagramBudget: budget,
          stats,
        },
        {
          send: (datagram) => lower.send(server, datagram),
          established: (c) => {
            client = new DtlsClient(lower, c, stats, common.ownsLower, budget);
            resolve(client);
          },
          data: (plaintext, c) => client?.onDatagram(plaintext, server, c.info?.identity ?? ANONYMOUS),
          handshakeFailed: (_c, err) => {
            lower.onDatagram = () => {};
            reject(err);
          },
          closed: (_c, reason, err) => client?.onClose(reason, err),
        },
        server,
      );
      lower.onDatagram = (data, from) => {
        stats.datagramsIn++;
        if (peerKey(from) !== serverKey) {
          stats.recordsDropped++; // not our server: ignore whatever it is
          return;
        }
        const { records, malformed } = splitRecords(data);
        if (malformed) stats.recordsDropped++;
        for (const r of records) {
          stats.recordsIn++;
          conn.handleRecord(r.header, r.fragment);
        }
      };
      conn.start();
    });
  }

  get local(): PeerAddress {
    return this.#lower.local;
  }

  /** The server this client is connected to. */
  get server(): PeerAddress {
    return this.#conn.peer;
  }

  get connected(): boolean {
    return this.#conn.established;
  }

  sessionInfo(): SessionInfo | undefined {
    return this.#conn.info;
  }

  /** Encrypts `data` as one record to the server; dropped and counted if `peer` is not the server or the session ended. */
  send(peer: PeerAddress, data: Uint8Array): void {
    if (peerKey(peer) !== peerKey(this.#conn.peer)) {
      this.stats.appSendDropped++;
      return;
    }
    this.#conn.send(data);
  }

  maxMessageSize(_peer?: PeerAddress): number {
    return this.#conn.maxPlaintext();
  }

  /** Sends close_notify, ends the session, and closes the lower endpoint if owned. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#conn.close("local");
    if (this.#ownsLower) {
      await flushSends(); // node:dgram drops a send still resolving its address when the socket closes
      await this.#lower.close();
    }
  }

  /** @internal the datagram budget (for diagnostics). */
  get datagramBudget(): number {
    return this.#budget();
  }
}
