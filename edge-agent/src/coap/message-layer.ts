/**
 * The CoAP message layer (RFC 7252 §4) over one DatagramEndpoint: decoding, message IDs,
 * CON/NON/ACK/RST, retransmission with exponential back-off, NSTART, deduplication with
 * replay of the cached encoded reply, pings, and rejection of what cannot be processed.
 * Above it sit the request side (server/) and the response side (client/, via tokens);
 * see ./index.ts for the whole stack.
 *
 * Inbound classification (type × code class), RFC 7252 §4.2–§4.3, §5.2:
 *
 *   undecodable       CON with readable header → RST; anything else dropped   (counted)
 *   empty (0.00)      CON → RST (ping, §4.3); ACK/RST → match an outgoing CON; NON → dropped
 *   request (0.xx)    CON/NON → dedup → RequestSink; ACK/RST carrying one → dropped (format error)
 *   response (2–5.xx) ACK → match the outgoing CON (piggybacked); CON/NON → dedup → ResponseSink,
 *                     CON: empty ACK if matched, RST if not; NON unmatched → ignored
 *   1.xx, 6.xx, 7.xx  reserved / signalling (RFC 8323 only) → like undecodable
 *
 * Nothing here throws on input; nothing logs on the data path. Timers: one TimerQueue.
 */
import { EMPTY_BYTES, MessageType, encodeMessage, tryDecodeMessage, type CoapMessage } from "@coaps-edge/shared";
import type { Clock } from "../util/clock.js";
import { systemClock } from "../util/clock.js";
import { peerKey, type DatagramEndpoint, type PeerAddress, type PeerIdentity } from "../transport/types.js";
import { transmissionTimes, type TransmissionParameters, type TransmissionTimes } from "./constants.js";
import { DedupCache, exchangeKey, type DedupHandle, type DedupLimits } from "./dedup-cache.js";
import { MessageIdAllocator } from "./message-ids.js";
import { TimerQueue, type TimerEntry } from "./timer-queue.js";

/** What the message layer has done with an inbound request so far. */
export type RequestState = "new" | "acked" | "answered";

/** A new (non-duplicate) inbound request, handed to the RequestSink. */
export interface InboundRequest {
  readonly message: CoapMessage;
  readonly peer: PeerAddress;
  readonly identity: PeerIdentity;
  readonly layer: MessageLayer;
  /** "new": nothing sent; "acked": an empty ACK went out, the response will be a separate CON. */
  state: RequestState;
  /** @internal the dedup record of this request. */
  entry: DedupHandle | undefined;
}

/** Receives new inbound requests (the server). */
export interface RequestSink {
  onRequest(request: InboundRequest): void;
}

/** Receives separate responses (CON/NON); returns whether an exchange took it (CON: ACK, else RST). */
export interface ResponseSink {
  onResponse(message: CoapMessage, peer: PeerAddress, identity: PeerIdentity): boolean;
}

/** Callbacks of the sender of a CON, one object for all its transmissions (no closure per message). */
export interface TransmissionOwner<C> {
  /** The peer acknowledged: `ack` is empty (separate response to follow) or carries the piggybacked response. */
  onAcknowledged(tx: Transmission<C>, ack: CoapMessage, identity: PeerIdentity): void;
  /** The peer rejected the message with RST. */
  onReset(tx: Transmission<C>): void;
  /** No ACK after MAX_RETRANSMIT retransmissions (MAX_TRANSMIT_WAIT). */
  onTimeout(tx: Transmission<C>): void;
  /** The layer was closed before an outcome. */
  onAborted(tx: Transmission<C>): void;
}

/** One outgoing CON under retransmission (RFC 7252 §4.2). */
export class Transmission<C = unknown> implements TimerEntry {
  timerDue = 0;
  timerIndex = -1;
  /** Retransmissions done so far (0 after the first transmission). */
  retransmissions = 0;
  /** The current timeout; doubles after each retransmission. */
  timeoutMs = 0;
  state: "queued" | "sent" | "done" = "queued";

  constructor(
    readonly peer: PeerAddress,
    readonly messageId: number,
    readonly bytes: Uint8Array,
    readonly owner: TransmissionOwner<C>,
    readonly context: C,
    /** @internal */ readonly key: string,
  ) {}
}

export interface MessageLayerOptions {
  readonly clock?: Clock;
  readonly transmission?: Partial<TransmissionParameters>;
  readonly dedup?: DedupLimits;
  /** [0, 1) source for the initial message ID and the ACK_RANDOM_FACTOR jitter (default Math.random). */
  readonly random?: () => number;
}

