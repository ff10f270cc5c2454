/**
 * The fuzz harness (issue 8): a target is a parser plus the one failure it may report — its typed
 * decode error or a typed failure result. `runTarget` feeds it fast-check inputs and fails on
 *   - any other exception (a RangeError, TypeError, a plain Error, ...),
 *   - a slow input: each input is timed on its own and more than `maxMsPerInput` (100 ms) fails
 *     (re-timed twice first, so a GC pause is not a hang),
 *   - unbounded allocation: what a parser returns is walked and its bytes summed; more than
 *     `allocFactor` × input + 4 KiB means the parser built something its input does not justify.
 * Runs are deterministic per seed, so a failure replays from the seed and path it prints.
 */
import fc from "fast-check";

/** One fuzzed parser. `run` returns what the parser built (measured), or throws. */
export interface FuzzTarget<T = Uint8Array> {
  readonly name: string;
  readonly input: fc.Arbitrary<T>;
  readonly run: (input: T) => unknown;
  /** True for the typed failures this parser may throw (its decode error). */
  readonly allowed: (error: unknown) => boolean;
  /** Relative weight in a shared budget of runs (default 1). */
  readonly weight?: number;
  /** Result bytes allowed per input byte (default 4); `Infinity` turns the check off. */
  readonly allocFactor?: number;
}

export interface RunOptions {
  readonly numRuns: number;
  readonly seed: number;
  /** Per-input wall time limit (default 100 ms). */
  readonly maxMsPerInput?: number;
  /** Stop early after this many ms for the target (the long run's time budget). */
  readonly timeLimitMs?: number;
}

export interface TargetReport {
  readonly name: string;
  readonly runs: number;
  readonly ms: number;
  readonly slowestMs: number;
  /** Inputs the parser accepted (not a typed failure). */
  readonly accepted: number;
}

/** Thrown for a harness violation (not the parser's typed error). */
export class FuzzViolation extends Error {
  override readonly name = "FuzzViolation";
}

/** Bytes in a parser's result: Uint8Arrays, strings (2 bytes a char), arrays and plain objects. */
export function resultBytes(value: unknown, seen = new Set<object>(), depth = 0): number {
  if (value === null || value === undefined || depth > 32) return 0;
  if (typeof value === "string") return value.length * 2;
  if (typeof value !== "object") return 8;
  if (seen.has(value)) return 0;
  seen.add(value);
  if (ArrayBuffer.isView(value)) return value.byteLength;
  let n = 16;
  if (Array.isArray(value)) {
    for (const v of value) n += 8 + resultBytes(v, seen, depth + 1);
    return n;
  }
  if (value instanceof Map) {
    for (const [k, v] of value) n += resultBytes(k, seen, depth + 1) + resultBytes(v, seen, depth + 1);
    return n;
  }
  for (const k of Object.keys(value)) n += 8 + resultBytes((value as Record<string, unknown>)[k], seen, depth + 1);
  return n;
}

function inputBytes(input: unknown): number {
  if (input instanceof Uint8Array) return input.length;
  if (Array.isArray(input)) return input.reduce((s: number, x: unknown) => s + inputBytes(x), 0);
  if (typeof input === "object" && input !== null) return resultBytes(input);
  return typeof input === "string" ? input.length : 8;
}

function describeInput(input: unknown): string {
  if (input instanceof Uint8Array) return `hex ${Buffer.from(input).toString("hex")}`;
  try {
    return JSON.stringify(input, (_k, v: unknown) => (v instanceof Uint8Array ? `hex:${Buffer.from(v).toString("hex")}` : v));
  } catch {
    return String(input);
  }
}

/**
 * Runs one target; throws an Error naming the target, seed, counterexample (hex) and the
 * violation when a property fails.
 */
