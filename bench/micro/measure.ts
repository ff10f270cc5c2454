/** The micro-benchmark loop: warm up, then ops/s as the median of 5 timed rounds. */
import { performance } from "node:perf_hooks";

export const ROUNDS = 5;

/** Every result is stored here so V8 cannot drop a call whose value is unused. */
export let sink: unknown;

/** ops/s of `fn`, median of ROUNDS rounds of `seconds / ROUNDS` each after a 100 ms warm-up. */
export function opsPerSecond(fn: () => unknown, seconds: number): number {
  const until = performance.now() + 100;
  while (performance.now() < until) sink = fn();
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const end = performance.now() + (seconds * 1000) / ROUNDS;
    let n = 0;
    const start = performance.now();
    // Check the clock every 16 calls: performance.now() costs as much as the cheapest cases.
    while (true) {
      for (let i = 0; i < 16; i++) sink = fn();
      n += 16;
      if (performance.now() >= end) break;
    }
    rates.push(n / ((performance.now() - start) / 1000));
  }
  rates.sort((a, b) => a - b);
  return rates[ROUNDS >> 1]!;
}

/** One micro-benchmark case: `fn` is timed; `note` says what one call does. */
export interface MicroCase {
  readonly group: string;
  readonly name: string;
  readonly fn: () => unknown;
  readonly note?: string;
}

export interface MicroResult {
  readonly group: string;
  readonly name: string;
  readonly opsPerSecond: number;
  /** µs per call. */
  readonly usPerOp: number;
  readonly note?: string;
}

export function runCases(cases: readonly MicroCase[], seconds: number): MicroResult[] {
  return cases.map((c) => {
    const ops = opsPerSecond(c.fn, seconds);
    return { group: c.group, name: c.name, opsPerSecond: ops, usPerOp: 1e6 / ops, ...(c.note ? { note: c.note } : {}) };
  });
}

export function microTable(results: readonly MicroResult[]): string {
  const rows = [["group", "case", "ops/s", "µs/op", "what one op is"]];
  for (const r of results) rows.push([r.group, r.name, Math.round(r.opsPerSecond).toLocaleString("en-US"), r.usPerOp.toFixed(2), r.note ?? ""]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r, i) => `| ${r.map((c, j) => (j >= 2 && j <= 3 ? c.padStart(widths[j]!) : c.padEnd(widths[j]!))).join(" | ")} |${i === 0 ? `\n| ${widths.map((w) => "-".repeat(w)).join(" | ")} |` : ""}`).join("\n");
}
