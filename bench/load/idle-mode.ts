/**
 * Idle mode: open N sessions (one GET each, so the server has allocated whatever a served
 * session costs), then hold them without traffic until the harness has read the server's RSS.
 * With `detach`, each session's socket is closed right after its GET without close_notify and
 * nothing is kept: the server holds the session all the same (until its idle timeout), and the
 * generator needs only `setupConcurrency` sockets at a time instead of N.
 */
import { performance } from "node:perf_hooks";
import { DEFAULT_GEN_UDP, sessionUdp } from "./gen-udp.js";
import type { IdleJob, WorkerResult } from "./job.js";
import type { SetupReport } from "./load-mode.js";
import { oneGet } from "./one-get.js";
import { mapLimit } from "./pool-limit.js";
import { SourceAddresses } from "./sources.js";
import { PROTOCOLS, type GenSession } from "./protocols.js";
import { GetTemplate } from "./wire.js";

export class IdleRun {
  readonly #job: IdleJob;
  #sessions: GenSession[] = [];
  /** Sessions established and detached (`job.detach`). */
  #detached = 0;
  #errors = 0;

  constructor(job: IdleJob) {
    this.#job = job;
  }

  async setup(): Promise<SetupReport> {
    const job = this.#job;
    const sources = new SourceAddresses(job.sourceNet ?? 10);
    const protocol = PROTOCOLS[job.protocol];
    const template = new GetTemplate(job.path);
    const t0 = performance.now();
    let firstError: string | undefined;
    await mapLimit(job.sessions, job.setupConcurrency, async () => {
      try {
        const s = await protocol.open(job.target, { psk: job.psk, handshakeTimeoutMs: job.handshakeTimeoutMs, localAddress: sources.next(job.target.family), engine: sessionUdp("idle", job.udp ?? DEFAULT_GEN_UDP) });
        if (!job.detach) this.#sessions.push(s);
        if ((await oneGet(s, template, job.timeoutMs)) !== "ok") this.#errors++;
        if (job.detach) {
          await s.detach();
          this.#detached++;
        }
      } catch (e) {
        firstError ??= (e as Error).message;
      }
    });
    const established = this.#sessions.length + this.#detached;
    return { established, failed: job.sessions - established, setupMs: performance.now() - t0, ...(firstError ? { firstError } : {}) };
  }

  /** Nothing to run: the sessions are held; reports how many. */
  run(): WorkerResult {
    return { ok: this.#sessions.length + this.#detached, errors: this.#errors, timeouts: 0, measuredMs: 0, latency: { idx: [], n: [], count: 0, overflow: 0 }, cpuMs: 0, responseBytes: 0 };
  }

  async close(): Promise<void> {
    await Promise.all(this.#sessions.map((s) => s.close().catch(() => {})));
    this.#sessions = [];
  }
}
