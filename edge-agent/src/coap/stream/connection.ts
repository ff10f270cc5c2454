/**
 * One CoAP-over-reliable-transport connection (RFC 8323 §3–§5): framing, the CSM exchange,
 * Ping/Pong, Release and Abort. Requests and responses pass through to the layer above
 * (./stream-layer.ts) untouched; there are no ACKs, retransmissions or Message IDs here.
 *
 *              start(): send our CSM (§5.3: "MUST be the first message")
 *                 │
 *          ┌──────▼───────┐  first message not a CSM, bad CSM,    ┌─────────┐
 *          │ awaiting-csm │──────── or no CSM in csmTimeoutMs ────▶│         │
 *          └──────┬───────┘              (Abort)                   │         │
 *                 │ peer CSM: Max-Message-Size, Block-Wise-Transfer │         │
 *          ┌──────▼───────┐  Abort received, malformed or         │ closed  │
 *          │     open     │──── oversized message (Abort) ────────▶│         │
 *          └──────┬───────┘                                        │         │
 *                 │ release() / Release received                   │         │
 *          ┌──────▼───────┐                                        │         │
 *          │   closing    │──────── channel closed ───────────────▶│         │
 *          └──────────────┘                                        └─────────┘
 *
 * In "open": Ping → Pong with the same token (Custody echoed: everything before the Ping is
 * already processed, we handle messages in order); a later CSM updates the peer's values;
 * Empty (0.00) messages are ignored (§3.4); unknown signal codes are ignored.
 * Nothing here throws on input; malformed input is counted, then the connection is aborted.
 */
import {
  CoapDecodeError,
  DEFAULT_MAX_MESSAGE_SIZE,
  SignalCode,
  abortMessage,
  csmMessage,
  encodeStreamMessage,
  isSignalCode,
  parseSignal,
  pingMessage,
  pongMessage,
  releaseMessage,
  tryDecodeStreamMessage,
  type Signal,
  type StreamMessage,
} from "@coaps-edge/shared";
import { systemClock, type Clock, type TimerHandle } from "../../util/clock.js";
import type { StreamChannel } from "./channel.js";
import { FrameReader, FrameTooLargeError } from "./frame-reader.js";

/** libcoap's default Max-Message-Size over TCP is 8 MiB + 256; a gateway accepts 1 MiB + 256 by default. */
export const DEFAULT_STREAM_MAX_MESSAGE_SIZE = 1024 * 1024 + 256;
/** How long to wait for the peer's CSM. */
export const DEFAULT_CSM_TIMEOUT_MS = 10_000;
/** How long a Ping waits for its Pong. */
export const DEFAULT_PING_TIMEOUT_MS = 10_000;

export type ConnectionState = "awaiting-csm" | "open" | "closing" | "closed";

export interface StreamConnectionOptions {
  /** Max-Message-Size we announce and accept (default 1 MiB + 256). */
  readonly maxMessageSize?: number;
  /** Announce Block-Wise-Transfer (and so BERT, §6). Default true. */
  readonly blockWiseTransfer?: boolean;
  /** The peer's CSM must arrive within this many ms (default 10 s). */
  readonly csmTimeoutMs?: number;
  /** A Ping fails after this many ms without Pong (default 10 s). */
  readonly pingTimeoutMs?: number;
  readonly clock?: Clock;
}

/** What the connection tells its owner. */
export interface ConnectionEvents {
  /** The peer's first CSM arrived: the connection may carry requests. */
  onReady(conn: StreamConnection): void;
  /** A request, response or other non-signalling, non-empty message, in arrival order. */
  onMessage(conn: StreamConnection, msg: StreamMessage): void;
  /** The connection is closed (once). */
  onClosed(conn: StreamConnection, reason: string): void;
}

export interface StreamConnectionStats {
  received: number;
  sent: number;
  /** Messages that did not decode or exceeded our Max-Message-Size (each ends in Abort). */
  malformed: number;
  signals: number;
  pingsAnswered: number;
  /** Empty (0.00) messages and unknown signal codes, ignored. */
  ignored: number;
}

interface PendingPing {
  readonly sentAt: number;
  readonly timer: TimerHandle;
  readonly resolve: (rttMs: number) => void;
  readonly reject: (e: Error) => void;
}

/** Raised by `ping()` and `ready` when the connection closes or the peer does not answer. */
export class StreamConnectionError extends Error {
  override readonly name = "StreamConnectionError";
  constructor(
    readonly code: "closed" | "timeout" | "aborted",
    message: string,
  ) {
    super(message);
  }
}

