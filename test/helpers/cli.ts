/**
 * The `coaps-edge` CLI in tests: in process (the same `main` the bin script calls, without a
 * node start-up of about a second per call) and as a process (what users run).
 */
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { main } from "../../edge-agent/src/cli/main.js";
import { run } from "./libcoap.js";

export const CLI_BIN = fileURLToPath(new URL("../../edge-agent/bin/coaps-edge.mjs", import.meta.url));

/** `node coaps-edge.mjs ARGS` as a child process. */
export const cliProcess = (...args: string[]) => run(process.execPath, [CLI_BIN, ...args], { timeoutMs: 30_000 });

export interface CliResult<T> {
  readonly code: number;
  readonly stdout: T;
  readonly stderr: T;
}

/** `main(ARGS)` in this process, with an empty stdin; stdout and stderr as bytes. */
export async function cliInProcess(...args: string[]): Promise<CliResult<Buffer>> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough().on("data", (c: Buffer) => out.push(c));
  const stderr = new PassThrough().on("data", (c: Buffer) => err.push(c));
  const code = await main(args, { stdout, stderr, stdin: new PassThrough().end() });
  return { code, stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
}

/** As cliInProcess, stdout and stderr as UTF-8 text. */
export async function cliInProcessText(...args: string[]): Promise<CliResult<string>> {
  const r = await cliInProcess(...args);
  return { code: r.code, stdout: r.stdout.toString("utf8"), stderr: r.stderr.toString("utf8") };
}
