/**
 * The `coaps-edge` command (edge-agent/bin/coaps-edge.mjs calls `main`):
 *
 *   coaps-edge agent [--config FILE] [-A addr] [-p port] [-v level] [--demo]
 *   coaps-edge get|post|put|delete|fetch|patch|ipatch URI [coap-client flags]
 *   coaps-edge request -m METHOD URI [flags]        (also: coaps-edge URI -m METHOD)
 *
 * Exit codes: see exit-codes.ts (0 ok, 2 usage, 3 timeout, 4 for 4.xx, 5 for 5.xx, 1 other).
 */
import { Command, CommanderError } from "commander";
import { runAgent } from "./agent-command.js";
import { ExitCode } from "./exit-codes.js";
import { runRequest, withRequestFlags, type CliIo } from "./request-command.js";

const METHODS = ["get", "post", "put", "delete", "fetch", "patch", "ipatch"] as const;

/** Runs the CLI with `argv` (without node and script path); resolves with the exit code. */
export async function main(argv: readonly string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }): Promise<number> {
  let code: number = ExitCode.Ok;
  const program = new Command("coaps-edge")
    .description("CoAP Secure edge agent and CoAP client")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError();

  program
    .command("agent")
    .description("run the edge agent (coap://127.0.0.1:5683 with demo resources unless --config says otherwise)")
    .option("--config <file>", "agent config file (JSON)")
    .option("-A, --address <address>", "listen address (default 127.0.0.1)")
    .option("-p, --port <port>", "listen port (default 5683)")
    .option("-v, --verbose <level>", "verbosity 0..9 (libcoap levels)")
    .option("--demo", "serve the demo resources /hello, /echo, /large")
    .action(async (flags: Parameters<typeof runAgent>[0]) => {
      code = await runAgent(flags, io);
    });

  for (const m of METHODS) {
    withRequestFlags(program.command(`${m} <uri>`).description(`send a ${m.toUpperCase()} request`), false).action(
      async (uri: string, flags: Parameters<typeof runRequest>[2]) => {
        code = await runRequest(m, uri, flags, io);
      },
    );
  }
  withRequestFlags(program.command("request <uri>").description("send a request (-m method, default get)"), true).action(
    async (uri: string, flags: Parameters<typeof runRequest>[2]) => {
      code = await runRequest(flags.method ?? "get", uri, flags, io);
    },
  );

  // coap-client style: `coaps-edge [-m put] coap://host/path`.
  const args = [...argv];
  const first = args.findIndex((a) => /^coaps?:\/\//i.test(a));
  if (first >= 0 && !METHODS.includes(args[0] as (typeof METHODS)[number]) && args[0] !== "request") args.unshift("request");

  try {
    await program.parseAsync(args, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    io.stderr.write(`coaps-edge: ${(e as Error).message}\n`);
    return ExitCode.Failure;
  }
  return code;
}
