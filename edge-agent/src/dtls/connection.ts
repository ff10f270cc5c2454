/**
 * One DTLS association with one peer, either role: the record layer, handshake reassembly, the
 * handshaker, alerts, application data. Server and client endpoints route datagrams to it.
 *
 * Input rules (RFC 6347 §4.1.2.7): a record that does not parse, is a replay, or does not
 * authenticate is dropped and counted — no alert, no teardown. The one exception follows
 * mbedTLS: while waiting for the peer's Finished, an epoch-1 *handshake* record that fails to
 * authenticate means the keys differ (wrong PSK), and the handshake ends with bad_record_mac
 * instead of timing out. Only a handshake record: an address:port is reused (a device restarts,
 * a client socket closes and the OS hands its port to the next one), and the previous session's
 * last records — typically the server's close_notify answering the old socket's close_notify —
 * reach the new handshake; they must be dropped like any other stray record, not end it. For the
 * same reason only a handshake record (the Finished that overtook ClientKeyExchange) is held
 * while the next epoch's keys do not exist yet. After the handshake, unprotected (epoch 0)
 * alerts are ignored: anyone can forge them.
 *
 * Memory: a gateway holds many idle sessions, so once the handshake completes everything of it is
 * dropped — context, transcript, reassembler, handshaker and its timers, buffered records —
 * except what the record layer needs, the SessionInfo, the client random (a late copy of the
 * hello is recognised by it) and, on the server, its last flight and epoch 0's record state
 * until the client shows the flight arrived (first application record) or FINAL_FLIGHT_KEEP_MS
 * pass (RFC 6347 §4.2.4). Idle timeouts are the endpoint's sweep (`sweep`), not a timer per
 * session.
 */
import type { Clock } from "../util/clock.js";
import type { PeerAddress, PeerIdentity } from "../transport/types.js";
import { AlertDescription, AlertLevel, decodeAlert, encodeAlert, type Alert } from "./alert.js";
import { bytesEqual } from "./codec/bytes.js";
import { ContentType, HANDSHAKE_HEADER_LENGTH, HandshakeType, MAX_PLAINTEXT, ProtocolVersion } from "./constants.js";
import { DtlsError } from "./errors.js";
import { HandshakeContext, type HandshakeConfig, type Role } from "./flights/context.js";
import type { OutgoingItem } from "./flights/types.js";
import { Handshaker, type FinalFlight, type RetransmitOptions } from "./handshaker.js";
import { decodeHandshakeFragments, fragmentMessage } from "./handshake/header.js";
import { HandshakeReassembler } from "./handshake/reassembler.js";
import type { ClientHello } from "./handshake/messages/client-hello.js";
import type { RecordHeader } from "./record/header.js";
import { RecordLayer } from "./record/record-layer.js";
import type { DtlsStats } from "./stats.js";

/** Why a session or handshake ended. */
export type CloseReason =
  | "local" // closeSession() / close()
  | "peer_close_notify" // the peer sent close_notify
  | "fatal_alert" // a fatal alert, sent or received
  | "idle_timeout"
  | "replaced" // a new handshake from the same address completed
  | "sequence_exhausted";

/** What a session negotiated. */
export interface SessionInfo {
  readonly peer: PeerAddress;
  readonly role: Role;
  readonly identity: PeerIdentity;
  readonly pskIdentity: string | undefined;
  /** Server: the identity hint we sent; client: the one we received. */
  readonly pskIdentityHint: string | undefined;
  readonly cipherSuite: { readonly id: number; readonly name: string };
  readonly sni: string | undefined;
  /**
   * The peer's leaf certificate (DER) when an ECDHE_ECDSA suite ran and the peer sent one —
   * also when it was not verified (anonymous client). OpenThread GetPeerCertificateBase64.
   */
  readonly peerCertificateDer?: Uint8Array;
  /** The ECDHE group of an ECDHE_ECDSA session. */
  readonly ecdheGroup?: "secp256r1" | "x25519";
  readonly extendedMasterSecret: boolean;
  /** Clock time (ms) when the handshake completed. */
  readonly establishedAt: number;
}

