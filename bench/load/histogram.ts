/**
 * A latency histogram in microseconds, mergeable across worker processes: 1 µs buckets below
 * 1,024 µs, then 128 buckets per power of two (relative error < 0.8%) up to 2^27 µs (134 s).
 * Fixed size and allocation-free on `record`, so the generator's hot path pays one increment.
 */
const LINEAR = 1024;
const LINEAR_BITS = 10;
const SUB_BITS = 7;
const SUB = 1 << SUB_BITS;
const MAX_EXP = 27;
const BUCKETS = LINEAR + (MAX_EXP - LINEAR_BITS) * SUB;

export class Histogram {
  readonly counts = new Uint32Array(BUCKETS);
  count = 0;
  /** Values above the top bucket (counted, reported as the top bucket). */
  overflow = 0;

  /** Adds one value in µs (negative values count as 0). */
  record(us: number): void {
    this.count++;
    if (us < LINEAR) {
      this.counts[us > 0 ? us | 0 : 0]!++;
      return;
    }
    const v = Math.floor(us);
    const exp = 31 - Math.clz32(v); // floor(log2 v) ≥ 10
    if (exp >= MAX_EXP) {
      this.overflow++;
      this.counts[BUCKETS - 1]!++;
      return;
    }
    const sub = (v >>> (exp - SUB_BITS)) - SUB; // the top SUB_BITS bits below the leading one
    this.counts[LINEAR + (exp - LINEAR_BITS) * SUB + sub]!++;
  }

  /** Adds another histogram's counts into this one. */
  merge(other: Histogram | SparseHistogram): void {
    const h = other instanceof Histogram ? other.toSparse() : other;
    for (let i = 0; i < h.idx.length; i++) this.counts[h.idx[i]!]! += h.n[i]!;
    this.count += h.count;
    this.overflow += h.overflow;
  }

  /** The value (µs, the bucket's lower edge) at quantile q in [0, 1]; 0 when empty. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.min(this.count - 1, Math.max(0, Math.floor(q * this.count)));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen > rank) return lowerEdge(i);
    }
    return lowerEdge(BUCKETS - 1);
  }

  /** A compact, structured-clone-friendly form for IPC (non-empty buckets only). */
  toSparse(): SparseHistogram {
    const idx: number[] = [];
    const n: number[] = [];
    for (let i = 0; i < BUCKETS; i++) {
      const c = this.counts[i]!;
      if (c !== 0) {
        idx.push(i);
        n.push(c);
      }
    }
    return { idx, n, count: this.count, overflow: this.overflow };
  }

  static fromSparse(s: SparseHistogram): Histogram {
    const h = new Histogram();
    h.merge(s);
    return h;
  }
}

export interface SparseHistogram {
  readonly idx: readonly number[];
  readonly n: readonly number[];
  readonly count: number;
  readonly overflow: number;
}

function lowerEdge(i: number): number {
  if (i < LINEAR) return i;
  const exp = LINEAR_BITS + Math.floor((i - LINEAR) / SUB);
  const sub = (i - LINEAR) % SUB;
  return (SUB + sub) * 2 ** (exp - SUB_BITS);
}
