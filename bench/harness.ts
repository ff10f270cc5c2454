/**
 * Runs the workloads: both servers side by side, alternating which goes first each round, one
 * generator pool for all. Load and handshake samples share long-running servers; each idle-memory
 * sample starts fresh servers so RSS before/after is about those sessions only.
 */
import { performance } from "node:perf_hooks";
import type { Job, PskSpec } from "./load/job.js";
import { sleep } from "./load/load-mode.js";
import type { GeneratorPool, PoolResult } from "./load/pool.js";
import { PROTOCOLS } from "./load/protocols.js";
import type { Cell, Row, Sample } from "./report/types.js";
import { cpuSeconds, rssBytes, type RunningServer } from "./servers.js";
import type { Profile, Workload } from "./workloads.js";

export const BENCH_PSK: PskSpec = { identity: "bench", key: "secretPSK" };
const HANDSHAKE_TIMEOUT_MS = 5000;
const REQUEST_TIMEOUT_MS = 2000;

export interface Timing {
  readonly warmupMs: number;
  readonly durationMs: number;
}

/** Why `w` cannot run against `server` (generator or server side), or undefined. */
export function unavailable(w: Workload, server: RunningServer | undefined, missing: string | undefined): string | undefined {
  if (!server) return missing ?? "server not running";
  if (w.oursOnly && server.name !== "ours") return w.oursOnly;
  const gen = PROTOCOLS[w.protocol].unavailable();
  if (gen) return gen;
  if (w.protocol !== "plain" && server.dtlsPort === undefined) return server.dtlsUnavailable ?? "no DTLS port";
  if (w.protocol === "ecdhe" && server.pkiUnavailable) return server.pkiUnavailable;
  return undefined;
}

function targetPort(w: Workload, server: RunningServer): number {
  return w.protocol === "plain" ? server.plainPort : server.dtlsPort!;
}

function jobFor(w: Workload, server: RunningServer, timing: Timing): Job {
  const base = {
    protocol: w.protocol,
    target: { address: "127.0.0.1", port: targetPort(w, server), family: "IPv4" as const },
    path: server.name === "ours" ? (w.oursPath ?? server.path) : server.path,
    psk: BENCH_PSK,
    handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
  };
  switch (w.kind) {
    case "load":
      return { ...base, kind: "load", sessions: w.sessions, window: w.window, warmupMs: timing.warmupMs, durationMs: timing.durationMs, timeoutMs: REQUEST_TIMEOUT_MS, setupConcurrency: 32 };
    case "hs":
      return { ...base, kind: "hs", slots: w.sessions, warmupMs: warmupFor(w, timing), durationMs: timing.durationMs, timeoutMs: REQUEST_TIMEOUT_MS };
    case "idle":
      return { ...base, kind: "idle", sessions: w.sessions, setupConcurrency: 64, timeoutMs: REQUEST_TIMEOUT_MS, ...(w.detach ? { detach: true } : {}) };
  }
}

const setupTimeout = (n: number) => 30_000 + n * 20;

/**
 * Handshake workloads warm up for at least HS_WARMUP_MS: V8 optimizes our handshake code only
 * after a few thousand handshakes (in process: 312–356 µs per handshake for handshakes 350–700,
 * 104–149 µs by handshake 3,000), and the quick profile's 0.5 s is ~1,000 handshakes — the first
 * round then measured code still being compiled, not a gateway that has been up for a while.
 * coap-server-openssl is C and gets the same warm-up (it needs none). Capped at 4× the profile's
 * warm-up, so the seconds-long smoke profile stays short.
 */
export const HS_WARMUP_MS = 2000;

function warmupFor(w: Workload, timing: Timing): number {
  return w.kind === "hs" ? Math.max(timing.warmupMs, Math.min(HS_WARMUP_MS, 4 * timing.warmupMs)) : timing.warmupMs;
}

