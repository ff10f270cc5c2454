/**
 * The generator as a pool of worker processes (child_process.fork, one per core not used by the
 * server by default), so the load is not capped by one event loop. The harness drives all
 * workers through the same steps and merges their counts.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { DEFAULT_GEN_UDP, requireGenUdp, type GenUdpEngine } from "./gen-udp.js";
import { Histogram } from "./histogram.js";
import type { FromWorker, Job, ToWorker, WorkerResult } from "./job.js";

const WORKER = fileURLToPath(new URL("./worker.ts", import.meta.url));

/** The merged result of one job over all workers. */
export interface PoolResult {
  readonly ok: number;
  readonly errors: number;
  readonly timeouts: number;
  /** The longest worker window (ms): rates are ok / window. */
  readonly measuredMs: number;
  readonly latency: Histogram;
  /** CPU per worker during the window as a share of one core (0..1), highest first. */
  readonly workerCpu: readonly number[];
  readonly responseBytes: number;
  readonly firstError?: string;
}

export interface SetupSummary {
  readonly established: number;
  readonly failed: number;
  readonly setupMs: number;
  readonly firstError?: string;
}

/** Splits `total` across `n` parts as evenly as possible. */
export function share(total: number, n: number, i: number): number {
  return Math.floor(total / n) + (i < total % n ? 1 : 0);
}

/** Worker i's part of a job (sessions or slots split evenly); undefined when its share is 0. */
export function splitJob(job: Job, n: number, i: number): Job | undefined {
  const sourceNet = 10 + (i % 200); // each worker its own 127.<net>.0.0/16 of device addresses
  if (job.kind === "hs") {
    const slots = share(job.slots, n, i);
    return slots === 0 ? undefined : { ...job, slots, sourceNet };
  }
  const sessions = share(job.sessions, n, i);
  return sessions === 0 ? undefined : { ...job, sessions, sourceNet };
}

class WorkerHandle {
  readonly #child: ChildProcess;
  readonly #waiting: Array<(m: FromWorker) => void> = [];
  #exited = false;

  constructor() {
    this.#child = fork(WORKER, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.#child.on("message", (m: FromWorker) => this.#waiting.shift()?.(m));
    this.#child.on("exit", () => {
      this.#exited = true;
      for (const w of this.#waiting.splice(0)) w({ type: "error", message: "generator worker exited" });
    });
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  /** Sends `m` and resolves with the worker's answer; rejects on an error answer or after `timeoutMs`. */
  request<T extends FromWorker["type"]>(m: ToWorker, expect: T, timeoutMs: number): Promise<Extract<FromWorker, { type: T }>> {
    if (this.#exited) return Promise.reject(new Error("generator worker exited"));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`generator worker: no "${expect}" within ${timeoutMs} ms`)), timeoutMs);
      this.#waiting.push((answer) => {
        clearTimeout(timer);
        if (answer.type === expect) resolve(answer as Extract<FromWorker, { type: T }>);
        else reject(new Error(answer.type === "error" ? answer.message : `generator worker: expected ${expect}, got ${answer.type}`));
      });
      this.#child.send(m);
    });
  }

  async stop(): Promise<void> {
    if (this.#exited) return;
    const gone = new Promise<void>((resolve) => this.#child.once("exit", () => resolve()));
    this.#child.send({ type: "exit" } satisfies ToWorker);
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 5000);
    await gone;
    clearTimeout(timer);
  }
}

export interface PoolOptions {
  /** UDP engine of the workers' sockets (default DEFAULT_GEN_UDP); the same for every job. */
  readonly udp?: GenUdpEngine;
}

export class GeneratorPool {
  readonly #workers: WorkerHandle[];
  #active: WorkerHandle[] = [];

  private constructor(
    workers: WorkerHandle[],
    /** The generator's UDP engine, given to every job. */
    readonly udp: GenUdpEngine,
  ) {
    this.#workers = workers;
  }

  /** Forks `n` worker processes; throws when `options.udp` cannot run here. */
  static start(n: number, options: PoolOptions = {}): GeneratorPool {
    if (!(n >= 1 && n <= 64)) throw new RangeError("workers must be 1..64");
    const udp = options.udp ?? DEFAULT_GEN_UDP;
    requireGenUdp(udp); // fail here, not in every worker's first session
    return new GeneratorPool(Array.from({ length: n }, () => new WorkerHandle()), udp);
  }

  get size(): number {
    return this.#workers.length;
  }

  get pids(): number[] {
    return this.#workers.map((w) => w.pid);
  }

  /** Gives each worker its share of `job` and waits until all have opened their sessions. */
  async setup(job: Job, timeoutMs: number): Promise<SetupSummary> {
    const parts = this.#workers.map((w, i) => [w, splitJob(job, this.#workers.length, i)] as const).filter(([, j]) => j !== undefined);
    this.#active = parts.map(([w]) => w);
    const ready = await Promise.all(parts.map(([w, j]) => w.request({ type: "setup", job: { udp: this.udp, ...j! } }, "ready", timeoutMs)));
    const firstError = ready.find((r) => r.firstError)?.firstError;
    return {
      established: ready.reduce((a, r) => a + r.established, 0),
      failed: ready.reduce((a, r) => a + r.failed, 0),
      setupMs: Math.max(0, ...ready.map((r) => r.setupMs)),
      ...(firstError ? { firstError } : {}),
    };
  }

  /** Starts every active worker at once and merges their results. */
  async go(timeoutMs: number): Promise<PoolResult> {
    const done = await Promise.all(this.#active.map((w) => w.request({ type: "go" }, "done", timeoutMs)));
    return merge(done.map((d) => d.result));
  }

  /** Closes the active workers' sessions. */
  async close(timeoutMs: number): Promise<void> {
    await Promise.all(this.#active.map((w) => w.request({ type: "close" }, "closed", timeoutMs)));
    this.#active = [];
  }

  async stop(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.stop()));
  }
}

function merge(results: readonly WorkerResult[]): PoolResult {
  const latency = new Histogram();
  for (const r of results) latency.merge(r.latency);
  const firstError = results.find((r) => r.firstError)?.firstError;
  return {
    ok: results.reduce((a, r) => a + r.ok, 0),
    errors: results.reduce((a, r) => a + r.errors, 0),
    timeouts: results.reduce((a, r) => a + r.timeouts, 0),
    measuredMs: Math.max(0, ...results.map((r) => r.measuredMs)),
    latency,
    workerCpu: results.map((r) => (r.measuredMs > 0 ? r.cpuMs / r.measuredMs : 0)).sort((a, b) => b - a),
    responseBytes: results.reduce((a, r) => a + r.responseBytes, 0),
    ...(firstError ? { firstError } : {}),
  };
}