export interface MessageLayerStats {
  received: number;
  sent: number;
  /** Datagrams that did not decode, or carried a type/code combination CoAP over UDP forbids. */
  malformed: number;
  /** Duplicates of received CON/NON messages (answered from the cache, or ignored while pending). */
  duplicates: number;
  retransmissions: number;
  /** CONs given up after MAX_RETRANSMIT. */
  timeouts: number;
  rstSent: number;
  rstReceived: number;
  pings: number;
  /** ACK/RST that matched no outstanding CON (late duplicates). */
  unmatchedAcks: number;
  /** Separate responses no exchange was waiting for. */
  unmatchedResponses: number;
  /** Exceptions thrown by the layers above while handling a datagram (bugs; should stay 0). */
  internalErrors: number;
  /** Separate responses given up after MAX_RETRANSMIT: requests we acknowledged whose answer never arrived (metrics). */
  separateResponsesLost: number;
}

/** An encoded empty message (4-byte header only) of `type`. */
function emptyMessage(type: MessageType, messageId: number): Uint8Array {
  const b = new Uint8Array(4);
  b[0] = 0x40 | (type << 4); // Ver 1, TKL 0
  b[2] = messageId >> 8;
  b[3] = messageId & 0xff;
  return b;
}

/** A caller-chosen message ID (1..65535), or undefined when absent or 0 ("assign one"). */
function callerMessageId(message: { readonly messageId?: number }): number | undefined {
  const id = message.messageId;
  return id !== undefined && Number.isInteger(id) && id > 0 && id <= 0xffff ? id : undefined;
}

/** Owner of separate responses we send as server: their outcome needs no action. */
const FIRE_AND_FORGET: TransmissionOwner<undefined> = {
  onAcknowledged() {},
  onReset() {},
  onTimeout() {},
  onAborted() {},
};

interface PeerSlots {
  outstanding: number;
  readonly queue: Transmission<unknown>[];
}

export class MessageLayer {
  readonly stats: MessageLayerStats = {
    received: 0,
    sent: 0,
    malformed: 0,
    duplicates: 0,
    retransmissions: 0,
    timeouts: 0,
    rstSent: 0,
    rstReceived: 0,
    pings: 0,
    unmatchedAcks: 0,
    unmatchedResponses: 0,
    internalErrors: 0,
    separateResponsesLost: 0,
  };
  readonly times: TransmissionTimes;
  readonly clock: Clock;
  /** Set by the server; without one, CON requests are rejected with RST and NON requests ignored. */
  requestSink: RequestSink | undefined;
  /** Set by the client side; without one, separate responses are unmatched. */
  responseSink: ResponseSink | undefined;
  /** An RST that matched no CON (e.g. one answering a NON Observe notification, RFC 7641 §3.6). */
  onUnmatchedReset: ((peer: PeerAddress, messageId: number) => void) | undefined;

  readonly #dedup: DedupCache<InboundRequest>;
  readonly #ids: MessageIdAllocator;
  readonly #random: () => number;
  readonly #outstanding = new Map<string, Transmission<unknown>>();
  readonly #slots = new Map<string, PeerSlots>();
  readonly #timers: TimerQueue<Transmission<unknown>>;
  #closed = false;

  constructor(
    readonly endpoint: DatagramEndpoint,
    options: MessageLayerOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.times = transmissionTimes(options.transmission);
    this.#random = options.random ?? Math.random;
    this.#ids = new MessageIdAllocator(this.#random);
    this.#dedup = new DedupCache(options.dedup);
    this.#timers = new TimerQueue(this.clock, (tx) => this.#onTimeout(tx));
    endpoint.onDatagram = (data, peer, identity) => this.receive(data, peer, identity);
  }

  get scheme(): "coap" | "coaps" {
    return this.endpoint.scheme;
  }

  /** Dedup cache occupancy (entries, bytes, evictions). */
  get dedupStats(): { entries: number; bytes: number; evictions: number } {
    return this.#dedup.stats;
  }

