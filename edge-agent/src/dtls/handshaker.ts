/**
 * The handshake state machine (STYLE.md §2, after pion's handshaker.go and RFC 6347 §4.2.4's
 * PREPARING / SENDING / WAITING / FINISHED):
 *
 *                 +-----------+
 *                 | preparing |  generate the flight (messages, ChangeCipherSpec)
 *                 +-----------+
 *                       |
 *                 +-----------+
 *      timer  --> |  sending  |  write the flight's records (fresh sequence numbers each time)
 *     (double)    +-----------+
 *        ^         |         |  last flight (nothing expected back)
 *        |    +---------+  +----------+
 *        +----| waiting |  | finished | <-- peer re-sends its last flight: re-send ours
 *             +---------+  +----------+
 *                  |  every expected message handled: next flight -> preparing, or "done" -> finished
 *                  v  a DtlsError anywhere -> errored (the connection sends its alert)
 *
 * Received messages arrive in message_seq order (the reassembler guarantees it) and are matched
 * against the flight's `expect` list; anything else is unexpected_message. The retransmission
 * timer starts at `initialMs`, doubles per retransmission up to `maxMs`, and restarts at
 * `initialMs` for each new flight; `handshakeTimeoutMs` bounds the whole handshake.
 */
import type { Clock, TimerHandle } from "../util/clock.js";
import { HandshakeType } from "./constants.js";
import { DtlsError } from "./errors.js";
import type { HandshakeMessage } from "./handshake/header.js";
import type { HandshakeContext } from "./flights/context.js";
import { flight } from "./flights/index.js";
import type { Flight, FlightName, OutgoingItem } from "./flights/types.js";

export type HandshakerState = "preparing" | "sending" | "waiting" | "finished" | "errored";

export interface RetransmitOptions {
  /** First retransmission timeout (RFC 6347 §4.2.4.1: 1 s). */
  readonly initialMs: number;
  /** Cap of the doubling (RFC 6347 §4.2.4.1: at least 60 s). */
  readonly maxMs: number;
}

/**
 * What the side that sent the handshake's last flight (the server, flight 6) keeps once the
 * handshake is over: RFC 6347 §4.2.4 — in the FINISHED state it answers a retransmission of the
 * peer's last flight by retransmitting its own. Nothing else of the handshake is needed then.
 */
export interface FinalFlight {
  readonly items: readonly OutgoingItem[];
  /** message_seq of the peer's message that ended its last flight (its Finished). */
  readonly peerFlightEnd: number;
  /** Clock time of the last send (several copies in one burst are answered once). */
  lastSendAt: number;
}

export interface HandshakerIo {
  /** Writes a flight (again, when `retransmission`). */
  sendFlight(items: readonly OutgoingItem[], retransmission: boolean): void;
  onFinished(): void;
  onError(err: DtlsError): void;
}

export class Handshaker {
  #state: HandshakerState = "waiting";
  #flight: Flight;
  #items: readonly OutgoingItem[] = [];
  #cursor = 0;
  #rto: number;
  #timer: TimerHandle | undefined;
  #deadline: TimerHandle | undefined;
  /** message_seq of the message that completed the peer's previous flight. */
  #peerFlightEnd = -1;
  #lastSendAt = Number.NEGATIVE_INFINITY;
  /** True when the handshake ended with a flight of ours (nothing expected back). */
  #endedWithOurFlight = false;

  constructor(
    private readonly ctx: HandshakeContext,
    private readonly io: HandshakerIo,
    private readonly clock: Clock,
    private readonly retransmit: RetransmitOptions,
    private readonly handshakeTimeoutMs: number,
    initial: FlightName,
  ) {
    this.#flight = flight(initial);
    this.#rto = retransmit.initialMs;
  }

  get state(): HandshakerState {
    return this.#state;
  }

  get flightName(): FlightName {
    return this.#flight.name;
  }

