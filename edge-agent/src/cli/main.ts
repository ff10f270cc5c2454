/**
 * The `coaps-edge` command (edge-agent/bin/coaps-edge.mjs calls `main`):
 *
 *   coaps-edge agent [--config FILE] [-A addr] [-p port] [-v level] [--demo] [--cloud URL --gateway-id ID --gateway-key FILE]
 *                    [-k KEY] [-h HINT] [-i FILE] [-c CERT -j KEY] [-C CAFILE] [-R ROOTS] [-n]
 *                                                     (coaps:// on port + 1, coap-server's PSK and PKI flags)
 *   coaps-edge doctor [--config FILE]                  (checks an installation; exit 1 on any problem)
 *   coaps-edge keys --out FILE [--gateway-id ID] [--force]
 *   coaps-edge certs --out DIR [--devices N | --device CN ...] [--intermediate] [--days N] [--force]
 *   coaps-edge get|post|put|delete|fetch|patch|ipatch URI [coap-client flags]
 *   coaps-edge request -m METHOD URI [flags]        (also: coaps-edge URI -m METHOD)
 *
 * Exit codes: see exit-codes.ts (0 ok, 2 usage, 3 timeout, 4 for 4.xx, 5 for 5.xx, 6 DTLS handshake failed, 1 other).
 */
import { Command, CommanderError } from "commander";
import { runAgent, withDtlsServerFlags } from "./agent-command.js";
import { runCerts } from "./certs-command.js";
import { runDoctor } from "./doctor-command.js";
import { ExitCode } from "./exit-codes.js";
import { runKeys } from "./keys-command.js";
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

  withDtlsServerFlags(program.command("agent"))
    .description("run the edge agent (coap://127.0.0.1:5683 serving the embedded cloud registry unless --config says otherwise)")
    .option("--config <file>", "agent config file (JSON)")
    .option("-A, --address <address>", "listen address (default 127.0.0.1)")
    .option("-p, --port <port>", "listen port (default 5683)")
    .option("--interface <name>", "serve on this interface's addresses (e.g. wpan0) and join the CoAP multicast groups ff02::fd, ff03::fd there")
    .option("-v, --verbose <level>", "verbosity 0..9 (libcoap levels)")
    .option("--demo", "serve the demo resources /hello, /echo, /large")
    .option("--cloud <url>", "forward to the cloud Worker at this URL (default: the cloud app embedded in the agent)")
    .option("--gateway-id <id>", "gateway id the cloud knows this agent by (default: the key file's)")
    .option("--gateway-key <file>", "gateway key file from `coaps-edge keys` (mode 0600)")
    .action(async (flags: Parameters<typeof runAgent>[0]) => {
      code = await runAgent(flags, io);
    });

  program
    .command("doctor")
    .description("check an installation: config, gateway key permissions, interface, ports, cloud reachability and token")
    .option("--config <file>", "agent config file (default /etc/coaps-edge/agent.json)")
    .action(async (flags: Parameters<typeof runDoctor>[0]) => {
      code = await runDoctor(flags, io);
    });

  program
    .command("keys")
    .description("create a gateway Ed25519 key file (mode 0600) and print its public key (base64url) for the Worker's GATEWAY_KEYS")
    .option("--out <file>", "key file to write")
    .option("--gateway-id <id>", "gateway id (default: the host name)")
    .option("--force", "overwrite an existing key file")
    .action(async (flags: Parameters<typeof runKeys>[0]) => {
      code = await runKeys(flags, io);
    });

  program
    .command("certs")
    .description("write a test PKI (P-256 PEM files): a CA, a server certificate for localhost/127.0.0.1/::1 and device certificates")
    .option("--out <dir>", "directory to write (created 0700)")
    .option("--devices <n>", "number of device certificates device-001 … (default 1)")
    .option("--device <cn>", "a device certificate with this CN; repeatable", (v: string, prev: string[] = []) => [...prev, v])
    .option("--intermediate", "issue the leaves from an intermediate CA")
    .option("--days <n>", "leaf validity in days (default 365)")
    .option("--force", "overwrite existing files")
    .action(async (flags: Parameters<typeof runCerts>[0]) => {
      code = await runCerts(flags, io);
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
  const first = args.findIndex((a) => /^coaps?(\+tcp|\+ws)?:\/\//i.test(a));
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
