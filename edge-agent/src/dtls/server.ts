/**
 * `DtlsServer`: a DTLS 1.2 server as a `DatagramEndpoint` (scheme "coaps") over any lower
 * datagram endpoint. The CoAP layers above see plaintext datagrams and the peer's identity.
 *
 * Per datagram, per record:
 *   epoch-0 ClientHello ──▶ same random as a running handshake? ──▶ that handshake (retransmission)
 *        │ no                                             
 *        ▼
 *   cookie valid? ── no ──▶ HelloVerifyRequest (stateless: no per-peer state, never more bytes
 *        │ yes               than the ClientHello — RFC 6347 §4.2.1 anti-amplification)
 *        ▼
 *   limits ──▶ new pending handshake for this address
 *     per-address rate (token bucket, rate-limit.ts) ─ empty ──▶ dropped, counted
 *     maxHalfOpen (libcoap's 100) reached ──▶ dropped, counted
 *     maxSessions reached ──▶ close the least recently active session idle ≥ evictIdleAfterMs
 *                              (close_notify, counted), or drop the hello if none is that idle
 *   anything else ──▶ the peer's pending handshake / established session, or dropped and counted
 *
 * A new handshake from an address with a session does not disturb that session until it
 * completes (a rebooted device reconnects; an attacker cannot tear down a session with a
 * spoofed hello, since the cookie ties the hello to the address's reachability).
 */
import type { DatagramEndpoint, DatagramHandler, PeerAddress } from "../transport/types.js";
import { bytesEqual, ByteReader } from "./codec/bytes.js";
import { ContentType, HandshakeType } from "./constants.js";
import { sessionKey, type SessionKey } from "./session-key.js";
import { DtlsConnection, type CloseReason, type ConnectionEvents, type ConnectionOptions, type SessionInfo } from "./connection.js";
import type { DtlsError } from "./errors.js";
import type { HandshakeConfig } from "./flights/context.js";
import { helloVerifyRequestRecord } from "./flights/index.js";
import { CookieJar } from "./handshake/cookie.js";
import { decodeHandshakeFragment } from "./handshake/header.js";
import { decodeClientHello, type ClientHello } from "./handshake/messages/client-hello.js";
import { resolveServerPki, type DtlsServerPki } from "./key-exchange/pki-options.js";
import type { PskServerCredentials } from "./key-exchange/psk.js";
import { flushSends, resolveCommon, type DtlsCommonOptions, type ResolvedCommon } from "./options.js";
import { decodeRecord, type RawRecord } from "./record/header.js";
import { newStats, type DtlsStats } from "./stats.js";
import { AddressRateLimiter, DEFAULT_HANDSHAKE_RATE, type RateLimitOptions } from "./rate-limit.js";
import { alertName } from "./alert.js";
import type { TimerHandle } from "../util/clock.js";

/** What the server's limits did (next to `DtlsStats`; read by metrics). */
export interface DtlsLimitStats {
  /** Cookie-verified ClientHellos dropped by the per-address handshake rate limit. */
  rateLimited: number;
  /** Idle sessions closed to make room for a new one at `maxSessions`. */
  sessionsEvicted: number;
  /** Failed handshakes by reason: the error code, or `peer_<alert>` for an alert from the peer. */
  readonly handshakeFailures: Map<string, number>;
}

export interface DtlsServerOptions extends DtlsCommonOptions {
  /** PSK credentials (see `pskTable` for a static table). Required for the PSK suites. */
  readonly psk?: PskServerCredentials;
  /**
   * Certificates (required for the ECDHE_ECDSA suites): our chain and key (or a chooser by SNI),
   * and with `verifyPeer` the CAs and policy client certificates are checked against. With
   * both `psk` and `pki` a client gets the suites its own credentials allow (as libcoap).
   */
  readonly pki?: DtlsServerPki;
  /**
   * Most established sessions at once (default 10,000). When full, a new handshake closes the
   * least recently active session idle for `evictIdleAfterMs`; without one the hello is dropped.
   */
  readonly maxSessions?: number;
  /** At `maxSessions`: how long a session must have been idle to be evicted (default 10 s; false: never evict). */
  readonly evictIdleAfterMs?: number | false;
  /** Most handshakes in progress at once (after the cookie exchange; default 100 as libcoap). */
  readonly maxHalfOpen?: number;
  /**
   * Handshakes one source address (IP, any port) may start: a token bucket checked after the
   * cookie exchange (default 10/s, burst 20, 10,000 addresses tracked; false: no limit).
   */
  readonly handshakeRate?: Partial<RateLimitOptions> | false;
  /**
   * Close a session after this long without authenticated input (default 300 s as libcoap; 0:
   * never). One sweep checks all sessions every quarter of it (at most every 10 s).
   */
  readonly idleTimeoutMs?: number;
  /** Cookie secret lifetime (default 60 s; the previous secret is still accepted). */
  readonly cookieSecretRotateMs?: number;
}

