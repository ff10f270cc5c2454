/**
 * `CoapSecure`: OpenThread's CoAP Secure API (openthread/coap_secure.h, otCoapSecure*) on the
 * edge agent's UDP, DTLS and CoAP layers. Method names are OpenThread's without the
 * `otCoapSecure` prefix; `otInstance` and `aContext` disappear (one object, closures).
 *
 *                 ┌──────────────────────────── CoapSecure ────────────────────────────┐
 *   resources ──▶ │ CoapServer (plain resources: whole bodies, Block2 slicing,          │
 *   handlers      │   /.well-known/core)   +   block-wise resources (blockwise-server)  │
 *                 │ Exchanges (sendRequest / sendRequestBlockWise, requests.ts)         │
 *                 ├───────────── MessageLayer ──────────┬────────── MessageLayer ───────┤
 *                 │ DtlsServer: many sessions (gateway) │ DtlsClient: the connect() peer│
 *                 ├─────────────────────────────────────┴───────────────────────────────┤
 *                 │ SplitEndpoint over ONE UdpEndpoint bound by start(port)             │
 *                 └──────────────────────────────────────────────────────────────────────┘
 *
 * Two roles, one agent. OpenThread's agent holds ONE DTLS session, whichever side opened it.
 * Here the server side holds many (a gateway): every device that connects gets its own
 * session, reported through setClientConnectedCallback with the peer. The calls that name no
 * peer keep OpenThread's single-peer meaning for the CLIENT role — connect / disconnect /
 * isConnected / isConnectionActive / state / getPeerCertificateBase64() / sendRequest() are
 * about the session connect() opened. A server session is addressed by passing its peer
 * (sendRequest(..., { peer }), getPeerCertificateBase64(size, peer)).
 *
 * OpenThread's session life cycle (meshcop/secure_transport.cpp), kept for the client role:
 *   Closed ─start─▶ Open ─connect─▶ Initializing ─▶ Connecting ─handshake─▶ Connected
 *     ▲                ▲                                 │ failure            │ disconnect / peer
 *     └──stop──────────┤                                 ▼                    ▼ close / error
 *                      └──────── guard time (2 s) ── CloseNotify ◀────────────┘
 * The disconnect event is reported when the guard time ends (as OpenThread's HandleTimer);
 * connect() during the guard is InvalidState. Server sessions follow the same rule per peer: a
 * peer whose session ended may not start a new handshake during its guard time, and its
 * disconnect event comes at the end of it.
 *
 * Connection attempts (otCoapSecureStartWithMaxConnAttempts): every connect() and every
 * handshake a peer starts (past the cookie exchange) uses one. With the attempts used up, new
 * handshakes are refused; once the last session has ended and its guard time passed, the
 * agent stops by itself, calls the auto-stop callback, and reports DisconnectedMaxAttempts.
 */
import { OptionNumber, blockOption, blockSize, decodeBlock, getUriPath } from "@coaps-edge/shared";
import type { TransmissionParameters } from "../../coap/constants.js";
import { transmissionTimes } from "../../coap/constants.js";
import type { InboundRequest, MessageLayer, RequestSink } from "../../coap/message-layer.js";
import { TokenGenerator } from "../../coap/tokens.js";
import { Exchanges } from "../../client/exchanges.js";
import { DtlsClient, type DtlsClientOptions } from "../../dtls/client.js";
import type { CloseReason, SessionInfo } from "../../dtls/connection.js";
import type { DtlsError } from "../../dtls/errors.js";
import type { RetransmitOptions } from "../../dtls/handshaker.js";
import type { DtlsClientPki, DtlsServerPki } from "../../dtls/key-exchange/pki-options.js";
import { pskTable, type PskServerCredentials } from "../../dtls/key-exchange/psk.js";
import { DtlsServer, type DtlsServerOptions } from "../../dtls/server.js";
import { loadCredentials, loadTrustStore, type Credentials } from "../../pki/credentials.js";
import type { PemOrDerInput } from "../../pki/pem.js";
import type { TrustStore } from "../../pki/trust-store.js";
import { CoapServer, renderResponse, type CoapServerOptions } from "../../server/server.js";
import type { CoapRequest, CoapResponse, Handler, ResourceDefinition } from "../../server/types.js";
import { peerKey, type PeerAddress } from "../../transport/types.js";
import { UdpEndpoint } from "../../transport/udp.js";
import { systemClock, type Clock, type TimerHandle } from "../../util/clock.js";
import { certificateSuiteId, PSK_CCM8 } from "../support.js";
import { respondDirect, serveBlockwise, type BlockwiseServerStats } from "./blockwise-server.js";
import { normalizePath } from "./messages.js";
import { OtError, otErrorNameOf } from "./ot-error.js";
import { startRequest, strictSzx, type RequestDeps } from "./requests.js";
import { SplitEndpoint, isClientHello, type SideEndpoint } from "./split-endpoint.js";
import {
  MessageInfo,
  OT_DEFAULT_COAP_SECURE_PORT,
  type CoapBlockwiseReceiveHook,
  type CoapBlockwiseTransmitHook,
  type CoapSecureAutoStopCallback,
  type CoapSecureBlockwiseResource,
  type CoapSecureConnectEvent,
  type CoapSecureConnectHandler,
  type CoapSecureRequestHandler,
  type CoapSecureRequestMessage,
  type CoapSecureResource,
  type CoapSecureResponseHandler,
  type CoapSecureSendOptions,
  type CoapSecureSessionEvent,
  type CoapSecureState,
} from "./types.js";