export class StreamConnection {
  readonly stats: StreamConnectionStats = { received: 0, sent: 0, malformed: 0, signals: 0, pingsAnswered: 0, ignored: 0 };
  readonly clock: Clock;
  readonly maxMessageSize: number;
  readonly blockWiseTransfer: boolean;
  state: ConnectionState = "awaiting-csm";
  /** The largest message the peer accepts (its CSM; 1152 until then, §5.3.1). */
  peerMaxMessageSize = DEFAULT_MAX_MESSAGE_SIZE;
  /** The peer announced Block-Wise-Transfer. */
  peerBlockWiseTransfer = false;
  /** Every CSM the peer sent, in order (the exchange as observed). */
  readonly peerCsms: Extract<Signal, { kind: "csm" }>[] = [];
  /** Why the connection closed (set once closed). */
  closeReason: string | undefined;
  /** Resolves when the peer's CSM arrived; rejects if the connection closes first. */
  readonly ready: Promise<void>;

  readonly #reader: FrameReader | undefined;
  readonly #csmTimeoutMs: number;
  readonly #pingTimeoutMs: number;
  readonly #pings = new Map<number, PendingPing>();
  #csmTimer: TimerHandle | undefined;
  #nextPingToken = 1;
  #readyResolve!: () => void;
  #readyReject!: (e: Error) => void;