interface PeerEntry {
  current: DtlsConnection | undefined;
  pending: DtlsConnection | undefined;
  /** Set when the entry leaves #peers, so a stale #byPeer hit falls back to the keyed lookup. */
  removed?: true;
}

export class DtlsServer implements DatagramEndpoint {
  readonly scheme = "coaps" as const;
  /** Receives each application-data record's plaintext with the authenticated peer. */
  onDatagram: DatagramHandler = () => {};
  /** A handshake completed (a session is now usable with `send`). */
  onSessionEstablished: (peer: PeerAddress, info: SessionInfo) => void = () => {};
  /** An established session ended (`error` for fatal alerts). */
  onSessionClosed: (peer: PeerAddress, reason: CloseReason, error?: DtlsError) => void = () => {};
  /** A handshake failed (alert sent or received, timeout, or replaced by a newer hello). */
  onHandshakeFailed: (peer: PeerAddress, error: DtlsError) => void = () => {};
  readonly stats: DtlsStats = newStats();
  readonly limitStats: DtlsLimitStats = { rateLimited: 0, sessionsEvicted: 0, handshakeFailures: new Map() };

  readonly #lower: DatagramEndpoint;
  readonly #common: ResolvedCommon;
  #config: HandshakeConfig;
  readonly #mtu: number | undefined;
  readonly #maxSessions: number;
  readonly #maxHalfOpen: number;
  readonly #evictIdleAfterMs: number | false;
  readonly #rate: AddressRateLimiter | undefined;
  readonly #idleTimeoutMs: number;
  readonly #cookies: CookieJar;
  /** Sessions and handshakes by peer address and port (session-key.ts). */
  readonly #peers = new Map<SessionKey, PeerEntry>();
  /**
   * The entry of each connection's peer object (conn.peer). The layers above hand that same
   * object back on every send and maxMessageSize, so those find the session by identity instead
   * of building the "address|port" string and hashing it (issue 7: three keyed lookups were
   * ~13 % of the request path). Weak: it holds no peer object alive.
   */
  readonly #byPeer = new WeakMap<PeerAddress, PeerEntry>();
  #sessions = 0;
  #halfOpen = 0;
  #closed = false;
  /** Bytes the current datagram may still draw before the cookie exchange (anti-amplification). */
  #unverifiedBudget = 0;
  /** What every connection shares (rebuilt when the credentials change). */
  #connOptions: ConnectionOptions;
  readonly #events: ConnectionEvents;
  /** The idle sweep: one timer for all sessions, armed while there are any. */
  #sweepTimer: TimerHandle | undefined;
  readonly #sweepMs: number;