/** OpenThread's kGuardTimeNewConnectionMilli. */
export const DEFAULT_GUARD_TIME_MS = 2000;

/** Options beyond OpenThread's (where it has compile-time configuration). */
export interface CoapSecureOptions {
  /** Local address start() binds (default "::", dual-stack; "127.0.0.1" for loopback only). */
  readonly address?: string;
  /** The guard time after a session ends before that peer (or connect()) may start anew. Default 2000 ms. */
  readonly guardTimeMs?: number;
  /** PSK identity hint the server sends (default none, as mbedTLS in OpenThread). */
  readonly pskIdentityHint?: string;
  readonly clock?: Clock;
  /** RFC 7252 §4.8 parameters (ACK_TIMEOUT…) for both roles. */
  readonly transmission?: Partial<TransmissionParameters>;
  /** CoapServer settings for plain resources (block-wise limits, separate-response delay, logger). */
  readonly server?: Omit<CoapServerOptions, "clock" | "transmission">;
  /** DTLS limits and timers. */
  readonly dtls?: {
    readonly maxSessions?: number;
    readonly maxHalfOpen?: number;
    readonly idleTimeoutMs?: number;
    readonly handshakeTimeoutMs?: number;
    readonly retransmit?: Partial<RetransmitOptions>;
  };
}

export interface CoapSecureStats {
  /** Connection attempts started (connect() calls and server handshakes). */
  attempts: number;
  /** ClientHellos refused: the peer's guard time, or no attempts left. */
  refusedHellos: number;
  blockwise: BlockwiseServerStats;
}

/** The client role's session (connect()). */
interface ClientSlot {
  readonly peer: PeerAddress;
  readonly side: SideEndpoint;
  dtls: DtlsClient | undefined;
  layer: MessageLayer | undefined;
  ended: boolean;
}

/** Where CoapSecure is while running (undefined when Closed). */
interface Running {
  readonly udp: UdpEndpoint;
  readonly split: SplitEndpoint;
  readonly dtls: DtlsServer;
  readonly layer: MessageLayer;
  handshakesSeen: number;
}

const CONNECTING_OR_CONNECTED: ReadonlySet<CoapSecureState> = new Set(["Connecting", "Connected"]);

export class CoapSecure {
  readonly stats: CoapSecureStats = { attempts: 0, refusedHellos: 0, blockwise: { block1Received: 0, block2Served: 0, hookErrors: 0, handlerErrors: 0 } };
  readonly #options: CoapSecureOptions;
  readonly #clock: Clock;
  readonly #guardTimeMs: number;
  readonly #server: CoapServer;
  readonly #exchanges: Exchanges;
  readonly #deps: RequestDeps;
  readonly #requestTimeoutMs: number;
  readonly #sink: RequestSink;

  #state: CoapSecureState = "Closed";
  #starting = false;
  #running: Running | undefined;
  #client: ClientSlot | undefined;
  #clientGuard: TimerHandle | undefined;

  // credentials (OpenThread keeps pointers; we keep parsed copies)
  #psk: { readonly key: Uint8Array; readonly identity: string } | undefined;
  #pskCredentials: PskServerCredentials | undefined;
  #certificate: Credentials | undefined;
  #trust: TrustStore | undefined;
  #verifyPeer = true;

  // resources
  readonly #resources = new Map<string, CoapSecureResource[]>();
  readonly #blockwise = new Map<string, CoapSecureBlockwiseResource[]>();
  #connectHandler: CoapSecureConnectHandler | undefined;

  // connection attempts
  #maxAttempts = 0;
  #remaining = 0;
  #autoStop: CoapSecureAutoStopCallback | undefined;
  readonly #attempting = new Set<string>();
  readonly #guarded = new Map<string, TimerHandle>();