  constructor(
    readonly channel: StreamChannel,
    readonly events: ConnectionEvents,
    options: StreamConnectionOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.maxMessageSize = options.maxMessageSize ?? DEFAULT_STREAM_MAX_MESSAGE_SIZE;
    if (!(this.maxMessageSize >= 64 && this.maxMessageSize <= 0xffffffff)) throw new RangeError("maxMessageSize must be 64..2^32-1");
    this.blockWiseTransfer = options.blockWiseTransfer ?? true;
    this.#csmTimeoutMs = options.csmTimeoutMs ?? DEFAULT_CSM_TIMEOUT_MS;
    this.#pingTimeoutMs = options.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS;
    this.#reader = channel.framing === "tcp" ? new FrameReader(this.maxMessageSize) : undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      this.#readyResolve = resolve;
      this.#readyReject = reject;
    });
    this.ready.catch(() => {}); // observed through events too; never an unhandled rejection
    channel.onData = (bytes) => this.#onData(bytes);
    channel.onClose = (reason) => this.#onChannelClosed(reason);
  }

  /** BERT may be used: both sides announced Block-Wise-Transfer (RFC 8323 §6). */
  get bert(): boolean {
    return this.blockWiseTransfer && this.peerBlockWiseTransfer;
  }

  /** Sends our CSM and starts waiting for the peer's. Call once, right after the channel is up. */
  start(): void {
    this.#sendRaw(csmMessage({ maxMessageSize: this.maxMessageSize, blockWiseTransfer: this.blockWiseTransfer }));
    this.#csmTimer = this.clock.setTimer(this.#csmTimeoutMs, () => {
      if (this.state === "awaiting-csm") this.abort("no CSM received");
    });
  }

  /**
   * Sends a request or response. Throws RangeError when the message does not encode or is
   * larger than the peer's Max-Message-Size (the layer above sizes messages to fit). A
   * message after close is dropped.
   */
  send(msg: StreamMessage): void {
    if (this.state === "closed") return;
    const bytes = encodeStreamMessage(msg, this.channel.framing);
    if (bytes.length > this.peerMaxMessageSize) {
      throw new RangeError(`message of ${bytes.length} bytes exceeds the peer's Max-Message-Size ${this.peerMaxMessageSize}`);
    }
    this.stats.sent++;
    this.channel.send(bytes);
  }

  /** Sends a Ping (§5.4) and resolves with the round-trip time in ms when its Pong arrives. */
  ping(custody = false): Promise<number> {
    if (this.state === "closed" || this.state === "closing") return Promise.reject(new StreamConnectionError("closed", "connection closed"));
    const id = this.#nextPingToken++ >>> 0;
    const token = Uint8Array.of(id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff);
    return new Promise<number>((resolve, reject) => {
      const timer = this.clock.setTimer(this.#pingTimeoutMs, () => {
        this.#pings.delete(id);
        reject(new StreamConnectionError("timeout", "no Pong"));
      });
      this.#pings.set(id, { sentAt: this.clock.now(), timer, resolve, reject });
      this.#sendRaw(pingMessage(token, custody));
    });
  }

  /** Sends Release (§5.5) and closes the connection gracefully. */
  release(opts: { holdOffSeconds?: number; alternativeAddresses?: readonly string[]; diagnostic?: string } = {}): void {
    if (this.state === "closed" || this.state === "closing") return;
    this.#sendRaw(releaseMessage(opts));
    this.state = "closing";
    this.channel.end();
  }

  /** Sends Abort (§5.6) and closes the connection at once. */
  abort(diagnostic: string, badCsmOption?: number): void {
    if (this.state === "closed") return;
    this.#sendRaw(abortMessage({ diagnostic, badCsmOption }));
    this.closeReason ??= `aborted: ${diagnostic}`;
    this.state = "closing";
    this.channel.end();
  }

  // ---------------------------------------------------------------- inbound

  #onData(bytes: Uint8Array): void {
    if (this.state === "closed") return;
    let frames: Uint8Array[];
    if (this.#reader) {
      try {
        frames = this.#reader.push(bytes);
      } catch (e) {
        this.stats.malformed++;
        // The stream cannot be resynchronised after a bad header: abort (§5.6).
        this.abort(e instanceof FrameTooLargeError ? "message too large" : e instanceof CoapDecodeError ? `malformed message: ${e.message}` : "framing error");
        return;
      }
    } else {
      if (bytes.length > this.maxMessageSize) {
        this.stats.malformed++;
        this.abort("message too large");
        return;
      }
      frames = [bytes];
    }
    for (const f of frames) {
      if (this.closeReason !== undefined) return; // aborted, released or closed by an earlier frame
      this.#onFrame(f);
    }
  }

  #onFrame(frame: Uint8Array): void {
    this.stats.received++;
    const r = tryDecodeStreamMessage(frame, this.channel.framing);
    if (!r.ok) {
      this.stats.malformed++;
      this.abort(`malformed message: ${r.error.message}`);
      return;
    }
    const msg = r.message;
    if (this.state === "awaiting-csm" && msg.code !== SignalCode.CSM) {
      // §5.3: "Endpoints MUST treat a missing or invalid CSM as a connection error".
      this.stats.malformed++;
      this.abort("the first message must be a CSM");
      return;
    }
    if (isSignalCode(msg.code)) {
      this.stats.signals++;
      this.#onSignal(msg);
      return;
    }
    if (msg.code === 0) {
      this.stats.ignored++; // §3.4: Empty messages MUST be ignored
      return;
    }
    if (this.state === "closing" && msg.code >> 5 === 0) return; // no new requests after Release
    this.events.onMessage(this, msg);
  }

  #onSignal(msg: StreamMessage): void {
    const s = parseSignal(msg);
    switch (s.kind) {
      case "csm":
        if (s.maxMessageSize !== undefined) this.peerMaxMessageSize = s.maxMessageSize;
        // §5.3.2: Block-Wise-Transfer is a capability; a later CSM repeats what still holds.
        this.peerBlockWiseTransfer = s.blockWiseTransfer || this.peerBlockWiseTransfer;
        this.peerCsms.push(s);
        if (this.state === "awaiting-csm") {
          this.state = "open";
          this.#csmTimer?.cancel();
          this.#readyResolve();
          this.events.onReady(this);
        }
        return;
      case "ping":
        this.stats.pingsAnswered++;
        this.#sendRaw(pongMessage(msg.token, s.custody));
        return;
      case "pong": {
        let id = msg.token.length === 4 ? (((msg.token[0] as number) << 24) | ((msg.token[1] as number) << 16) | ((msg.token[2] as number) << 8) | (msg.token[3] as number)) >>> 0 : -1;
        // §5.4 asks for the Ping's token; libcoap 4.3.1 answers with an empty one. The stream is
        // ordered, so a Pong we cannot match answers the oldest Ping.
        if (!this.#pings.has(id)) id = this.#pings.keys().next().value ?? -1;
        const p = this.#pings.get(id);
        if (!p) {
          this.stats.ignored++;
          return;
        }
        this.#pings.delete(id);
        p.timer.cancel();
        p.resolve(this.clock.now() - p.sentAt);
        return;
      }
      case "release":
        // §5.5: the peer wants the connection gone; we have nothing outstanding to flush.
        this.closeReason ??= `released by peer${s.diagnostic ? `: ${s.diagnostic}` : ""}`;
        this.state = "closing";
        this.channel.end();
        return;
      case "abort":
        this.closeReason ??= `aborted by peer${s.diagnostic ? `: ${s.diagnostic}` : ""}`;
        this.channel.destroy();
        return;
      case "invalid":
        this.stats.malformed++;
        this.abort(s.reason, s.code === SignalCode.CSM ? s.option : undefined);
        return;
      case "unknown":
        this.stats.ignored++;
        return;
    }
  }

  #onChannelClosed(reason: string): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.closeReason ??= reason;
    this.#csmTimer?.cancel();
    const err = new StreamConnectionError("closed", `connection closed: ${this.closeReason}`);
    for (const p of this.#pings.values()) {
      p.timer.cancel();
      p.reject(err);
    }
    this.#pings.clear();
    this.#readyReject(err);
    this.events.onClosed(this, this.closeReason);
  }

  #sendRaw(msg: StreamMessage): void {
    if (this.state === "closed") return;
    this.stats.sent++;
    this.channel.send(encodeStreamMessage(msg, this.channel.framing));
  }
}