  /** CONs awaiting an ACK (including queued ones held back by NSTART). */
  get outstanding(): number {
    let n = this.#outstanding.size;
    for (const s of this.#slots.values()) n += s.queue.length;
    return n;
  }

  /** The next message ID this layer assigns. */
  nextMessageId(): number {
    return this.#ids.next();
  }

  /** The largest message that fits one datagram to `peer`. */
  maxMessageSize(peer: PeerAddress): number {
    return this.endpoint.maxMessageSize(peer);
  }

  // ---------------------------------------------------------------- inbound

  /**
   * Handles one received datagram (the endpoint's onDatagram). Never throws: bad input is
   * counted, and an exception from a layer above is counted as `internalErrors` (it would
   * otherwise escape into the socket's event handler and end the process).
   */
  receive(data: Uint8Array, peer: PeerAddress, identity: PeerIdentity): void {
    if (this.#closed) return;
    this.stats.received++;
    try {
      this.#dispatch(data, peer, identity);
    } catch {
      this.stats.internalErrors++;
    }
  }

  #dispatch(data: Uint8Array, peer: PeerAddress, identity: PeerIdentity): void {
    const r = tryDecodeMessage(data);
    if (!r.ok) {
      this.stats.malformed++;
      // §4.2: a CON with a format error is rejected with RST when its header was readable
      // (never for a wrong version, §3: silently ignored).
      if (r.error.shouldReset && r.error.messageId !== undefined) this.#sendRst(peer, r.error.messageId);
      return;
    }
    const m = r.message;
    const cls = m.code >> 5;
    if (m.code === 0) {
      switch (m.type) {
        case MessageType.CON:
          this.stats.pings++; // §4.3: an empty CON is answered with RST ("CoAP ping")
          this.#sendRst(peer, m.messageId);
          return;
        case MessageType.ACK:
          this.#onAck(m, peer, identity);
          return;
        case MessageType.RST:
          this.#onRst(m, peer);
          return;
        default:
          this.stats.malformed++; // an empty NON has no meaning
          return;
      }
    }
    if (cls === 0) {
      if (m.type === MessageType.CON || m.type === MessageType.NON) this.#onRequest(m, peer, identity);
      else this.stats.malformed++; // ACK/RST carrying a request: format error, nothing to answer
      return;
    }
    if (cls >= 2 && cls <= 5) {
      if (m.type === MessageType.ACK) this.#onAck(m, peer, identity);
      else if (m.type === MessageType.RST) this.stats.malformed++;
      else this.#onSeparateResponse(m, peer, identity);
      return;
    }
    // 1.xx and 6.xx are reserved, 7.xx exists only over reliable transports (RFC 8323).
    this.stats.malformed++;
    if (m.type === MessageType.CON) this.#sendRst(peer, m.messageId);
  }

  #onRequest(m: CoapMessage, peer: PeerAddress, identity: PeerIdentity): void {
    const now = this.clock.now();
    const dup = this.#dedup.find(peer, m.messageId, now);
    if (dup !== undefined) {
      this.stats.duplicates++;
      const reply = this.#dedup.reply(dup);
      const pending = this.#dedup.pending(dup);
      if (reply) this.#send(peer, reply);
      else if (pending && m.type === MessageType.CON && pending.state === "new") {
        // The client retransmitted before we answered: stop its retransmissions now and
        // answer separately (§5.2.2) instead of staying silent.
        this.acceptSeparately(pending);
      }
      return;
    }
    if (!this.requestSink) {
      if (m.type === MessageType.CON) this.#sendRst(peer, m.messageId);
      return;
    }
    const lifetime = m.type === MessageType.CON ? this.times.exchangeLifetimeMs : this.times.nonLifetimeMs;
    const req: InboundRequest = { message: m, peer, identity, layer: this, state: "new", entry: undefined };
    req.entry = this.#dedup.add(peer, m.messageId, now, lifetime, req);
    this.requestSink.onRequest(req);
  }