  constructor(options: CoapSecureOptions = {}) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#guardTimeMs = options.guardTimeMs ?? DEFAULT_GUARD_TIME_MS;
    if (!(this.#guardTimeMs >= 0)) throw new RangeError("guardTimeMs must be >= 0");
    this.#server = new CoapServer({ ...options.server, clock: this.#clock, transmission: options.transmission });
    this.#exchanges = new Exchanges(this.#clock);
    this.#deps = { exchanges: this.#exchanges, tokens: new TokenGenerator(), clock: this.#clock };
    this.#requestTimeoutMs = transmissionTimes(options.transmission).maxTransmitWaitMs;
    this.#sink = { onRequest: (inbound) => this.#onRequest(inbound) };
  }

  // ------------------------------------------------------------------ state

  /** The client role's session state (OpenThread's SecureTransport state). */
  get state(): CoapSecureState {
    return this.#state;
  }

  /** The bound local address (after start). */
  get local(): PeerAddress | undefined {
    return this.#running?.udp.local;
  }

  /** Established server sessions (devices connected to us). */
  get sessionCount(): number {
    return this.#running?.dtls.sessionCount ?? 0;
  }

  /** What each established session negotiated: the server sessions, then the client role's. */
  sessions(): SessionInfo[] {
    const out = this.#running ? this.#running.dtls.sessions() : [];
    const c = this.#client?.dtls?.sessionInfo();
    if (c && this.#state === "Connected") out.push(c);
    return out;
  }

  /** Connection attempts left before the agent stops itself (0 when there is no limit). */
  get remainingConnectionAttempts(): number {
    return this.#remaining;
  }

  /** otCoapSecureIsConnected: the client role's session is Connected. */
  isConnected(): boolean {
    return this.#state === "Connected";
  }

  /** otCoapSecureIsConnectionActive: Connecting, Connected or CloseNotify (OpenThread: state >= Connecting). */
  isConnectionActive(): boolean {
    return this.#state === "Connecting" || this.#state === "Connected" || this.#state === "CloseNotify";
  }

  /** otCoapSecureIsClosed: the agent is stopped (no socket). */
  isClosed(): boolean {
    return this.#state === "Closed";
  }

  // ------------------------------------------------------------------ start / stop

  /**
   * otCoapSecureStart: binds the UDP port (default 5684, 0 picks a free one) and accepts DTLS
   * sessions. Throws OtError Already when started, Failed when the port cannot be bound.
   */
  async start(port: number = OT_DEFAULT_COAP_SECURE_PORT): Promise<void> {
    await this.startWithMaxConnAttempts(port, 0, undefined);
  }

  /**
   * otCoapSecureStartWithMaxConnAttempts: start, allowing `maxAttempts` connection attempts
   * (0 = no limit) after which the agent stops itself and calls `autoStopCallback`.
   * Throws OtError Already when started, InvalidArgs for a bad count, Failed when the port
   * cannot be bound.
   */
  async startWithMaxConnAttempts(port: number, maxAttempts: number, autoStopCallback: CoapSecureAutoStopCallback | undefined): Promise<void> {
    if (this.#state !== "Closed" || this.#starting) throw new OtError("Already", "CoAP Secure is already started");
    if (!Number.isInteger(maxAttempts) || maxAttempts < 0 || maxAttempts > 0xffff) throw new OtError("InvalidArgs", "maxAttempts must be 0..65535");
    if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new OtError("InvalidArgs", `bad port ${port}`);
    this.#starting = true;
    let udp: UdpEndpoint;
    try {
      udp = await UdpEndpoint.bind({ address: this.#options.address ?? "::", port });
    } catch (e) {
      throw new OtError("Failed", `cannot bind UDP port ${port}: ${(e as Error).message}`, { cause: e });
    } finally {
      this.#starting = false;
    }
    const split = new SplitEndpoint(udp);
    const dtls = new DtlsServer(split.server, this.#serverDtlsOptions());
    const layer = this.#server.attach(dtls);
    layer.requestSink = this.#sink;
    layer.responseSink = this.#exchanges;
    const running: Running = { udp, split, dtls, layer, handshakesSeen: 0 };
    split.admit = (data, peer) => this.#admit(running, data, peer);
    split.afterServerDatagram = (peer) => this.#countHandshakes(running, peer);
    dtls.onSessionEstablished = (peer) => {
      if (this.#running !== running) return;
      this.#attempting.delete(peerKey(peer));
      this.#emit("Connected", { role: "server", peer });
    };
    dtls.onHandshakeFailed = (peer, err) => {
      if (this.#running !== running) return;
      this.#attempting.delete(peerKey(peer));
      this.#serverEnded(peer, "DisconnectedError", err);
    };
    // Chained, not replaced: attach() hooked the CoapServer's teardown of the session (its dedup
    // entries and observers, server.ts sessionClosed) onto this callback.
    const serverTeardown = dtls.onSessionClosed;
    dtls.onSessionClosed = (peer, reason, err) => {
      serverTeardown(peer, reason, err);
      if (this.#running !== running) return;
      // A newer handshake of the same peer replaced the session: no guard, it is already back.
      if (reason === "replaced") this.#emit("DisconnectedPeerClosed", { role: "server", peer });
      else this.#serverEnded(peer, eventFor(reason), err);
    };
    this.#running = running;
    this.#maxAttempts = maxAttempts;
    this.#remaining = maxAttempts;
    this.#autoStop = autoStopCallback;
    this.#state = "Open";
  }

  /**
   * otCoapSecureStop: ends every session (close_notify), fails outstanding requests with
   * Abort, closes the socket. No connect events are reported for sessions ended this way
   * (as OpenThread). Resolves once the socket is closed; a no-op when stopped.
   */
  async stop(): Promise<void> {
    await this.#shutdown();
  }

  async #shutdown(): Promise<void> {
    const running = this.#running;
    if (!running) return;
    this.#running = undefined;
    this.#state = "Closed";
    this.#clientGuard?.cancel();
    this.#clientGuard = undefined;
    for (const t of this.#guarded.values()) t.cancel();
    this.#guarded.clear();
    this.#attempting.clear();
    const slot = this.#client;
    this.#client = undefined;
    if (slot) this.#teardownClient(slot, running);
    this.#server.detach(running.dtls);
    this.#exchanges.abortAll();
    await running.dtls.close(); // close_notify to every peer (events ignored: #running is cleared)
    await new Promise<void>((resolve) => setImmediate(resolve)); // let the alerts leave first
    await running.udp.close();
  }

  // ------------------------------------------------------------------ credentials

  /**
   * otCoapSecureSetPsk: the PSK and identity for TLS_PSK_WITH_AES_128_CCM_8, used by connect()
   * and accepted from peers presenting `identity`. Strings are UTF-8. Takes effect for the
   * next handshake. Throws OtError InvalidArgs for an empty key or identity.
   */
  setPsk(psk: Uint8Array | string, identity: Uint8Array | string): void {
    const key = typeof psk === "string" ? new TextEncoder().encode(psk) : Uint8Array.from(psk);
    const id = typeof identity === "string" ? identity : new TextDecoder().decode(identity);
    if (key.length === 0 || id.length === 0) throw new OtError("InvalidArgs", "the PSK and its identity must not be empty");
    this.#psk = { key, identity: id };
    this.#running?.dtls.updatePsk(this.#serverPsk());
  }

  /**
   * Gateway extension: the server side looks keys up here (many devices, each its own
   * identity) instead of the single setPsk pair; connect() still uses setPsk's.
   */
  setPskCredentials(credentials: PskServerCredentials | undefined): void {
    this.#pskCredentials = credentials;
    this.#running?.dtls.updatePsk(this.#serverPsk());
  }

  /**
   * otCoapSecureSetCertificate: our X.509 certificate (chain) and private key, PEM (strings,
   * buffers or { path }), for TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8. Throws OtError InvalidArgs
   * when they do not parse or do not match (OpenThread finds out at the next handshake), and
   * NotImplemented while the DTLS engine has no certificate key exchange. Used from the next
   * handshake on (established sessions keep theirs).
   */
  setCertificate(certPem: PemOrDerInput, keyPem: PemOrDerInput): void {
    if (certificateSuiteId() === undefined) throw new OtError("NotImplemented", "the DTLS engine has no TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 yet");
    try {
      this.#certificate = loadCredentials(certPem, keyPem);
    } catch (e) {
      throw new OtError("InvalidArgs", (e as Error).message, { cause: e });
    }
    this.#running?.dtls.updatePki(this.#serverPki());
  }

  /**
   * otCoapSecureSetCaCertificateChain: the trusted CAs (PEM) that peer certificates are
   * validated against. Throws OtError InvalidArgs when nothing parses.
   */
  setCaCertificateChain(pem: PemOrDerInput): void {
    try {
      this.#trust = loadTrustStore(pem);
    } catch (e) {
      throw new OtError("InvalidArgs", (e as Error).message, { cause: e });
    }
    this.#running?.dtls.updatePki(this.#serverPki());
  }

  /**
   * otCoapSecureSetSslAuthMode: verify the peer's certificate (default true) or not. Only
   * before start: afterwards it throws OtError InvalidState.
   */
  setSslAuthMode(verifyPeerCertificate: boolean): void {
    if (this.#state !== "Closed" || this.#starting) throw new OtError("InvalidState", "setSslAuthMode must be called before start");
    this.#verifyPeer = verifyPeerCertificate;
  }

  #serverPsk(): PskServerCredentials | undefined {
    if (this.#pskCredentials) return this.#pskCredentials;
    if (!this.#psk) return undefined;
    const hint = this.#options.pskIdentityHint;
    return pskTable([this.#psk], hint === undefined ? {} : { hint });
  }

  /** The suites OpenThread offers for the credentials set: PSK and/or ECDHE-ECDSA, both CCM_8. */
  #suites(psk: boolean, certificate: boolean): number[] {
    const suites: number[] = [];
    const cert = certificateSuiteId();
    if (certificate && cert !== undefined) suites.push(cert);
    if (psk) suites.push(PSK_CCM8);
    return suites;
  }

  #serverPki(): DtlsServerPki | undefined {
    if (!this.#certificate) return undefined;
    // OpenThread: mbedtls_ssl_conf_authmode(VERIFY_REQUIRED) when verifying — a client must
    // then present a certificate that chains to the CAs set (none set: none is accepted).
    return { credentials: this.#certificate, ...(this.#trust ? { trust: this.#trust } : {}), verifyPeer: this.#verifyPeer };
  }

  #serverDtlsOptions(): DtlsServerOptions {
    const d = this.#options.dtls ?? {};
    const psk = this.#serverPsk();
    // Both CCM_8 suites: the engine offers only those it holds credentials for at hello time.
    const suites = this.#suites(true, true);
    const pki = this.#serverPki();
    return {
      clock: this.#clock,
      cipherSuites: suites,
      ...(psk ? { psk } : {}),
      ...(pki ? { pki } : {}),
      ...(d.maxSessions !== undefined ? { maxSessions: d.maxSessions } : {}),
      ...(d.maxHalfOpen !== undefined ? { maxHalfOpen: d.maxHalfOpen } : {}),
      ...(d.idleTimeoutMs !== undefined ? { idleTimeoutMs: d.idleTimeoutMs } : {}),
      ...(d.handshakeTimeoutMs !== undefined ? { handshakeTimeoutMs: d.handshakeTimeoutMs } : {}),
      ...(d.retransmit ? { retransmit: d.retransmit } : {}),
      ownsLower: false,
    };
  }

  #clientDtlsOptions(): DtlsClientOptions {
    const d = this.#options.dtls ?? {};
    const pki: DtlsClientPki | undefined =
      this.#certificate || this.#trust
        ? {
            ...(this.#certificate ? { credentials: this.#certificate } : {}),
            ...(this.#trust ? { trust: this.#trust } : {}),
            policy: { verifyPeerCert: this.#verifyPeer },
          }
        : undefined;
    return {
      clock: this.#clock,
      cipherSuites: this.#suites(this.#psk !== undefined, this.#certificate !== undefined || this.#trust !== undefined),
      ...(this.#psk ? { psk: { identity: this.#psk.identity, key: this.#psk.key } } : {}),
      ...(pki ? { pki } : {}),
      ...(d.handshakeTimeoutMs !== undefined ? { handshakeTimeoutMs: d.handshakeTimeoutMs } : {}),
      ...(d.retransmit ? { retransmit: d.retransmit } : {}),
      ownsLower: false,
    };
  }

  // ------------------------------------------------------------------ client role

  /**
   * otCoapSecureConnect: starts a DTLS handshake with `sockAddr` from the started port. The
   * outcome is reported to `onConnectEvent` (which also becomes the client-connected
   * callback, as in OpenThread). Throws OtError InvalidState when not started, when a session
   * is active or its guard time runs, or when no PSK / certificate is set.
   */
  connect(sockAddr: { readonly address: string; readonly port: number }, onConnectEvent?: CoapSecureConnectHandler): void {
    const running = this.#running;
    if (!running || this.#state === "Closed") throw new OtError("InvalidState", "CoAP Secure is not started");
    if (this.#state !== "Open") throw new OtError("InvalidState", `a session is ${this.#state === "CloseNotify" ? "closing (guard time)" : "active"}`);
    if (!this.#psk && !this.#certificate) throw new OtError("InvalidState", "no credentials: call setPsk or setCertificate first");
    if (!Number.isInteger(sockAddr.port) || sockAddr.port <= 0 || sockAddr.port > 0xffff) throw new OtError("InvalidArgs", `bad port ${sockAddr.port}`);
    let options: DtlsClientOptions;
    try {
      options = this.#clientDtlsOptions();
    } catch (e) {
      throw new OtError("InvalidArgs", (e as Error).message, { cause: e });
    }
    if (onConnectEvent) this.#connectHandler = onConnectEvent;
    if (this.#remaining > 0) this.#remaining--;
    this.stats.attempts++;
    this.#state = "Initializing";
    const peer = peerFor(running.udp.local, sockAddr);
    const side = running.split.attachClient(peer);
    const slot: ClientSlot = { peer, side, dtls: undefined, layer: undefined, ended: false };
    this.#client = slot;
    this.#state = "Connecting";
    let handshake: Promise<DtlsClient>;
    try {
      handshake = DtlsClient.connect(side, peer, options);
    } catch (e) {
      this.#clientEnded(slot, "DisconnectedError", undefined);
      throw new OtError("InvalidArgs", (e as Error).message, { cause: e });
    }
    handshake.then(
      (client) => {
        if (this.#client !== slot || slot.ended) {
          void client.close();
          return;
        }
        slot.dtls = client;
        const layer = this.#server.attach(client);
        layer.requestSink = this.#sink;
        layer.responseSink = this.#exchanges;
        slot.layer = layer;
        client.onClose = (reason, err) => this.#clientEnded(slot, eventFor(reason), err);
        this.#state = "Connected";
        this.#emit("Connected", { role: "client", peer });
      },
      (err: DtlsError) => this.#clientEnded(slot, "DisconnectedError", err),
    );
  }

  /** otCoapSecureDisconnect: ends the client role's session (close_notify). No-op without one. */
  disconnect(): void {
    const slot = this.#client;
    if (!slot || !CONNECTING_OR_CONNECTED.has(this.#state)) return;
    this.#clientEnded(slot, "DisconnectedLocalClosed", undefined);
  }

  #teardownClient(slot: ClientSlot, running: Running): void {
    slot.ended = true;
    if (slot.dtls) {
      this.#server.detach(slot.dtls); // outstanding requests end with Abort
      void slot.dtls.close(); // close_notify
    }
    running.split.detachClient(slot.side);
    slot.side.detach(); // an unfinished handshake can send nothing more
  }

  #clientEnded(slot: ClientSlot, event: CoapSecureConnectEvent, error: DtlsError | undefined): void {
    const running = this.#running;
    if (this.#client !== slot || slot.ended || !running) return;
    this.#teardownClient(slot, running);
    this.#state = "CloseNotify";
    this.#clientGuard = this.#clock.setTimer(this.#guardTimeMs, () => {
      this.#clientGuard = undefined;
      if (this.#running !== running) return;
      this.#client = undefined;
      this.#state = "Open";
      this.#afterGuard(event, { role: "client", peer: slot.peer, ...(error ? { error } : {}) });
    });
  }

  // ------------------------------------------------------------------ server sessions

  /** Which datagrams reach the DTLS server: ClientHellos only when the peer may start a session. */
  #admit(running: Running, data: Uint8Array, peer: PeerAddress): boolean {
    if (!isClientHello(data)) return true;
    const key = peerKey(peer);
    // A retransmitted hello of a running handshake, or a new one over a live session.
    if (this.#attempting.has(key) || running.dtls.sessionInfo(peer)) return true;
    if (this.#guarded.has(key) || (this.#maxAttempts > 0 && this.#remaining === 0)) {
      this.stats.refusedHellos++;
      return false;
    }
    return true;
  }

  /** A datagram that made the DTLS server start a handshake is one connection attempt. */
  #countHandshakes(running: Running, peer: PeerAddress): void {
    const started = running.dtls.stats.handshakesStarted;
    if (started === running.handshakesSeen) return;
    running.handshakesSeen = started;
    this.#attempting.add(peerKey(peer));
    this.stats.attempts++;
    if (this.#remaining > 0) this.#remaining--;
  }

  #serverEnded(peer: PeerAddress, event: CoapSecureConnectEvent, error: DtlsError | undefined): void {
    const key = peerKey(peer);
    this.#guarded.get(key)?.cancel();
    this.#guarded.set(
      key,
      this.#clock.setTimer(this.#guardTimeMs, () => {
        this.#guarded.delete(key);
        if (!this.#running) return;
        this.#afterGuard(event, { role: "server", peer, ...(error ? { error } : {}) });
      }),
    );
  }

  /**
   * The end of a guard time (SecureTransport::HandleTimer): with the attempts used up and no
   * session left, the agent stops, the auto-stop callback runs and the event becomes
   * DisconnectedMaxAttempts.
   */
  #afterGuard(event: CoapSecureConnectEvent, session: CoapSecureSessionEvent): void {
    const running = this.#running;
    if (
      running &&
      this.#maxAttempts > 0 &&
      this.#remaining === 0 &&
      this.#client === undefined &&
      this.#attempting.size === 0 &&
      this.#guarded.size === 0 &&
      running.dtls.sessionCount === 0 &&
      running.dtls.halfOpenCount === 0
    ) {
      void this.#shutdown();
      try {
        this.#autoStop?.();
      } catch {
        // the application's callback must not break the agent
      }
      event = "DisconnectedMaxAttempts";
    }
    this.#emit(event, session);
  }

  #emit(event: CoapSecureConnectEvent, session: CoapSecureSessionEvent): void {
    try {
      this.#connectHandler?.(event, session);
    } catch {
      // the application's callback must not break the agent
    }
  }

  // ------------------------------------------------------------------ peer certificate

  /**
   * otCoapSecureGetPeerCertificateBase64: the peer's certificate (DER) in base64. Without
   * `peer`: the client role's session. `bufferSize` is the C buffer size: the text plus its
   * NUL must fit (mbedtls_base64_encode), else OtError NoBufs. OtError InvalidState when not
   * connected or the peer sent no certificate (a PSK session).
   */
  getPeerCertificateBase64(bufferSize?: number, peer?: { readonly address: string; readonly port: number }): string {
    const running = this.#running;
    const info = peer && running ? running.dtls.sessionInfo(peerFor(running.udp.local, peer)) : this.#state === "Connected" ? this.#client?.dtls?.sessionInfo() : undefined;
    if (!info) throw new OtError("InvalidState", "not connected");
    const der = info.identity.certificateDer;
    if (!der) throw new OtError("InvalidState", "the peer presented no certificate (not a certificate session)");
    const b64 = Buffer.from(der).toString("base64");
    if (bufferSize !== undefined && bufferSize < b64.length + 1) {
      throw new OtError("NoBufs", `the certificate needs ${b64.length + 1} bytes, the buffer has ${bufferSize}`);
    }
    return b64;
  }

  // ------------------------------------------------------------------ resources

  /** otCoapSecureAddResource: serve `resource.uriPath` (any method). The first added for a path wins. */
  addResource(resource: CoapSecureResource): void {
    const path = normalizePath(resource.uriPath);
    const list = this.#resources.get(path);
    if (list) {
      if (!list.includes(resource)) list.push(resource);
      return;
    }
    this.#resources.set(path, [resource]);
    const handler: Handler = (req) => {
      const r = this.#resources.get(path)?.[0];
      if (!r) return { code: "4.04" };
      return this.#invoke(r.handler, req);
    };
    const def: ResourceDefinition = { get: handler, post: handler, put: handler, delete: handler, fetch: handler, patch: handler, ipatch: handler };
    this.#server.addResource(`/${path}`, def);
  }

  /** otCoapSecureRemoveResource: stop serving this resource object (no-op if not added). */
  removeResource(resource: CoapSecureResource): void {
    const path = normalizePath(resource.uriPath);
    const list = this.#resources.get(path);
    const i = list?.indexOf(resource) ?? -1;
    if (!list || i < 0) return;
    list.splice(i, 1);
    if (list.length === 0) {
      this.#resources.delete(path);
      this.#server.removeResource(`/${path}`);
    }
  }

  /**
   * otCoapSecureAddBlockWiseResource: a resource whose Block1 blocks go to `receiveHook` one
   * by one (2.31 Continue in between) and whose Block2 blocks after the first come from
   * `transmitHook` (see blockwise-server.ts). It takes precedence over a plain resource.
   */
  addBlockWiseResource(resource: CoapSecureBlockwiseResource): void {
    const path = normalizePath(resource.uriPath);
    const list = this.#blockwise.get(path) ?? [];
    if (!list.includes(resource)) list.push(resource);
    this.#blockwise.set(path, list);
  }

  /** otCoapSecureRemoveBlockWiseResource (no-op if not added). */
  removeBlockWiseResource(resource: CoapSecureBlockwiseResource): void {
    const path = normalizePath(resource.uriPath);
    const list = this.#blockwise.get(path);
    const i = list?.indexOf(resource) ?? -1;
    if (!list || i < 0) return;
    list.splice(i, 1);
    if (list.length === 0) this.#blockwise.delete(path);
  }

  /** otCoapSecureSetDefaultHandler: requests no resource matches (undefined: 4.04 again). */
  setDefaultHandler(handler: CoapSecureRequestHandler | undefined): void {
    this.#server.setDefaultHandler(handler ? (req) => this.#invoke(handler, req) : undefined);
  }

  /**
   * otCoapSecureSetClientConnectedCallback: told when a session comes up or goes away — a
   * device connecting to us (role "server") or the session of connect() (role "client").
   */
  setClientConnectedCallback(handler: CoapSecureConnectHandler | undefined): void {
    this.#connectHandler = handler;
  }

  #onRequest(inbound: InboundRequest): void {
    const path = normalizePath(getUriPath(inbound.message));
    const blockwise = this.#blockwise.get(path)?.[0];
    if (blockwise) {
      serveBlockwise(inbound, blockwise, (i, request) => this.#directInfo(i, request), this.stats.blockwise);
      return;
    }
    this.#server.onRequest(inbound);
  }

  /** The MessageInfo of a request answered straight through the message layer. */
  #directInfo(inbound: InboundRequest, request: CoapRequest): MessageInfo {
    return new MessageInfo(inbound.peer, inbound.layer.endpoint.local, inbound.identity, request, (response) => respondDirect(inbound, response));
  }

  /** Runs an OpenThread-style handler inside CoapServer: its sendResponse resolves the handler's promise. */
  #invoke(handler: CoapSecureRequestHandler, request: CoapRequest): Promise<CoapResponse> {
    const local = this.#running?.udp.local ?? request.peer;
    return new Promise<CoapResponse>((resolve, reject) => {
      let answered = false;
      const info = new MessageInfo(request.peer, local, request.identity, request, (response) => {
        if (answered) return false;
        answered = true;
        resolve(response);
        return true;
      });
      try {
        handler(request, info);
      } catch (e) {
        reject(e);
      }
    });
  }

  // ------------------------------------------------------------------ responses

  /**
   * otCoapSecureSendResponse: answers the request `info` came with (piggybacked on its ACK
   * when in time, else a separate response). Throws OtError InvalidArgs for a response that
   * cannot be encoded (a non-response code…), InvalidState when stopped or already answered.
   */
  sendResponse(response: CoapResponse, info: MessageInfo): void {
    if (!this.#running) throw new OtError("InvalidState", "CoAP Secure is not started");
    try {
      renderResponse(response);
    } catch (e) {
      throw new OtError("InvalidArgs", (e as Error).message, { cause: e });
    }
    if (!info.deliver(response)) throw new OtError("InvalidState", "that request was already answered (or is not one)");
  }

  /**
   * otCoapSecureSendResponseBlockWise: answers with block 0 of a body that `transmitHook`
   * produces: Block2 {0, M, SZX}, SZX from the request's Block2 (else `blockSize`, default
   * 1024). Later blocks come from the resource's own transmit hook (addBlockWiseResource), as
   * in OpenThread. Errors as sendResponse, and whatever OtError the hook throws.
   */
  sendResponseBlockWise(response: CoapResponse, info: MessageInfo, transmitHook: CoapBlockwiseTransmitHook, blockSizeBytes = 1024): void {
    const asked = info.request?.options.find((o) => o.number === OptionNumber.Block2);
    const own = strictSzx(blockSizeBytes);
    let szx: number;
    try {
      szx = asked ? Math.min(decodeBlock(asked.value).szx, own) : own;
    } catch (e) {
      throw new OtError("InvalidArgs", (e as Error).message, { cause: e });
    }
    const size = blockSize(szx);
    let out: { readonly block: Uint8Array; readonly more: boolean };
    try {
      out = transmitHook(0, size);
    } catch (e) {
      throw e instanceof OtError ? e : new OtError(otErrorNameOf(e), (e as Error).message, { cause: e });
    }
    if (out.block.length > size) throw new OtError("InvalidArgs", `transmit hook returned ${out.block.length} bytes for a ${size}-byte block`);
    const options = (response.options ?? []).filter((o) => o.number !== OptionNumber.Block2);
    this.sendResponse({ ...response, payload: out.block, options: [...options, blockOption(OptionNumber.Block2, { num: 0, more: out.more, szx })] }, info);
  }

  // ------------------------------------------------------------------ requests

  /**
   * otCoapSecureSendRequest: sends `message` to the client role's peer (or to `options.peer`,
   * an established server session). Returns the message ID — the message's own when
   * non-zero, else a fresh one. `handler` runs once: (response, info, "None"), or (undefined,
   * undefined, "ResponseTimeout" | "Abort"). Throws OtError InvalidState without a session,
   * InvalidArgs for a message that cannot be sent.
   */
  sendRequest(message: CoapSecureRequestMessage, handler?: CoapSecureResponseHandler, options: CoapSecureSendOptions = {}): number {
    const { layer, peer } = this.#target(options.peer);
    return startRequest(this.#deps, { layer, peer, message, handler, timeoutMs: options.timeoutMs ?? this.#requestTimeoutMs });
  }

  /**
   * otCoapSecureSendRequestBlockWise: as sendRequest, with the request body produced block by
   * block by `transmitHook` (Block1) and the response body handed block by block to
   * `receiveHook` (Block2); see requests.ts. The handler gets the last response.
   */
  sendRequestBlockWise(
    message: CoapSecureRequestMessage,
    handler: CoapSecureResponseHandler | undefined,
    transmitHook: CoapBlockwiseTransmitHook | undefined,
    receiveHook: CoapBlockwiseReceiveHook | undefined,
    options: CoapSecureSendOptions = {},
  ): number {
    const { layer, peer } = this.#target(options.peer);
    return startRequest(this.#deps, {
      layer,
      peer,
      message,
      handler,
      timeoutMs: options.timeoutMs ?? this.#requestTimeoutMs,
      ...(transmitHook ? { transmitHook } : {}),
      ...(receiveHook ? { receiveHook } : {}),
      ...(options.blockSize !== undefined ? { blockSize: options.blockSize } : {}),
    });
  }

  #target(to: { readonly address: string; readonly port: number } | undefined): { layer: MessageLayer; peer: PeerAddress } {
    const running = this.#running;
    if (!running) throw new OtError("InvalidState", "CoAP Secure is not started");
    const slot = this.#client;
    if (to) {
      const peer = peerFor(running.udp.local, to);
      if (slot?.layer && this.#state === "Connected" && peerKey(slot.peer) === peerKey(peer)) return { layer: slot.layer, peer: slot.peer };
      if (running.dtls.sessionInfo(peer)) return { layer: running.layer, peer };
      throw new OtError("InvalidState", `no DTLS session with ${peer.address}:${peer.port}`);
    }
    if (slot?.layer && this.#state === "Connected") return { layer: slot.layer, peer: slot.peer };
    throw new OtError("InvalidState", "DTLS connection was not initialized (connect first, or pass a peer)");
  }
}

/** The connect event a DTLS close reason stands for. */
function eventFor(reason: CloseReason): CoapSecureConnectEvent {
  switch (reason) {
    case "peer_close_notify":
    case "replaced":
      return "DisconnectedPeerClosed";
    case "local":
    case "idle_timeout":
      return "DisconnectedLocalClosed";
    default:
      return "DisconnectedError";
  }
}

/** The peer as the socket will see it: IPv4 peers of a dual-stack IPv6 socket are IPv4-mapped. */
function peerFor(local: PeerAddress, to: { readonly address: string; readonly port: number }): PeerAddress {
  if ("family" in to && (to as PeerAddress).family === "Unix") return to as PeerAddress;
  const v6 = to.address.includes(":");
  if (local.family === "IPv6" && !v6) return { address: `::ffff:${to.address}`, port: to.port, family: "IPv6" };
  return { address: to.address, port: to.port, family: v6 ? "IPv6" : "IPv4" };
}