export function runTarget<T>(target: FuzzTarget<T>, options: RunOptions): TargetReport {
  const limit = options.maxMsPerInput ?? 100;
  const factor = target.allocFactor ?? 4;
  let runs = 0;
  let accepted = 0;
  let slowest = 0;
  const started = performance.now();
  const deadline = options.timeLimitMs === undefined ? Infinity : started + options.timeLimitMs;
  const property = fc.property(target.input, (input) => {
    runs++;
    const t0 = performance.now();
    let result: unknown;
    let ok = true;
    try {
      result = target.run(input);
    } catch (e) {
      if (e instanceof FuzzViolation) throw e;
      if (!target.allowed(e)) {
        throw new FuzzViolation(`untyped exception ${(e as Error)?.name ?? typeof e}: ${(e as Error)?.message ?? String(e)}`);
      }
      ok = false;
    }
    let ms = performance.now() - t0;
    // A GC pause or a busy machine can stall any input once: a slow input is timed twice more
    // and fails only if even its fastest run is over the limit (a real hang is slow every time).
    for (let retry = 0; ms > limit && retry < 2; retry++) {
      const t1 = performance.now();
      try {
        target.run(input);
      } catch {
        // classified above
      }
      ms = Math.min(ms, performance.now() - t1);
    }
    if (ms > slowest) slowest = ms;
    if (ms > limit) throw new FuzzViolation(`input took ${ms.toFixed(1)} ms every time (limit ${limit} ms)`);
    if (ok) {
      accepted++;
      const built = resultBytes(result);
      const bound = factor * inputBytes(input) + 4096;
      if (built > bound) throw new FuzzViolation(`result holds ${built} bytes for a ${inputBytes(input)}-byte input (bound ${bound})`);
    }
  });
  const result = fc.check(property, {
    numRuns: options.numRuns,
    seed: options.seed,
    interruptAfterTimeLimit: Number.isFinite(deadline) ? Math.max(1, Math.floor(deadline - started)) : undefined,
    markInterruptAsFailure: false,
    endOnFailure: true,
  });
  if (result.failed) {
    const cause = result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance);
    throw new Error(
      `fuzz target ${target.name} failed (seed ${result.seed}, path "${result.counterexamplePath ?? ""}"): ${cause}\n` +
        `  input: ${result.counterexample ? describeInput(result.counterexample[0]) : "?"}`,
    );
  }
  return { name: target.name, runs, ms: performance.now() - started, slowestMs: slowest, accepted };
}

// ---- input shapes -------------------------------------------------------------------------

/** Byte-level mutations of valid seeds: bit flips, byte sets, truncation, insertion, splicing. */
export function mutated(seeds: readonly Uint8Array[], maxExtra = 32): fc.Arbitrary<Uint8Array> {
  const seed = fc.constantFrom(...seeds);
  const edit = fc.oneof(
    fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff) }),
    fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
    fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: maxExtra }) }),
    fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
  );
  return fc.tuple(seed, fc.array(edit, { minLength: 1, maxLength: 4 })).map(([s, edits]) => {
    let b = Uint8Array.from(s);
    for (const e of edits) {
      const at = b.length === 0 ? 0 : e.at % (b.length + 1);
      switch (e.kind) {
        case "flip":
          if (at < b.length) b[at]! ^= 1 << e.bit;
          break;
        case "set":
          if (at < b.length) b[at] = e.value;
          break;
        case "truncate":
          b = b.slice(0, at);
          break;
        case "insert":
          b = Uint8Array.from([...b.subarray(0, at), ...e.bytes, ...b.subarray(at)]);
          break;
        case "delete":
          b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + e.n)]);
          break;
      }
    }
    return b;
  });
}

/** Arbitrary bytes, valid seeds mutated, and the seeds themselves. */
export function bytesAround(seeds: readonly Uint8Array[], maxLength = 96): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.uint8Array({ maxLength }) },
    { weight: 6, arbitrary: mutated(seeds) },
    { weight: 1, arbitrary: fc.constantFrom(...seeds).map((s) => Uint8Array.from(s)) },
  );
}
