/**
 * A generator worker process (forked by pool.ts). It runs one job at a time on the parent's
 * orders — setup (open sessions) → go (warm-up + measured window) → close — and answers each
 * over the IPC channel. It exits when told to, or when the parent goes away.
 */
import { HandshakeRun } from "./handshake-mode.js";
import { IdleRun } from "./idle-mode.js";
import type { FromWorker, Job, ToWorker, WorkerResult } from "./job.js";
import { LoadRun } from "./load-mode.js";

interface Run {
  run(): Promise<WorkerResult> | WorkerResult;
  close(): Promise<void>;
}

let current: Run | undefined;

function reply(m: FromWorker): void {
  process.send?.(m);
}

async function setup(job: Job): Promise<void> {
  if (job.kind === "hs") {
    current = new HandshakeRun(job);
    reply({ type: "ready", established: 0, failed: 0, setupMs: 0 });
    return;
  }
  const run = job.kind === "load" ? new LoadRun(job) : new IdleRun(job);
  current = run;
  reply({ type: "ready", ...(await run.setup()) });
}

async function handle(m: ToWorker): Promise<void> {
  switch (m.type) {
    case "setup":
      await setup(m.job);
      return;
    case "go":
      if (!current) throw new Error("go before setup");
      reply({ type: "done", result: await current.run() });
      return;
    case "close":
      await current?.close();
      current = undefined;
      reply({ type: "closed" });
      return;
    case "exit":
      await current?.close();
      process.exit(0);
  }
}

process.on("message", (m: ToWorker) => {
  handle(m).catch((e: unknown) => reply({ type: "error", message: e instanceof Error ? (e.stack ?? e.message) : String(e) }));
});
process.on("disconnect", () => process.exit(0));