  constructor(lower: DatagramEndpoint, options: DtlsServerOptions = {}) {
    this.#lower = lower;
    this.#common = resolveCommon(options);
    this.#config = {
      suites: this.#common.suites,
      random: this.#common.random,
      groups: this.#common.groups,
      wallClock: this.#common.wallClock,
      ...(options.psk ? { serverPsk: options.psk } : {}),
      ...(options.pki ? { serverPki: resolveServerPki(options.pki) } : {}),
    };
    this.#mtu = options.mtu;
    this.#maxSessions = options.maxSessions ?? 10_000;
    this.#maxHalfOpen = options.maxHalfOpen ?? 100;
    this.#evictIdleAfterMs = options.evictIdleAfterMs ?? 10_000;
    this.#rate = options.handshakeRate === false ? undefined : new AddressRateLimiter(this.#common.clock, { ...DEFAULT_HANDSHAKE_RATE, ...options.handshakeRate });
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 300_000;
    this.#cookies = new CookieJar(this.#common.clock, options.cookieSecretRotateMs ?? 60_000, this.#common.random);
    // A session idle for idleTimeoutMs closes within a quarter of it more (at most 10 s later).
    this.#sweepMs = Math.min(10_000, Math.max(250, Math.floor((this.#idleTimeoutMs || 40_000) / 4)));
    this.#connOptions = this.#makeConnOptions();
    this.#events = this.#makeEvents();
    lower.onDatagram = (data, peer) => this.#onDatagram(data, peer);
  }

  get local(): PeerAddress {
    return this.#lower.local;
  }

  /** Established sessions. */
  get sessionCount(): number {
    return this.#sessions;
  }

  /** Handshakes in progress (each past the cookie exchange). */
  get halfOpenCount(): number {
    return this.#halfOpen;
  }

  /** Source addresses the handshake rate limiter tracks (bounded by `handshakeRate.maxAddresses`). */
  get rateLimitedAddresses(): number {
    return this.#rate?.size ?? 0;
  }

  /** Entries of the per-address map (sessions and handshakes; bounded by maxSessions + maxHalfOpen). */
  get peerEntries(): number {
    return this.#peers.size;
  }

  /** Encrypts `data` as one record for the peer's session; dropped and counted without one. */
  send(peer: PeerAddress, data: Uint8Array): void {
    const conn = this.#entryOf(peer)?.current;
    if (!conn) {
      this.stats.appSendDropped++;
      return;
    }
    conn.send(data);
  }

  /** The lower endpoint's datagram size minus this peer's record overhead (worst case before a session). */
  maxMessageSize(peer: PeerAddress): number {
    const conn = this.#entryOf(peer)?.current;
    if (conn) return conn.maxPlaintext();
    return Math.max(0, this.#budget(peer) - this.#common.worstOverhead);
  }

  /** What the peer's established session negotiated. */
  sessionInfo(peer: PeerAddress): SessionInfo | undefined {
    return this.#entryOf(peer)?.current?.info;
  }

  /** Every established session. */
  sessions(): SessionInfo[] {
    const out: SessionInfo[] = [];
    for (const e of this.#peers.values()) if (e.current?.info) out.push(e.current.info);
    return out;
  }

  /**
   * Replaces the PSK credentials for handshakes that start from now on (e.g. a SIGHUP reload);
   * established sessions keep the keys they negotiated.
   */
  updatePsk(psk: PskServerCredentials | undefined): void {
    const { serverPsk: _old, ...rest } = this.#config;
    this.#config = psk ? { ...rest, serverPsk: psk } : rest;
    this.#connOptions = this.#makeConnOptions();
  }

  /**
   * A credential reload (SIGHUP): the new PSK credentials serve handshakes from now on, and
   * every established PSK session whose identity the new credentials no longer know — or map to
   * a different key — is closed with close_notify. Other sessions continue untouched. Returns
   * how many sessions were closed.
   */
  reloadPsk(psk: PskServerCredentials | undefined): number {
    const previous = this.#config.serverPsk;
    this.updatePsk(psk);
    let closed = 0;
    for (const e of [...this.#peers.values()]) {
      const id = e.current?.info?.pskIdentity;
      if (id === undefined || !e.current) continue;
      const sni = e.current.info?.sni;
      const key = psk?.lookup(id, sni);
      const old = previous?.lookup(id, sni);
      if (key === undefined || (old !== undefined && !bytesEqual(old, key))) {
        e.current.close("local");
        closed++;
      }
    }
    return closed;
  }

  /**
   * Replaces the certificates, CAs and policy for handshakes that start from now on (a SIGHUP
   * reload, OpenThread SetCertificate); established sessions are not affected.
   */
  updatePki(pki: DtlsServerPki | undefined): void {
    const { serverPki: _old, ...rest } = this.#config;
    this.#config = pki ? { ...rest, serverPki: resolveServerPki(pki) } : rest;
    this.#connOptions = this.#makeConnOptions();
  }

  /** Ends the peer's session (close_notify) and any handshake in progress with it. */
  closeSession(peer: PeerAddress): void {
    const e = this.#entryOf(peer);
    e?.pending?.close("local");
    e?.current?.close("local");
  }

  /** Sends close_notify to every peer, drops all state, and closes the lower endpoint if owned. */
  async close(): Promise<void> {
    if (this.#closed) return;
    for (const e of [...this.#peers.values()]) {
      e.pending?.close("local");
      e.current?.close("local");
    }
    this.#closed = true;
    for (const e of this.#peers.values()) e.removed = true;
    this.#peers.clear();
    this.#sweepTimer?.cancel();
    this.#sweepTimer = undefined;
    if (this.#common.ownsLower) {
      await flushSends(); // let the close_notify datagrams leave before the socket closes
      await this.#lower.close();
    }
  }

  /** The peer's entry: by object identity when `peer` is a connection's own, else by address and port. */
  #entryOf(peer: PeerAddress): PeerEntry | undefined {
    const e = this.#byPeer.get(peer);
    return e && !e.removed ? e : this.#peers.get(sessionKey(peer));
  }

  /**
   * Drops the entry of `peer` (the connection that left it last). Its #byPeer link goes at once:
   * the transport may keep the peer object for a long time (the native engine's peer cache holds
   * up to 131,072), and a weak entry would keep the dead entry with it until then. Another object
   * for the same address (node:dgram makes one per datagram) may still link here: `removed`
   * sends that one to the keyed lookup.
   */
  #removeEntry(key: SessionKey, e: PeerEntry, peer: PeerAddress): void {
    e.removed = true;
    this.#peers.delete(key);
    this.#byPeer.delete(peer);
  }

  #budget(peer: PeerAddress): number {
    return this.#mtu ?? this.#lower.maxMessageSize(peer);
  }

  #onDatagram(data: Uint8Array, peer: PeerAddress): void {
    if (this.#closed) return;
    this.stats.datagramsIn++;
    // The address-and-port key is built only when needed: a transport that hands up one object per
    // peer (the native UDP engine) lets an established session be found by identity in #byPeer.
    let key: SessionKey | undefined;
    // Anti-amplification budget for this datagram: all HelloVerifyRequests it draws together
    // (several hellos packed in one datagram) stay within its size, not each one.
    this.#unverifiedBudget = data.length;
    // Record by record (§4.1.1: several per datagram), as they are delimited: no array of them.
    const reader = new ByteReader(data);
    while (reader.remaining > 0) {
      const rec = decodeRecord(reader);
      if (!rec) {
        this.stats.recordsDropped++; // the rest of the datagram cannot be delimited
        return;
      }
      this.stats.recordsIn++;
      const h = rec.header;
      if (h.epoch === 0 && h.type === ContentType.handshake && rec.fragment[0] === HandshakeType.client_hello) {
        this.#onClientHello(peer, (key ??= sessionKey(peer)), rec);
        continue;
      }
      const entry = this.#entryOf(peer);
      if (!entry) {
        this.stats.recordsDropped++;
        continue;
      }
      this.#route(entry, rec);
    }
  }

  #route(entry: PeerEntry, rec: RawRecord): void {
    const { pending, current } = entry;
    const { header, fragment } = rec;
    if (header.epoch === 0 || !current || !pending) {
      // Epoch 0 is the handshake's; with only one connection there is no choice to make.
      const conn = header.epoch === 0 ? (pending ?? current) : (current ?? pending);
      conn!.handleRecord(header, fragment);
      return;
    }
    // A session and a new handshake with it: the record decrypts under one of their keys.
    if (pending.hasProtectedEpoch && pending.handleRecord(header, fragment, true) === "ok") return;
    if (current.handleRecord(header, fragment, true) === "ok") return;
    if (pending.hasProtectedEpoch) pending.undecryptable(header);
    else current.undecryptable(header);
  }

  #onClientHello(peer: PeerAddress, key: SessionKey, rec: RawRecord): void {
    let ch: ClientHello;
    let messageSeq: number;
    try {
      const r = new ByteReader(rec.fragment);
      const f = decodeHandshakeFragment(r);
      // Stateless processing needs the whole hello in one fragment (OpenSSL's DTLSv1_listen does the same).
      if (f.offset !== 0 || f.data.length !== f.length || r.remaining !== 0) throw new Error("fragmented ClientHello");
      ch = decodeClientHello(f.data);
      messageSeq = f.seq;
    } catch {
      this.stats.recordsDropped++;
      return;
    }
    const entry = this.#peers.get(key);
    if (entry?.pending?.hasClientRandom(ch.random)) {
      entry.pending.handleRecord(rec.header, rec.fragment); // a retransmission: the handshake re-sends its flight
      return;
    }
    if (entry?.current?.hasClientRandom(ch.random)) {
      this.stats.recordsDropped++; // a late copy of the hello that made the current session
      return;
    }
    if (ch.cookie.length === 0 || !this.#cookies.verify(peer, ch)) {
      if (ch.cookie.length > 0) this.stats.cookiesRejected++;
      this.#sendHelloVerifyRequest(peer, ch, rec.header.sequence, messageSeq);
      return;
    }
    if (this.#rate && !this.#rate.take(peer.address)) {
      this.limitStats.rateLimited++;
      return;
    }
    if (!entry?.pending && this.#halfOpen >= this.#maxHalfOpen) {
      this.stats.halfOpenRejected++;
      return;
    }
    if (!entry?.current && this.#sessions >= this.#maxSessions && !this.#evictIdle()) {
      this.stats.sessionsRejected++;
      return;
    }
    entry?.pending?.close("local"); // the client gave up on that handshake and started over
    const conn = new DtlsConnection(this.#connOptions, this.#events, peer, { recordSequence: rec.header.sequence, messageSeq, clientHello: ch });
    const e = this.#peers.get(key) ?? { current: undefined, pending: undefined };
    e.pending = conn;
    this.#peers.set(key, e);
    this.#byPeer.set(peer, e); // conn.peer
    this.#halfOpen++;
    conn.start();
    conn.handleRecord(rec.header, rec.fragment);
  }

  /**
   * Closes (close_notify) the least recently active session if it has been idle for
   * `evictIdleAfterMs`. A linear scan: it runs only at the session limit, after the cookie
   * exchange and the rate limit, so its cost is bounded by the handshake rate.
   */
  #evictIdle(): boolean {
    if (this.#evictIdleAfterMs === false) return false;
    let oldest: DtlsConnection | undefined;
    for (const e of this.#peers.values()) {
      if (e.current && (!oldest || e.current.lastActivity < oldest.lastActivity)) oldest = e.current;
    }
    if (!oldest || this.#common.clock.now() - oldest.lastActivity < this.#evictIdleAfterMs) return false;
    this.limitStats.sessionsEvicted++;
    oldest.close("local");
    return true;
  }

  #sendHelloVerifyRequest(peer: PeerAddress, ch: ClientHello, recordSequence: number, messageSeq: number): void {
    const record = helloVerifyRequestRecord(this.#cookies.make(peer, ch), recordSequence, messageSeq);
    // Before the cookie exchange the peer's address is unproven: never answer with more bytes than arrived.
    if (record.length > this.#unverifiedBudget) {
      this.stats.amplificationDropped++;
      return;
    }
    this.#unverifiedBudget -= record.length;
    this.stats.cookiesSent++;
    this.#lower.send(peer, record);
  }

  #makeConnOptions(): ConnectionOptions {
    return {
      role: "server",
      config: this.#config,
      clock: this.#common.clock,
      retransmit: this.#common.retransmit,
      handshakeTimeoutMs: this.#common.handshakeTimeoutMs,
      datagramBudget: (peer) => this.#budget(peer),
      stats: this.stats,
    };
  }

  /** One events object for every connection (a session carries no closures of its own). */
  #makeEvents(): ConnectionEvents {
    return {
      send: (datagram, conn) => this.#lower.send(conn.peer, datagram),
      established: (conn) => {
        const e = this.#entryOf(conn.peer);
        if (!e || e.pending !== conn) return;
        e.pending = undefined;
        this.#halfOpen--;
        const old = e.current;
        e.current = conn;
        if (old) old.close("replaced", false);
        else this.#sessions++;
        this.#armSweep();
        this.onSessionEstablished(conn.peer, conn.info!);
      },
      data: (plaintext, conn) => this.onDatagram(plaintext, conn.peer, conn.info!.identity),
      handshakeFailed: (conn, err) => {
        const key = sessionKey(conn.peer);
        const e = this.#peers.get(key);
        if (e?.pending === conn) {
          e.pending = undefined;
          this.#halfOpen--;
          if (!e.current) this.#removeEntry(key, e, conn.peer);
        }
        const reason = err.code === "peer_alert" && err.alert ? `peer_${alertName(err.alert.description)}` : err.code;
        const failures = this.limitStats.handshakeFailures;
        failures.set(reason, (failures.get(reason) ?? 0) + 1);
        this.onHandshakeFailed(conn.peer, err);
      },
      closed: (conn, reason, err) => {
        const key = sessionKey(conn.peer);
        const e = this.#peers.get(key);
        if (e?.current === conn) {
          e.current = undefined;
          this.#sessions--;
          if (!e.pending) this.#removeEntry(key, e, conn.peer);
        }
        this.onSessionClosed(conn.peer, reason, err);
      },
    };
  }

  #armSweep(): void {
    if (this.#sweepTimer || this.#closed) return;
    this.#sweepTimer = this.#common.clock.setTimer(this.#sweepMs, () => {
      this.#sweepTimer = undefined;
      const now = this.#common.clock.now();
      // Closing a session deletes its entry while iterating, which Map iteration allows.
      for (const e of this.#peers.values()) e.current?.sweep(now, this.#idleTimeoutMs);
      if (this.#sessions > 0) this.#armSweep();
    });
  }
}
