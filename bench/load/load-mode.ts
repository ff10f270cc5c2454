/**
 * Load mode: N sessions, each keeping W CON GETs outstanding (a response, a timeout or an RST
 * frees a slot and the next request goes out at once), for a warm-up and then a measured window.
 *
 * Per session, a ring indexed by Message ID holds the send time of each outstanding request:
 * no Map, no closure and one small Buffer per request, so the generator spends its CPU on the
 * socket and (for DTLS) the record cipher, as the server does.
 */
import { performance } from "node:perf_hooks";
import { Histogram } from "./histogram.js";
import { DEFAULT_GEN_UDP, sessionUdp } from "./gen-udp.js";
import type { LoadJob, WorkerResult } from "./job.js";
import { mapLimit } from "./pool-limit.js";
import { SourceAddresses } from "./sources.js";
import { PROTOCOLS, type GenSession } from "./protocols.js";
import { GetTemplate, isSuccess, messageId, messageType, responseCode } from "./wire.js";

const RING = 1024; // > 2 × the largest window, so a slot is free again long before its ID comes back
const MASK = RING - 1;
export const MAX_WINDOW = 256;
const ACK = 2;
const RST = 3;

const Phase = { Idle: 0, Warm: 1, Measure: 2, Stopped: 3 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

interface Slotted {
  readonly s: GenSession;
  mid: number;
  readonly sentAt: Float64Array;
  readonly ringMid: Int32Array;
}

export interface SetupReport {
  readonly established: number;
  readonly failed: number;
  readonly setupMs: number;
  readonly firstError?: string;
}

export class LoadRun {
  readonly #job: LoadJob;
  readonly #template: GetTemplate;
  #sessions: Slotted[] = [];
  #phase: Phase = Phase.Idle;
  #hist = new Histogram();
  #ok = 0;
  #errors = 0;
  #timeouts = 0;
  #bytes = 0;
  #sweep: NodeJS.Timeout | undefined;

  constructor(job: LoadJob) {
    if (!(job.window >= 1 && job.window <= MAX_WINDOW)) throw new RangeError(`window must be 1..${MAX_WINDOW}`);
    this.#job = job;
    this.#template = new GetTemplate(job.path);
  }

  /** Opens the sessions (handshakes for DTLS), `setupConcurrency` at a time. */
  async setup(): Promise<SetupReport> {
    const job = this.#job;
    const sources = new SourceAddresses(job.sourceNet ?? 10);
    const protocol = PROTOCOLS[job.protocol];
    const engine = sessionUdp("load", job.udp ?? DEFAULT_GEN_UDP);
    const t0 = performance.now();
    let firstError: string | undefined;
    const opened = await mapLimit(job.sessions, job.setupConcurrency, async () => {
      try {
        return await protocol.open(job.target, { psk: job.psk, handshakeTimeoutMs: job.handshakeTimeoutMs, localAddress: sources.next(job.target.family), engine });
      } catch (e) {
        firstError ??= (e as Error).message;
        return undefined;
      }
    });
    for (const s of opened) {
      if (!s) continue;
      const st: Slotted = { s, mid: (Math.random() * 0x10000) | 0, sentAt: new Float64Array(RING), ringMid: new Int32Array(RING).fill(-1) };
      s.onMessage = (data) => this.#onMessage(st, data);
      this.#sessions.push(st);
    }
    const established = this.#sessions.length;
    return { established, failed: job.sessions - established, setupMs: performance.now() - t0, ...(firstError ? { firstError } : {}) };
  }

  /** Runs warm-up then the measured window; resolves with this worker's counts. */
  async run(): Promise<WorkerResult> {
    const job = this.#job;
    this.#phase = Phase.Warm;
    this.#sweep = setInterval(() => this.#sweepTimeouts(), 100);
    for (const st of this.#sessions) for (let i = 0; i < job.window; i++) this.#sendNext(st);
    await sleep(job.warmupMs);
    this.#phase = Phase.Measure;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(job.durationMs);
    this.#phase = Phase.Stopped;
    const measuredMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    clearInterval(this.#sweep);
    return {
      ok: this.#ok,
      errors: this.#errors,
      timeouts: this.#timeouts,
      measuredMs,
      latency: this.#hist.toSparse(),
      cpuMs: (cpu.user + cpu.system) / 1000,
      responseBytes: this.#bytes,
    };
  }

  /** Ends every session (DTLS: close_notify, so the server frees it at once). */
  async close(): Promise<void> {
    this.#phase = Phase.Stopped;
    clearInterval(this.#sweep);
    await Promise.all(this.#sessions.map((st) => st.s.close().catch(() => {})));
    this.#sessions = [];
  }

  #sendNext(st: Slotted): void {
    const mid = (st.mid = (st.mid + 1) & 0xffff);
    const slot = mid & MASK;
    if (st.ringMid[slot] !== -1 && this.#phase === Phase.Measure) this.#timeouts++; // overtaken: lost long ago
    st.ringMid[slot] = mid;
    st.sentAt[slot] = performance.now();
    st.s.send(this.#template.next(mid));
  }

  #onMessage(st: Slotted, data: Uint8Array): void {
    const type = messageType(data);
    if (type !== ACK && type !== RST) return; // a separate response would be a CON: not expected for these GETs
    const mid = messageId(data);
    const slot = mid & MASK;
    if (st.ringMid[slot] !== mid) return; // late answer to a request already counted as timed out
    st.ringMid[slot] = -1;
    const phase = this.#phase;
    if (phase === Phase.Measure) {
      if (type === ACK && isSuccess(responseCode(data))) {
        this.#ok++;
        this.#bytes += data.length;
        this.#hist.record((performance.now() - st.sentAt[slot]!) * 1000);
      } else {
        this.#errors++;
      }
    }
    if (phase === Phase.Warm || phase === Phase.Measure) this.#sendNext(st);
  }

  #sweepTimeouts(): void {
    const now = performance.now();
    const limit = this.#job.timeoutMs;
    for (const st of this.#sessions) {
      for (let slot = 0; slot < RING; slot++) {
        if (st.ringMid[slot] === -1 || now - st.sentAt[slot]! < limit) continue;
        st.ringMid[slot] = -1;
        if (this.#phase === Phase.Measure) this.#timeouts++;
        if (this.#phase === Phase.Warm || this.#phase === Phase.Measure) this.#sendNext(st);
      }
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
