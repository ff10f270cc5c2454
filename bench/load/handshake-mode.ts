/**
 * Handshake mode: `slots` loops, each {open a new session (new source port, full handshake),
 * one GET, close (close_notify)}. A cycle counts when it completes inside the measured window;
 * its latency is open → response. Each step is bounded by the handshake or request timeout.
 */
import { performance } from "node:perf_hooks";
import { Histogram } from "./histogram.js";
import { DEFAULT_GEN_UDP, sessionUdp } from "./gen-udp.js";
import type { HandshakeJob, WorkerResult } from "./job.js";
import { sleep } from "./load-mode.js";
import { oneGet } from "./one-get.js";
import { SourceAddresses } from "./sources.js";
import { PROTOCOLS } from "./protocols.js";
import { GetTemplate } from "./wire.js";

export class HandshakeRun {
  readonly #job: HandshakeJob;
  readonly #template: GetTemplate;
  #running = false;
  #slots: Promise<void>[] = [];

  constructor(job: HandshakeJob) {
    this.#job = job;
    this.#template = new GetTemplate(job.path);
  }

  async run(): Promise<WorkerResult> {
    const job = this.#job;
    const sources = new SourceAddresses(job.sourceNet ?? 10);
    const protocol = PROTOCOLS[job.protocol];
    const engine = sessionUdp("hs", job.udp ?? DEFAULT_GEN_UDP);
    const hist = new Histogram();
    let ok = 0;
    let errors = 0;
    let timeouts = 0;
    let firstError: string | undefined;
    let mStart = Infinity;
    let mEnd = Infinity;
    const inWindow = (t: number) => t >= mStart && t < mEnd;
    this.#running = true;
    const slot = async (): Promise<void> => {
      while (this.#running) {
        const t0 = performance.now();
        try {
          const s = await protocol.open(job.target, { psk: job.psk, handshakeTimeoutMs: job.handshakeTimeoutMs, localAddress: sources.next(job.target.family), engine });
          const outcome = await oneGet(s, this.#template, job.timeoutMs);
          const t1 = performance.now();
          await s.close();
          if (!inWindow(t1)) continue;
          if (outcome === "ok") {
            ok++;
            hist.record((t1 - t0) * 1000);
          } else if (outcome === "timeout") timeouts++;
          else errors++;
        } catch (e) {
          if (inWindow(performance.now())) errors++;
          firstError ??= (e as Error).message;
        }
      }
    };
    this.#slots = Array.from({ length: job.slots }, slot);
    await sleep(job.warmupMs);
    mStart = performance.now();
    const cpu0 = process.cpuUsage();
    await sleep(job.durationMs);
    mEnd = performance.now();
    const cpu = process.cpuUsage(cpu0);
    this.#running = false;
    return {
      ok,
      errors,
      timeouts,
      measuredMs: mEnd - mStart,
      latency: hist.toSparse(),
      cpuMs: (cpu.user + cpu.system) / 1000,
      responseBytes: 0,
      ...(firstError ? { firstError } : {}),
    };
  }

  /** Waits for the slots' last cycles (each bounded by the handshake and request timeouts). */
  async close(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#slots);
  }
}
