/**
 * Many deadlines on one clock timer. Every outstanding CON, separate-response delay and
 * request timeout would otherwise cost a closure plus a node timer per message; here each
 * deadline is an intrusive heap entry (the owner object itself carries `due` and its heap
 * index), and the queue keeps at most one `Clock` timer armed for the earliest deadline.
 *
 * Removal is O(log n) and does not re-arm: if the removed entry was the earliest, the armed
 * timer fires early, finds nothing due, and re-arms for the new head (one spurious wake at
 * most, cheaper than cancel + re-create on every ACK).
 */
import type { Clock, TimerHandle } from "../util/clock.js";

/** A heap entry: any object with these two fields (owned by the queue while scheduled). */
export interface TimerEntry {
  /** Absolute due time on the queue's clock. */
  timerDue: number;
  /** Position in the heap, -1 when not scheduled. */
  timerIndex: number;
}

export class TimerQueue<T extends TimerEntry> {
  readonly #heap: T[] = [];
  #armed: TimerHandle | undefined;
  #armedAt = Infinity;
  readonly #fire = (): void => this.#onTimer();

  /** `onDue` is called once per entry whose deadline passed (the entry is already removed). */
  constructor(
    private readonly clock: Clock,
    private readonly onDue: (entry: T) => void,
  ) {}

  get size(): number {
    return this.#heap.length;
  }

  /** Schedules (or reschedules) `entry` at absolute time `due`. */
  schedule(entry: T, due: number): void {
    if (entry.timerIndex >= 0) this.remove(entry);
    entry.timerDue = due;
    entry.timerIndex = this.#heap.length;
    this.#heap.push(entry);
    this.#up(entry.timerIndex);
    if (due < this.#armedAt) this.#arm(due);
  }

  /** Schedules `entry` `delayMs` from now. */
  scheduleIn(entry: T, delayMs: number): void {
    this.schedule(entry, this.clock.now() + delayMs);
  }

  /** Removes `entry` if scheduled; returns whether it was. */
  remove(entry: T): boolean {
    const i = entry.timerIndex;
    if (i < 0 || this.#heap[i] !== entry) return false;
    const last = this.#heap.pop() as T;
    entry.timerIndex = -1;
    if (i < this.#heap.length) {
      this.#heap[i] = last;
      last.timerIndex = i;
      this.#down(i);
      this.#up(last.timerIndex);
    }
    return true;
  }

  /** Drops every entry and the armed timer. */
  clear(): void {
    for (const e of this.#heap) e.timerIndex = -1;
    this.#heap.length = 0;
    this.#armed?.cancel();
    this.#armed = undefined;
    this.#armedAt = Infinity;
  }

  #arm(due: number): void {
    this.#armed?.cancel();
    this.#armedAt = due;
    // ceil: a real timer may fire on the truncated millisecond, before `due`.
    this.#armed = this.clock.setTimer(Math.max(0, Math.ceil(due - this.clock.now())), this.#fire);
  }

  #onTimer(): void {
    this.#armed = undefined;
    this.#armedAt = Infinity;
    const now = this.clock.now();
    for (;;) {
      const head = this.#heap[0];
      if (!head || head.timerDue > now) break;
      this.remove(head);
      this.onDue(head);
    }
    const head = this.#heap[0];
    if (head && head.timerDue < this.#armedAt) this.#arm(head.timerDue);
  }

  #up(i: number): void {
    const heap = this.#heap;
    const e = heap[i] as T;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p] as T;
      if (parent.timerDue <= e.timerDue) break;
      heap[i] = parent;
      parent.timerIndex = i;
      i = p;
    }
    heap[i] = e;
    e.timerIndex = i;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const e = heap[i] as T;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && (heap[r] as T).timerDue < (heap[l] as T).timerDue) c = r;
      const child = heap[c] as T;
      if (child.timerDue >= e.timerDue) break;
      heap[i] = child;
      child.timerIndex = i;
      i = c;
    }
    heap[i] = e;
    e.timerIndex = i;
  }
}