  #onSeparateResponse(m: CoapMessage, peer: PeerAddress, identity: PeerIdentity): void {
    const now = this.clock.now();
    const dup = this.#dedup.find(peer, m.messageId, now);
    if (dup !== undefined) {
      this.stats.duplicates++;
      const reply = this.#dedup.reply(dup);
      if (reply) this.#send(peer, reply); // re-ACK (or re-RST) a retransmitted separate response
      return;
    }
    const entry = this.#dedup.add(peer, m.messageId, now, m.type === MessageType.CON ? this.times.exchangeLifetimeMs : this.times.nonLifetimeMs);
    const matched = this.responseSink?.onResponse(m, peer, identity) ?? false;
    if (!matched) this.stats.unmatchedResponses++;
    if (m.type !== MessageType.CON) return;
    // §5.3.2 / §4.2: ACK a CON response we could match; reject one we could not with RST.
    const reply = emptyMessage(matched ? MessageType.ACK : MessageType.RST, m.messageId);
    if (!matched) this.stats.rstSent++;
    this.#dedup.setReply(entry, reply);
    this.#send(peer, reply);
  }

  #onAck(m: CoapMessage, peer: PeerAddress, identity: PeerIdentity): void {
    const tx = this.#outstanding.get(exchangeKey(peer, m.messageId));
    if (!tx) {
      this.stats.unmatchedAcks++;
      return;
    }
    this.#finish(tx);
    tx.owner.onAcknowledged(tx, m, identity);
  }

  #onRst(m: CoapMessage, peer: PeerAddress): void {
    this.stats.rstReceived++;
    const tx = this.#outstanding.get(exchangeKey(peer, m.messageId));
    if (!tx) {
      this.stats.unmatchedAcks++;
      this.onUnmatchedReset?.(peer, m.messageId);
      return;
    }
    this.#finish(tx);
    tx.owner.onReset(tx);
  }

  // ---------------------------------------------------------------- answering requests

  /**
   * Sends the response to `req`: piggybacked in the ACK of a CON not yet acknowledged, as a
   * separate CON (retransmitted until ACKed) after an empty ACK, or as NON for a NON request
   * (§5.2). `response` needs code, token, options and payload; type and message ID are set here.
   * The encoded reply is cached for duplicates. Returns false if `req` was already answered.
   */
  respond(req: InboundRequest, response: Omit<CoapMessage, "type" | "messageId">): boolean {
    if (req.state === "answered" || this.#closed) return false;
    // Encode first: if the encoder throws (RangeError), the request stays answerable.
    if (req.state === "acked") {
      // The dedup entry keeps replaying the empty ACK; the response is its own CON exchange.
      this.sendConfirmable(req.peer, { ...response, type: MessageType.CON }, FIRE_AND_FORGET, undefined);
    } else {
      // One object literal of a fixed shape (no spread): this runs once per request.
      const piggyback = req.message.type === MessageType.CON;
      const bytes = encodeMessage({
        type: piggyback ? MessageType.ACK : MessageType.NON,
        code: response.code,
        messageId: piggyback ? req.message.messageId : this.#ids.next(),
        token: response.token,
        options: response.options,
        payload: response.payload,
      });
      if (req.entry !== undefined) this.#dedup.setReply(req.entry, bytes);
      this.#send(req.peer, bytes);
    }
    req.state = "answered";
    if (req.entry !== undefined) this.#dedup.setPending(req.entry, undefined);
    return true;
  }

  /** Sends an empty ACK for a CON request whose response will come later (§5.2.2). No-op otherwise. */
  acceptSeparately(req: InboundRequest): void {
    if (req.state !== "new" || req.message.type !== MessageType.CON || this.#closed) return;
    req.state = "acked";
    const bytes = emptyMessage(MessageType.ACK, req.message.messageId);
    if (req.entry !== undefined) {
      this.#dedup.setReply(req.entry, bytes);
      this.#dedup.setPending(req.entry, req); // still in progress, but duplicates now get the empty ACK
    }
    this.#send(req.peer, bytes);
  }

  /** Rejects a request with RST (e.g. an unknown critical option in a NON, §5.4.1). */
  reject(req: InboundRequest): void {
    if (req.state === "answered" || this.#closed) return;
    req.state = "answered";
    const bytes = emptyMessage(MessageType.RST, req.message.messageId);
    this.stats.rstSent++;
    if (req.entry !== undefined) this.#dedup.setReply(req.entry, bytes);
    this.#send(req.peer, bytes);
  }

  // ---------------------------------------------------------------- outbound

  /**
   * Sends a CON with a fresh message ID and retransmits it (ACK_TIMEOUT × random factor,
   * doubling, MAX_RETRANSMIT times) until ACK, RST or give-up, reported to `owner`.
   * At most NSTART CONs are outstanding per peer; later ones queue (§4.7).
   * A non-zero `message.messageId` is used as given (OpenThread's otCoapSecureSendRequest:
   * "if Message Id was not set in the header (equal to 0)" one is assigned).
   */
  sendConfirmable<C>(
    peer: PeerAddress,
    message: Omit<CoapMessage, "messageId"> & { readonly messageId?: number },
    owner: TransmissionOwner<C>,
    context: C,
  ): Transmission<C> {
    const messageId = callerMessageId(message) ?? this.#ids.next();
    const bytes = encodeMessage({ ...message, type: MessageType.CON, messageId });
    const tx = new Transmission<C>(peer, messageId, bytes, owner, context, exchangeKey(peer, messageId));
    if (this.#closed) {
      tx.state = "done";
      return tx;
    }
    const pk = peerKey(peer);
    let slots = this.#slots.get(pk);
    if (!slots) {
      slots = { outstanding: 0, queue: [] };
      this.#slots.set(pk, slots);
    }
    if (slots.outstanding >= this.times.nstart) slots.queue.push(tx as Transmission<unknown>);
    else {
      slots.outstanding++;
      this.#transmit(tx as Transmission<unknown>);
    }
    return tx;
  }

  /** Sends a NON message with a fresh message ID (or the caller's non-zero one); returns that ID. */
  sendNonConfirmable(peer: PeerAddress, message: Omit<CoapMessage, "messageId"> & { readonly messageId?: number }): number {
    const messageId = callerMessageId(message) ?? this.#ids.next();
    this.#send(peer, encodeMessage({ ...message, type: MessageType.NON, messageId }));
    return messageId;
  }

  /** Sends a CoAP ping (empty CON); the owner learns of the RST (pong) as onReset. */
  ping<C>(peer: PeerAddress, owner: TransmissionOwner<C>, context: C): Transmission<C> {
    return this.sendConfirmable(peer, { type: MessageType.CON, code: 0, token: EMPTY_BYTES, options: [], payload: EMPTY_BYTES }, owner, context);
  }

  /** Stops retransmitting `tx` without telling its owner (e.g. the request was cancelled). */
  cancel(tx: Transmission<unknown>): void {
    if (tx.state === "done") return;
    if (tx.state === "queued") {
      const slots = this.#slots.get(peerKey(tx.peer));
      const i = slots?.queue.indexOf(tx) ?? -1;
      if (slots && i >= 0) slots.queue.splice(i, 1);
      tx.state = "done";
      return;
    }
    this.#finish(tx);
  }

  /**
   * The peer's DTLS session ended: its dedup entries go at once (a later datagram from the same
   * address belongs to another session, so it is never their duplicate: RFC 7252 §9.1.1).
   * Returns how many were dropped.
   */
  dropPeer(peer: PeerAddress): number {
    return this.#dedup.dropPeer(peer);
  }

  /** Stops every timer; outstanding CONs are reported as aborted. Does not close the endpoint. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#timers.clear();
    const all: Transmission<unknown>[] = [...this.#outstanding.values()];
    for (const s of this.#slots.values()) all.push(...s.queue);
    this.#outstanding.clear();
    this.#slots.clear();
    this.#dedup.clear();
    for (const tx of all) {
      tx.state = "done";
      tx.owner.onAborted(tx);
    }
  }

  #transmit(tx: Transmission<unknown>): void {
    tx.state = "sent";
    // §4.2: initial timeout random in [ACK_TIMEOUT, ACK_TIMEOUT × ACK_RANDOM_FACTOR].
    const t = this.times;
    tx.timeoutMs = t.ackTimeoutMs * (1 + this.#random() * (t.ackRandomFactor - 1));
    this.#outstanding.set(tx.key, tx);
    this.#timers.scheduleIn(tx, tx.timeoutMs);
    this.#send(tx.peer, tx.bytes);
  }

  #onTimeout(tx: Transmission<unknown>): void {
    if (tx.state !== "sent") return;
    if (tx.retransmissions < this.times.maxRetransmit) {
      tx.retransmissions++;
      tx.timeoutMs *= 2; // §4.2: "the timeout is doubled"
      this.stats.retransmissions++;
      this.#timers.scheduleIn(tx, tx.timeoutMs);
      this.#send(tx.peer, tx.bytes);
      return;
    }
    this.stats.timeouts++;
    if (tx.owner === FIRE_AND_FORGET) this.stats.separateResponsesLost++;
    this.#finish(tx);
    tx.owner.onTimeout(tx);
  }

  /** Ends a sent transmission and lets the next queued CON to the same peer go (NSTART). */
  #finish(tx: Transmission<unknown>): void {
    tx.state = "done";
    this.#timers.remove(tx);
    this.#outstanding.delete(tx.key);
    const pk = peerKey(tx.peer);
    const slots = this.#slots.get(pk);
    if (!slots) return;
    const next = slots.queue.shift();
    if (next) this.#transmit(next);
    else if (--slots.outstanding <= 0) this.#slots.delete(pk);
  }

  #sendRst(peer: PeerAddress, messageId: number): void {
    this.stats.rstSent++;
    this.#send(peer, emptyMessage(MessageType.RST, messageId));
  }

  #send(peer: PeerAddress, bytes: Uint8Array): void {
    this.stats.sent++;
    this.endpoint.send(peer, bytes);
  }
}