/**
 * Callbacks of the endpoint that owns connections; one object can serve all of them (each call
 * names the connection), so a session carries no closures of its own.
 */
export interface ConnectionEvents {
  /** One datagram to the peer. */
  send(datagram: Uint8Array, conn: DtlsConnection): void;
  established(conn: DtlsConnection): void;
  data(plaintext: Uint8Array, conn: DtlsConnection): void;
  handshakeFailed(conn: DtlsConnection, err: DtlsError): void;
  closed(conn: DtlsConnection, reason: CloseReason, err?: DtlsError): void;
}

/** What every connection of one endpoint shares (one object per endpoint, not per session). */
export interface ConnectionOptions {
  readonly role: Role;
  readonly config: HandshakeConfig;
  readonly clock: Clock;
  readonly retransmit: RetransmitOptions;
  readonly handshakeTimeoutMs: number;
  /** The largest datagram we may send to `peer` (flights are fragmented and packed to fit). */
  readonly datagramBudget: (peer: PeerAddress) => number;
  readonly stats: DtlsStats;
}

/** Server: the ClientHello's record sequence number and message_seq (RFC 6347 §4.2.1). */
export interface ConnectionStart {
  readonly recordSequence: number;
  readonly messageSeq: number;
  /**
   * That ClientHello as the endpoint decoded it for the cookie check, so flight 0 does not
   * decode it again. Its fields may be views into the datagram: used only while it is handled.
   */
  readonly clientHello?: ClientHello;
}

type State = "handshaking" | "established" | "closed";

/** Protected records from the next epoch held until its keys exist (reordered flight 5 / 6). */
const MAX_BUFFERED_RECORDS = 8;

/**
 * How long the server keeps its last flight for a client that sends no application data
 * (RFC 6347 §4.2.4 asks for at least twice the TCP MSL: 2 × 2 min).
 */
export const FINAL_FLIGHT_KEEP_MS = 240_000;

/** Everything that exists only while the handshake runs. */
interface HandshakeState {
  readonly ctx: HandshakeContext;
  readonly reassembler: HandshakeReassembler;
  readonly handshaker: Handshaker;
  /** Made for the first record that has to wait (rare: most handshakes never need it). */
  buffered: { header: RecordHeader; fragment: Uint8Array }[] | undefined;
}

/** SessionInfo.cipherSuite, one frozen object per suite. */
const suiteNames = new Map<number, SessionInfo["cipherSuite"]>();
function suiteName(id: number, name: string): SessionInfo["cipherSuite"] {
  let v = suiteNames.get(id);
  if (!v) suiteNames.set(id, (v = Object.freeze({ id, name })));
  return v;
}

export class DtlsConnection {
  readonly peer: PeerAddress;
  readonly #options: ConnectionOptions;
  readonly #events: ConnectionEvents;
  #state: State = "handshaking";
  readonly #records: RecordLayer;
  /** Dropped when the handshake ends. */
  #hs: HandshakeState | undefined;
  /** Established: the message_seq the peer's next handshake message would carry. */
  #peerNextSeq = 0;
  /** Established server: our last flight, kept for the client's retransmissions (§4.2.4). */
  #final: FinalFlight | undefined;
  /**
   * Established server: the client random as a latin1 string — in the JS heap, so an idle
   * session holds no ArrayBuffer (and no native backing store) for it.
   */
  #clientRandom: string | undefined;
  #info: SessionInfo | undefined;
  #lastActivity: number;

