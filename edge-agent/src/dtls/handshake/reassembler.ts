/**
 * Handshake reassembly (RFC 6347 §4.2.2, §4.2.3): fragments arrive out of order, overlapping,
 * duplicated, and mixed with retransmissions of older messages. Messages come out strictly in
 * message_seq order, each once.
 *
 * Bounds: messages more than `window` ahead of the next expected one are dropped, and a message
 * longer than `maxMessageLength` is refused, so a peer cannot make us buffer without limit.
 */
import type { HandshakeFragment, HandshakeMessage } from "./header.js";

interface Partial {
  readonly type: number;
  readonly epoch: number;
  readonly body: Uint8Array;
  /** Received byte ranges, sorted and merged: [start, end) pairs. */
  ranges: number[];
}

/** What `push` made of a fragment. */
export type PushResult =
  | "accepted" // stored (the message may or may not be complete yet)
  | "old" // belongs to a message already delivered: the peer is retransmitting
  | "dropped"; // too far ahead, too long, or inconsistent with earlier fragments

export class HandshakeReassembler {
  #next: number;
  /**
   * The next message when it arrived whole in one fragment, the usual case (every message of a
   * PSK handshake): it skips the byte ranges and the map, which are made only for a message that
   * comes in pieces or ahead of its turn (issue 7: less garbage per handshake).
   */
  #whole: HandshakeMessage | undefined;
  #partial: Map<number, Partial> | undefined;

  constructor(
    nextSeq = 0,
    private readonly maxMessageLength = 0x10000,
    private readonly window = 16,
  ) {
    this.#next = nextSeq;
  }

  /** The message_seq of the next message to deliver. */
  get nextSeq(): number {
    return this.#next;
  }

  /** Skips ahead (a client after HelloVerifyRequest; a server after a stateless ClientHello). */
  set nextSeq(seq: number) {
    this.#next = seq;
    if (this.#whole !== undefined && this.#whole.seq < seq) this.#whole = undefined;
    if (this.#partial) for (const k of this.#partial.keys()) if (k < seq) this.#partial.delete(k);
  }

  push(f: HandshakeFragment, epoch: number): PushResult {
    if (f.seq < this.#next) return "old";
    if (f.seq >= this.#next + this.window || f.length > this.maxMessageLength) return "dropped";
    const whole = this.#whole;
    if (whole !== undefined && f.seq === whole.seq) {
      // Already complete: a copy of the same message is nothing new; a different one is inconsistent.
      return whole.type === f.type && whole.body.length === f.length && whole.epoch === epoch ? "accepted" : "dropped";
    }
    let p = this.#partial?.get(f.seq);
    if (!p && f.seq === this.#next && f.offset === 0 && f.data.length === f.length) {
      const body = new Uint8Array(f.length);
      body.set(f.data);
      this.#whole = { type: f.type, seq: f.seq, epoch, body };
      return "accepted";
    }
    if (!p) {
      p = { type: f.type, epoch, body: new Uint8Array(f.length), ranges: [] };
      (this.#partial ??= new Map()).set(f.seq, p);
    } else if (p.type !== f.type || p.body.length !== f.length || p.epoch !== epoch) {
      return "dropped";
    }
    if (f.data.length === 0) {
      if (f.length === 0) p.ranges = [0, 0];
      return "accepted";
    }
    p.body.set(f.data, f.offset);
    p.ranges = addRange(p.ranges, f.offset, f.offset + f.data.length);
    return "accepted";
  }

  /** The next message in order, if complete. */
  pop(): HandshakeMessage | undefined {
    const whole = this.#whole;
    if (whole !== undefined) {
      this.#whole = undefined;
      this.#next++;
      return whole;
    }
    const p = this.#partial?.get(this.#next);
    if (!p) return undefined;
    const complete = p.ranges.length === 2 && p.ranges[0] === 0 && p.ranges[1] === p.body.length;
    if (!complete) return undefined;
    this.#partial!.delete(this.#next);
    const msg: HandshakeMessage = { type: p.type, seq: this.#next, epoch: p.epoch, body: p.body };
    this.#next++;
    return msg;
  }
}

function addRange(ranges: number[], start: number, end: number): number[] {
  const out: number[] = [];
  let s = start;
  let e = end;
  let placed = false;
  for (let i = 0; i < ranges.length; i += 2) {
    const rs = ranges[i]!;
    const re = ranges[i + 1]!;
    if (re < s) out.push(rs, re);
    else if (rs > e) {
      if (!placed) {
        out.push(s, e);
        placed = true;
      }
      out.push(rs, re);
    } else {
      s = Math.min(s, rs);
      e = Math.max(e, re);
    }
  }
  if (!placed) out.push(s, e);
  return out;
}