  /** True while the next expected message must arrive protected (the peer's Finished). */
  get awaitingProtectedMessage(): boolean {
    if (this.#state !== "waiting") return false;
    const e = this.#flight.expect(this.ctx).slice(this.#cursor);
    return e.some((x) => x.epoch !== undefined && x.epoch > 0);
  }

  /**
   * Once finished: our last flight, if the handshake ended with it (server flight 6), for the
   * connection to keep instead of the whole handshaker. A client ends on the server's Finished
   * and has nothing to re-send.
   */
  finalFlight(): FinalFlight | undefined {
    if (this.#state !== "finished" || !this.#endedWithOurFlight || this.#items.length === 0) return undefined;
    return { items: this.#items, peerFlightEnd: this.#peerFlightEnd, lastSendAt: this.#lastSendAt };
  }

  /** Starts: a client prepares flight 1; a server waits in flight 0. */
  start(): void {
    this.#deadline = this.clock.setTimer(this.handshakeTimeoutMs, () => {
      if (this.#state === "finished" || this.#state === "errored") return;
      this.#fail(new DtlsError("handshake_timeout", `no complete handshake within ${this.handshakeTimeoutMs} ms`));
    });
    this.#state = this.ctx.role === "client" ? "preparing" : "waiting";
    this.#step();
  }

  /** Stops every timer (the connection closed). */
  cancel(): void {
    this.#timer?.cancel();
    this.#deadline?.cancel();
    if (this.#state !== "finished") this.#state = "errored";
  }

  /** Handles the next message in order. */
  receive(msg: HandshakeMessage): void {
    if (this.#state !== "waiting") return;
    const expected = this.#flight.expect(this.ctx);
    let i = this.#cursor;
    while (i < expected.length && expected[i]!.type !== msg.type && expected[i]!.optional) i++;
    const e = expected[i];
    if (!e || e.type !== msg.type) {
      return this.#fail(DtlsError.fatal("unexpected_message", `unexpected handshake message ${msg.type} in ${this.#flight.name}`));
    }
    if (e.epoch !== undefined && msg.epoch !== e.epoch) {
      return this.#fail(DtlsError.fatal("unexpected_message", `handshake message ${msg.type} arrived in epoch ${msg.epoch}`));
    }
    // RFC 6347 §4.2.6: HelloVerifyRequest stays out of the transcript.
    if (msg.type !== HandshakeType.hello_verify_request) this.ctx.addToTranscript(msg.type, msg.seq, msg.body);
    try {
      this.#flight.handle(this.ctx, msg);
    } catch (err) {
      return this.#fail(err instanceof DtlsError ? err : DtlsError.fatal("internal_error", String(err), err));
    }
    this.#cursor = i + 1;
    if (!e.endsFlight && this.#cursor < expected.length) return;

    // The peer's flight is complete.
    this.#peerFlightEnd = msg.seq;
    this.#timer?.cancel();
    this.#timer = undefined;
    const next = this.#flight.next(this.ctx);
    if (next === "done") return this.#finish();
    this.#flight = flight(next);
    this.#cursor = 0;
    this.#state = "preparing";
    this.#step();
  }

  /**
   * A message the reassembler had already delivered came again. If it ends the peer's previous
   * flight, the peer missed our answer: re-send it now instead of waiting for our timer (§4.2.4).
   */
  peerRetransmitted(seq: number): void {
    if (seq !== this.#peerFlightEnd) return;
    if (this.#state !== "waiting" && this.#state !== "finished") return;
    if (this.#items.length === 0) return;
    const now = this.clock.now();
    if (now === this.#lastSendAt) return; // several copies in one burst: answer once
    this.#send(true);
  }

  #step(): void {
    for (;;) {
      switch (this.#state) {
        case "preparing": {
          try {
            this.#flight.generate(this.ctx);
          } catch (err) {
            return this.#fail(err instanceof DtlsError ? err : DtlsError.fatal("internal_error", String(err), err));
          }
          this.#items = this.ctx.takeOutgoing();
          this.#rto = this.retransmit.initialMs;
          this.#state = "sending";
          break;
        }
        case "sending": {
          if (this.#items.length > 0) this.#send(false);
          if (this.#flight.expect(this.ctx).length === 0) {
            this.#endedWithOurFlight = true;
            return this.#finish();
          }
          this.#state = "waiting";
          if (this.#items.length > 0) this.#arm();
          return;
        }
        default:
          return;
      }
    }
  }

  #send(retransmission: boolean): void {
    this.#lastSendAt = this.clock.now();
    this.io.sendFlight(this.#items, retransmission);
  }

  #arm(): void {
    this.#timer?.cancel();
    this.#timer = this.clock.setTimer(this.#rto, () => {
      if (this.#state !== "waiting") return;
      this.#rto = Math.min(this.#rto * 2, this.retransmit.maxMs);
      this.#send(true);
      this.#arm();
    });
  }

  #finish(): void {
    this.#state = "finished";
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#deadline?.cancel();
    this.io.onFinished();
  }

  #fail(err: DtlsError): void {
    if (this.#state === "errored") return;
    this.#state = "errored";
    this.#timer?.cancel();
    this.#deadline?.cancel();
    this.io.onError(err);
  }
}