  constructor(options: ConnectionOptions, events: ConnectionEvents, peer: PeerAddress, start?: ConnectionStart) {
    this.peer = peer;
    this.#options = options;
    this.#events = events;
    this.#records = new RecordLayer(start?.recordSequence ?? 0);
    const ctx = new HandshakeContext(options.role, options.config, this.#records);
    ctx.nextSendSeq = start?.messageSeq ?? 0;
    ctx.clientHello = start?.clientHello;
    this.#lastActivity = options.clock.now();
    const handshaker = new Handshaker(
      ctx,
      {
        sendFlight: (items, retransmission) => this.#sendFlight(items, retransmission),
        onFinished: () => this.#onHandshakeFinished(),
        onError: (err) => this.#fail(err),
      },
      options.clock,
      options.retransmit,
      options.handshakeTimeoutMs,
      options.role === "client" ? "flight1" : "flight0",
    );
    this.#hs = { ctx, reassembler: new HandshakeReassembler(start?.messageSeq ?? 0), handshaker, buffered: undefined };
  }

  get role(): Role {
    return this.#options.role;
  }

  get state(): State {
    return this.#state;
  }

  get established(): boolean {
    return this.#state === "established";
  }

  get info(): SessionInfo | undefined {
    return this.#info;
  }

  /** Server: whether `random` is the client random of the hello this connection answers (a retransmission, not a new hello). */
  hasClientRandom(random: Uint8Array): boolean {
    const hs = this.#hs;
    if (hs) return bytesEqual(hs.ctx.clientRandom, random);
    return this.#clientRandom !== undefined && this.#clientRandom === latin1(random);
  }

  get lastActivity(): number {
    return this.#lastActivity;
  }

  /** True once epoch-1 read keys exist (a protected record may be for this connection). */
  get hasProtectedEpoch(): boolean {
    return this.#records.hasReadEpoch(1);
  }

  /** The largest application payload one record can carry within the datagram budget. */
  maxPlaintext(): number {
    const overhead = this.#records.overhead(this.#records.hasWriteEpoch(1) ? 1 : 0);
    return Math.max(0, Math.min(MAX_PLAINTEXT, this.#options.datagramBudget(this.peer) - overhead));
  }

  /** Starts the handshake (client: sends flight 1; server: waits for the ClientHello). */
  start(): void {
    this.#options.stats.handshakesStarted++;
    this.#hs?.handshaker.start();
  }

  /**
   * The owning endpoint's periodic check (instead of a timer per session): closes an
   * established session idle for `idleTimeoutMs` (> 0) with close_notify, and forgets the final
   * flight once FINAL_FLIGHT_KEEP_MS have passed. True if the session was closed.
   */
  sweep(now: number, idleTimeoutMs: number): boolean {
    if (this.#state !== "established") return false;
    if (this.#final && now - this.#final.lastSendAt >= FINAL_FLIGHT_KEEP_MS) this.#forgetFinalFlight();
    if (idleTimeoutMs <= 0 || now - this.#lastActivity < idleTimeoutMs) return false;
    this.#options.stats.idleTimeouts++;
    this.close("idle_timeout", true);
    return true;
  }

  /** @internal for tests: whether handshake state is still held (false once established). */
  get holdsHandshakeState(): boolean {
    return this.#hs !== undefined;
  }

  /**
   * Handles one record. With `probe`, a record that fails to authenticate is reported as
   * "undecryptable" without being counted, so the server can try another connection of the same
   * peer (a running session while a new handshake is in progress).
   */
  handleRecord(header: RecordHeader, fragment: Uint8Array, probe = false): "ok" | "undecryptable" {
    if (this.#state === "closed") return "ok";
    const stats = this.#options.stats;
    const hs = this.#hs;
    const plaintext = this.#records.open(header, fragment);
    if (typeof plaintext === "string") {
      if (plaintext === "decrypt") {
        if (probe) return "undecryptable";
        this.undecryptable(header);
      } else if (plaintext === "replay") {
        stats.replaysDropped++;
      } else if (header.epoch === 1 && header.type === ContentType.handshake && hs && (hs.buffered?.length ?? 0) < MAX_BUFFERED_RECORDS) {
        // Epoch-1 record before our keys (e.g. Finished overtook ClientKeyExchange): hold it.
        (hs.buffered ??= []).push({ header, fragment: Uint8Array.from(fragment) });
        stats.recordsBuffered++;
      } else {
        stats.recordsDropped++;
      }
      return "ok";
    }
    this.#lastActivity = this.#options.clock.now();
    this.#dispatch(header, plaintext);
    // `hs`, not `this.#hs`: records held for epoch 1 still count after the handshake ended.
    if (hs?.buffered !== undefined && this.#records.hasReadEpoch(1) && this.state !== "closed") {
      const held = hs.buffered;
      hs.buffered = undefined;
      for (const r of held) this.handleRecord(r.header, r.fragment);
    }
    return "ok";
  }

  /** A record failed to authenticate (counted; fatal only for a handshake record while awaiting the peer's Finished). */
  undecryptable(header: RecordHeader): void {
    this.#options.stats.decryptFailures++;
    if (this.#state === "handshaking" && header.epoch === 1 && header.type === ContentType.handshake && this.#hs?.handshaker.awaitingProtectedMessage) {
      this.#fail(DtlsError.fatal("bad_record_mac", "the peer's protected handshake record does not authenticate (different keys?)"));
    }
  }

  /** Sends one application record. False (counted) without an established session or if too big. */
  send(data: Uint8Array): boolean {
    const stats = this.#options.stats;
    if (this.#state !== "established" || data.length > MAX_PLAINTEXT) {
      stats.appSendDropped++;
      return false;
    }
    let record: Uint8Array;
    try {
      record = this.#records.seal(ContentType.application_data, 1, data);
    } catch (err) {
      this.close("sequence_exhausted", false, err instanceof DtlsError ? err : undefined);
      stats.appSendDropped++;
      return false;
    }
    stats.appRecordsOut++;
    this.#events.send(record, this);
    return true;
  }

  /**
   * Ends the association. An established session sends close_notify first (RFC 5246 §7.2.1)
   * unless `notify` is false; a handshake in progress is reported as failed ("closed").
   */
  close(reason: CloseReason, notify = true, err?: DtlsError): void {
    if (this.#state === "closed") return;
    const wasEstablished = this.#state === "established";
    if (notify && wasEstablished) this.#sendAlert({ level: AlertLevel.warning, description: AlertDescription.close_notify });
    this.#state = "closed";
    this.#hs?.handshaker.cancel();
    this.#hs = undefined;
    this.#final = undefined;
    if (wasEstablished) {
      this.#options.stats.sessionsClosed++;
      this.#events.closed(this, reason, err);
    } else {
      this.#options.stats.handshakesFailed++;
      this.#events.handshakeFailed(this, err ?? new DtlsError("closed", "closed before the handshake completed"));
    }
  }

  #dispatch(header: RecordHeader, plaintext: Uint8Array): void {
    switch (header.type) {
      case ContentType.handshake:
        return this.#onHandshakeRecord(header.epoch, plaintext);
      case ContentType.application_data:
        // Application data only in an established session and only protected (epoch ≥ 1).
        if (this.#state !== "established" || header.epoch === 0) {
          this.#options.stats.recordsDropped++;
          return;
        }
        // The client sends data only after our Finished arrived: no need to keep our last flight.
        if (this.#final) this.#forgetFinalFlight();
        this.#options.stats.appRecordsIn++;
        this.#events.data(plaintext, this);
        return;
      case ContentType.alert:
        return this.#onAlert(header.epoch, plaintext);
      case ContentType.change_cipher_spec:
        // struct { enum { change_cipher_spec(1), (255) } type; }. The epoch switch itself is
        // implied by the record epoch (keys are installed when derived), so it is only checked.
        if (plaintext.length !== 1 || plaintext[0] !== 1) this.#options.stats.recordsDropped++;
        return;
      default:
        this.#options.stats.recordsDropped++;
    }
  }

  #onHandshakeRecord(epoch: number, plaintext: Uint8Array): void {
    const stats = this.#options.stats;
    let fragments;
    try {
      fragments = decodeHandshakeFragments(plaintext);
    } catch {
      stats.recordsDropped++;
      return;
    }
    for (const f of fragments) {
      if (this.#state === "closed") return;
      const lastFragment = f.offset + f.data.length === f.length;
      const hs = this.#hs;
      if (this.#state === "established" || !hs) {
        // A new handshake inside the session (HelloRequest, or a ClientHello in epoch 1):
        // RFC 5746 §4 / RFC 5246 §7.2.2 — we do not renegotiate; say so with a warning.
        if (epoch > 0 && (f.type === HandshakeType.hello_request || f.type === HandshakeType.client_hello)) {
          if (lastFragment) this.#sendAlert({ level: AlertLevel.warning, description: AlertDescription.no_renegotiation });
          continue;
        }
        if (f.seq >= this.#peerNextSeq) {
          stats.recordsDropped++;
          continue;
        }
        // §4.2.4: the peer re-sent its last flight, so it missed ours: re-send it (once per burst).
        if (lastFragment) this.#resendFinalFlight(f.seq);
        continue;
      }
      const result = hs.reassembler.push(f, epoch);
      if (result === "old") {
        if (lastFragment) hs.handshaker.peerRetransmitted(f.seq);
        continue;
      }
      if (result === "dropped") {
        stats.recordsDropped++;
        continue;
      }
      for (let msg = hs.reassembler.pop(); msg; msg = hs.reassembler.pop()) {
        hs.handshaker.receive(msg);
        if (this.#state !== "handshaking") break;
      }
    }
  }

  /**
   * Server: the client has our last flight (or stopped asking for it). Epoch 0 goes with it:
   * after the handshake the only epoch-0 records are retransmissions of the client's flight,
   * which asked for that flight again, and unprotected alerts, which are ignored (both now
   * dropped as "no_epoch"); its read and write state is ~70 bytes per idle session (issue 7).
   */
  #forgetFinalFlight(): void {
    this.#final = undefined;
    this.#records.retireEpoch0();
  }

  #resendFinalFlight(seq: number): void {
    const final = this.#final;
    if (!final || seq !== final.peerFlightEnd) return;
    const now = this.#options.clock.now();
    if (now === final.lastSendAt) return;
    final.lastSendAt = now;
    this.#sendFlight(final.items, true);
  }

  #onAlert(epoch: number, plaintext: Uint8Array): void {
    let alert: Alert;
    try {
      alert = decodeAlert(plaintext);
    } catch {
      this.#options.stats.recordsDropped++;
      return;
    }
    if (this.#state === "established" && epoch === 0) {
      this.#options.stats.recordsDropped++;
      return;
    }
    this.#options.stats.alertsReceived++;
    if (alert.description === AlertDescription.close_notify) {
      // RFC 5246 §7.2.1: answer with our own close_notify and close.
      this.close("peer_close_notify", true);
      return;
    }
    if (alert.level === AlertLevel.fatal) this.#fail(DtlsError.fromPeerAlert(alert));
    // Warnings (e.g. no_renegotiation) change nothing.
  }

  #fail(err: DtlsError): void {
    if (this.#state === "closed") return;
    if (err.alert && err.code !== "peer_alert") this.#sendAlert(err.alert);
    this.close("fatal_alert", false, err);
  }

  #onHandshakeFinished(): void {
    const hs = this.#hs;
    if (this.#state !== "handshaking" || !hs) return;
    const ctx = hs.ctx;
    const now = this.#options.clock.now();
    this.#state = "established";
    this.#options.stats.handshakesOk++;
    const psk = ctx.suite!.keyExchange === "psk";
    const server = this.role === "server";
    this.#info = Object.freeze({
      peer: this.peer,
      role: this.role,
      identity: ctx.peerIdentity,
      pskIdentity: ctx.pskIdentity,
      pskIdentityHint: !psk ? undefined : server ? ctx.config.serverPsk?.hint : ctx.pskIdentityHint,
      cipherSuite: suiteName(ctx.suite!.id, ctx.suite!.name),
      sni: server ? ctx.sni : ctx.config.sni,
      ...(ctx.peerCertificateDer ? { peerCertificateDer: ctx.peerCertificateDer } : {}),
      ...(!psk && ctx.ecdhe?.group ? { ecdheGroup: ctx.ecdhe.group } : {}),
      extendedMasterSecret: ctx.extendedMasterSecret,
      establishedAt: now,
    });
    this.#lastActivity = now;
    // Keep only what the session needs from here on (see the module comment).
    if (server) this.#clientRandom = latin1(ctx.clientRandom);
    this.#peerNextSeq = hs.reassembler.nextSeq;
    this.#final = hs.handshaker.finalFlight();
    ctx.wipeSecrets();
    this.#hs = undefined;
    this.#events.established(this);
  }

  #alertEpoch(): number {
    return this.#state === "established" ? 1 : (this.#hs?.ctx.writeEpoch ?? 0);
  }

  #sendAlert(alert: Alert): void {
    try {
      this.#events.send(this.#records.seal(ContentType.alert, this.#alertEpoch(), encodeAlert(alert)), this);
      this.#options.stats.alertsSent++;
    } catch {
      // sequence space exhausted: nothing more can be sent
    }
  }

  /**
   * Fragments each message to the datagram budget, then packs the flight's records into as few
   * datagrams as fit it (RFC 6347 §4.1.1: several records per datagram), each record sealed in
   * place: one buffer per datagram, none per record.
   */
  #sendFlight(items: readonly OutgoingItem[], retransmission: boolean): void {
    const budget = this.#options.datagramBudget(this.peer);
    const datagrams: Uint8Array[] = [];
    try {
      const records = this.#fragmented(items, budget);
      let from = 0;
      let size = 0;
      for (let i = 0; i < records.length; i++) {
        const length = this.#records.overhead(records[i]!.epoch) + recordPlaintext(records[i]!).length;
        if (size > 0 && size + length > budget) {
          datagrams.push(this.#sealDatagram(records, from, i, size));
          from = i;
          size = 0;
        }
        size += length;
      }
      if (size > 0) datagrams.push(this.#sealDatagram(records, from, records.length, size));
    } catch (err) {
      this.#fail(err instanceof DtlsError ? err : DtlsError.fatal("internal_error", String(err), err));
      return;
    }
    if (retransmission) this.#options.stats.retransmits++;
    else this.#options.stats.flightsSent++;
    for (const d of datagrams) this.#events.send(d, this);
  }

  /**
   * The flight as one item per record: the items themselves, unless a message is longer than
   * one record may carry within the budget; that one is split into fragments (§4.2.3), each an
   * item whose `message` is the fragment with its own header.
   */
  #fragmented(items: readonly OutgoingItem[], budget: number): readonly OutgoingItem[] {
    let out: OutgoingItem[] | undefined;
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const maxFragment = item.kind === "handshake" ? budget - this.#records.overhead(item.epoch) - HANDSHAKE_HEADER_LENGTH : Infinity;
      if (item.kind === "change_cipher_spec" || item.body.length <= maxFragment) {
        out?.push(item);
        continue;
      }
      out ??= items.slice(0, i);
      for (const f of fragmentMessage(item.type, item.seq, item.body, maxFragment)) out.push({ ...item, message: f });
    }
    return out ?? items;
  }

  /**
   * Seals `records[from..to)` (`size` bytes in all) into one datagram. It comes from node's
   * shared slab: it is sent and forgotten (a retransmission seals the items again with new
   * sequence numbers), so it pins nothing, and a flight costs no malloc of its own.
   */
  #sealDatagram(records: readonly OutgoingItem[], from: number, to: number, size: number): Uint8Array {
    const slab = Buffer.allocUnsafe(size);
    const out = new Uint8Array(slab.buffer, slab.byteOffset, size);
    let at = 0;
    for (let i = from; i < to; i++) {
      const r = records[i]!;
      if (r.kind === "change_cipher_spec") {
        at += this.#records.sealInto(ContentType.change_cipher_spec, r.epoch, CHANGE_CIPHER_SPEC, ProtocolVersion.DTLS1_2, out, at);
        continue;
      }
      // ClientHello goes out with record version DTLS 1.0, as OpenSSL and GnuTLS do, for old servers.
      const version = r.type === HandshakeType.client_hello ? ProtocolVersion.DTLS1_0 : ProtocolVersion.DTLS1_2;
      at += this.#records.sealInto(ContentType.handshake, r.epoch, r.message, version, out, at);
    }
    return out;
  }
}

/** What one record of a flight carries. */
function recordPlaintext(item: OutgoingItem): Uint8Array {
  return item.kind === "change_cipher_spec" ? CHANGE_CIPHER_SPEC : item.message;
}

const CHANGE_CIPHER_SPEC = Uint8Array.of(1);

/**
 * The bytes as a latin1 string (one char per byte), one flat string made in JS: reaching a
 * small on-heap array's `.buffer` for Buffer.toString would first move it off the V8 heap.
 */
function latin1(b: Uint8Array): string {
  return String.fromCharCode.apply(null, b as unknown as number[]);
}