/** One load or handshake sample: the generator's counts plus the server's CPU over the same window. */
export async function measureRate(pool: GeneratorPool, w: Workload, server: RunningServer, timing: Timing): Promise<Sample> {
  const job = jobFor(w, server, timing);
  try {
    const setup = await pool.setup(job, setupTimeout(w.sessions));
    if (w.kind === "load" && setup.established === 0) throw new Error(`no session established${setup.firstError ? `: ${setup.firstError}` : ""}`);
    const warmupMs = warmupFor(w, timing);
    const going = pool.go(warmupMs + timing.durationMs + 30_000);
    await sleep(warmupMs);
    const c0 = cpuSeconds(server.pid);
    const t0 = performance.now();
    const w0 = monotonicUs();
    await sleep(timing.durationMs);
    const c1 = cpuSeconds(server.pid);
    const w1 = monotonicUs();
    const wallS = (performance.now() - t0) / 1000;
    const r: PoolResult = await going;
    const value = r.measuredMs > 0 ? r.ok / (r.measuredMs / 1000) : 0;
    return {
      value,
      p50Us: r.latency.quantile(0.5),
      p99Us: r.latency.quantile(0.99),
      ...(r.ok > 0 ? { serverCpuUsPerOp: ((c1 - c0) * 1e6) / (value * wallS) } : {}),
      serverCpu: (c1 - c0) / wallS,
      generatorCpu: r.workerCpu[0] ?? 0,
      errors: r.errors + setup.failed,
      timeouts: r.timeouts,
      ...(r.ok > 0 && w.kind === "load" ? { responseBytes: r.responseBytes / r.ok } : {}),
      ...(w.kind === "load" ? { sessions: setup.established } : {}),
      windowUs: [w0, w1],
      ...((r.firstError ?? setup.firstError) ? { firstError: r.firstError ?? setup.firstError } : {}),
    };
  } finally {
    await pool.close(60_000).catch(() => {});
  }
}

/**
 * One idle-memory sample on a fresh server: RSS after start-up, then after `sessions` DTLS
 * sessions (one GET each) have settled; bytes per session = difference / sessions held.
 */
export async function measureIdle(pool: GeneratorPool, w: Workload, start: () => Promise<RunningServer>): Promise<Sample> {
  const server = await start();
  try {
    const why = unavailable(w, server, undefined);
    if (why) throw new NotAvailable(why);
    await sleep(500);
    const rss0 = rssBytes(server.pid);
    const setup = await pool.setup(jobFor(w, server, { warmupMs: 0, durationMs: 0 }), setupTimeout(w.sessions));
    const r = await pool.go(30_000);
    await sleep(1000); // let handshake buffers be released and the allocator settle
    const rss1 = rssBytes(server.pid);
    await pool.close(120_000);
    if (setup.established === 0) throw new Error(`no session established${setup.firstError ? `: ${setup.firstError}` : ""}`);
    return {
      value: (rss1 - rss0) / setup.established,
      errors: setup.failed + r.errors,
      timeouts: 0,
      sessions: setup.established,
      rssBytes: rss1,
      ...(setup.firstError ? { firstError: setup.firstError } : {}),
    };
  } finally {
    await pool.close(120_000).catch(() => {});
    await server.stop();
  }
}

/** A workload that cannot run against this server; its reason goes in the table. */
export class NotAvailable extends Error {
  override readonly name = "NotAvailable";
}

/** CLOCK_MONOTONIC in µs: comparable with the timestamps in another process's .cpuprofile. */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function medianOf(samples: readonly Sample[], pick: (s: Sample) => number | undefined): number | undefined {
  const xs = samples.map(pick).filter((x): x is number => x !== undefined);
  return xs.length === 0 ? undefined : median(xs);
}

/** Folds a server's samples of one workload into a cell (medians over rounds). */
export function toCell(samples: readonly Sample[], failures: readonly string[]): Cell {
  if (samples.length === 0) return { status: "n/a", reason: failures[0] ?? "not run" };
  const opt = (k: string, v: number | undefined) => (v === undefined ? {} : { [k]: v });
  return {
    status: "ok",
    median: median(samples.map((s) => s.value)),
    ...opt("p50Us", medianOf(samples, (s) => s.p50Us)),
    ...opt("p99Us", medianOf(samples, (s) => s.p99Us)),
    ...opt("serverCpuUsPerOp", medianOf(samples, (s) => s.serverCpuUsPerOp)),
    ...opt("serverCpu", medianOf(samples, (s) => s.serverCpu)),
    ...opt("generatorCpu", Math.max(0, ...samples.map((s) => s.generatorCpu ?? 0))),
    ...opt("responseBytes", medianOf(samples, (s) => s.responseBytes)),
    errors: samples.reduce((a, s) => a + s.errors, 0),
    timeouts: samples.reduce((a, s) => a + s.timeouts, 0),
    samples,
  };
}

export function toRow(w: Workload, ours: Cell, libcoap: Cell): Row {
  const both = ours.status === "ok" && libcoap.status === "ok";
  const ratio = both && libcoap.median > 0 ? ours.median / libcoap.median : undefined;
  const oursCpu = ours.status === "ok" ? ours.serverCpuUsPerOp : undefined;
  const libCpu = libcoap.status === "ok" ? libcoap.serverCpuUsPerOp : undefined;
  const cpuRatio = oursCpu !== undefined && libCpu !== undefined && oursCpu > 0 ? libCpu / oursCpu : undefined;
  return { workload: w, ours, libcoap, ...(ratio !== undefined ? { ratio } : {}), ...(cpuRatio !== undefined ? { cpuRatio } : {}) };
}

export type { Profile };
