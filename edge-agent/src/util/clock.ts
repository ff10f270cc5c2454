/**
 * Time as an injected dependency. Protocol state machines (CoAP retransmission, DTLS flight
 * timers, dedup lifetimes) take a `Clock` so tests drive them with `FakeClock` instead of
 * sleeping (STYLE.md §2).
 */

export interface TimerHandle {
  /** Cancels the timer; a no-op when it already ran or was cancelled. */
  cancel(): void;
}

export interface Clock {
  /** Milliseconds on a monotonic scale (only differences are meaningful). */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds. */
  setTimer(ms: number, fn: () => void): TimerHandle;
}

/** The real clock: performance.now() and unref'd node timers (timers never keep the process alive). */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};

interface FakeTimer {
  readonly due: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/**
 * A deterministic clock for tests: time moves only through `advance`, and timers fire in due
 * order (ties in creation order), including timers created by timers within the advanced span.
 */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: FakeTimer[] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const timer: FakeTimer = { due: this.#now + Math.max(0, ms), seq: this.#seq++, fn, cancelled: false };
    this.#timers.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }

  /** Number of timers that are still pending. */
  get pending(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const next = this.#nextDue(end);
      if (!next) break;
      this.#now = next.due;
      this.#timers.splice(this.#timers.indexOf(next), 1);
      next.fn();
    }
    this.#now = end;
  }

  /** Fires timers until none is left or `limitMs` of fake time has passed. */
  runAll(limitMs = 24 * 3600_000): void {
    const end = this.#now + limitMs;
    for (;;) {
      const next = this.#nextDue(end);
      if (!next) break;
      this.advance(next.due - this.#now);
    }
  }

  #nextDue(end: number): FakeTimer | undefined {
    this.#timers = this.#timers.filter((t) => !t.cancelled);
    let best: FakeTimer | undefined;
    for (const t of this.#timers) {
      if (t.due > end) continue;
      if (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t;
    }
    return best;
  }
}
