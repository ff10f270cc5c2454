/**
 * `coaps-edge agent [--config FILE] [-A address] [-p port] [-v level] [--demo]
 *  [--cloud URL --gateway-id ID --gateway-key FILE]`: runs the edge agent until SIGINT/SIGTERM.
 * Flags as libcoap's coap-server; they override the config file. Without --config the agent
 * serves the cloud registry, embedded (cloud/resources: /hello, /echo, /large, …), on
 * coap://127.0.0.1:5683; --demo adds the local demo resources. --cloud URL forwards to a remote
 * Worker instead (cloud.mode "remote"), signing with the --gateway-key file.
 *
 * coaps:// (DTLS, on port + 1 like coap-server) with coap-server's PSK flags: `-k KEY` (any
 * identity with this key), `-h HINT` (identity hint, default "CoAP"), `-i FILE` (lines
 * `hint,identity,key`); any of them turns coaps on, next to `coaps.psk` from the config.
 * Certificates with coap-server's PKI flags: `-c CERT -j KEY` (PEM; the key may be in CERT),
 * `-C CAFILE` (client certificates required and validated against it), `-R ROOTS` (trusted
 * roots, no common-CA requirement), `-n` (no client certificate check). PSK and PKI together
 * are fine: a client gets the suites its own credentials allow.
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import type { LogLevel } from "@coaps-edge/shared";
import { AgentError, createAgent, validateAgentConfig } from "../agent.js";
import { dtlsListener } from "../dtls-listener.js";
import { ExitCode } from "./exit-codes.js";
import { createLogger, levelFromVerbosity } from "./logger.js";
import { UsageError, parsePort, parsePskFile, parseVerbosity } from "./parse-args.js";
import type { CliIo } from "./request-command.js";

interface AgentFlags {
  config?: string;
  address?: string;
  port?: string;
  verbose?: string;
  demo?: boolean;
  cloud?: string;
  gatewayId?: string;
  gatewayKey?: string;
  /** DTLS (coap-server's flags). */
  key?: string;
  hint?: string;
  pskFile?: string;
  cert?: string;
  certKey?: string;
  ca?: string;
  roots?: string;
  skipPeerCheck?: boolean;
}

type Json = Record<string, unknown>;

function section(o: Json, key: string): Json {
  const v = o[key];
  const s: Json = v !== null && typeof v === "object" && !Array.isArray(v) ? { ...(v as Json) } : {};
  o[key] = s;
  return s;
}

/** Runs the agent; resolves with the exit code once it has stopped. */
export async function runAgent(flags: AgentFlags, io: CliIo, stop?: Promise<unknown>): Promise<number> {
  let raw: Json = {};
  let level: LogLevel | undefined;
  try {
    if (flags.config !== undefined) {
      const text = await readFile(flags.config, "utf8").catch((e: Error) => {
        throw new UsageError(`cannot read ${flags.config}: ${e.message}`);
      });
      try {
        const parsed: unknown = JSON.parse(text);
        if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not a JSON object");
        raw = { ...(parsed as Json) };
      } catch (e) {
        throw new UsageError(`${flags.config}: ${(e as Error).message}`);
      }
    }
    if (flags.demo) raw.demoResources = true;
    if (flags.cloud !== undefined) Object.assign(section(raw, "cloud"), { mode: "remote", url: flags.cloud });
    if (flags.gatewayId !== undefined) section(raw, "cloud").gatewayId = flags.gatewayId;
    if (flags.gatewayKey !== undefined) section(raw, "cloud").keyFile = flags.gatewayKey;
    if (flags.address !== undefined) section(raw, "listen").address = flags.address;
    if (flags.port !== undefined) section(raw, "listen").port = parsePort(flags.port);
    if (flags.verbose !== undefined) {
      level = levelFromVerbosity(parseVerbosity(flags.verbose));
      section(raw, "logging").level = level;
    }
    await applyDtlsFlags(raw, flags);
  } catch (e) {
    io.stderr.write(`coaps-edge: ${(e as Error).message}\n`);
    return ExitCode.Usage;
  }

  let config;
  try {
    config = validateAgentConfig(raw, flags.config ?? "flags");
  } catch (e) {
    io.stderr.write(`coaps-edge: ${(e as Error).message}\n`);
    return ExitCode.Usage;
  }
  const log = createLogger(config.logging.level);
  let agent;
  try {
    agent = await createAgent(config, { logger: log, coapsListener: dtlsListener({ logger: log }) });
  } catch (e) {
    if (e instanceof AgentError) {
      log.fatal({ code: e.code }, e.message);
      io.stderr.write(`coaps-edge: ${e.message}\n`);
      return ExitCode.Failure;
    }
    throw e;
  }
  io.stderr.write(`coaps-edge agent listening on ${agent.urls.join(" ")}\n`);

  await (stop ??
    new Promise<void>((resolve) => {
      process.once("SIGINT", () => resolve());
      process.once("SIGTERM", () => resolve());
    }));
  log.info({}, "stopping");
  await agent.close();
  return ExitCode.Ok;
}

/** Adds coap-server's DTLS flags to the `agent` command (`-h` is the hint there, so help is `--help` only). */
export function withDtlsServerFlags(cmd: Command): Command {
  return cmd
    .helpOption("--help", "display help for command")
    .option("-k, --key <key>", "coaps: pre-shared key for any identity (text, as coap-server -k)")
    .option("-h, --hint <hint>", "coaps: PSK identity hint to send (default CoAP; \"\" for none)")
    .option("-i, --psk-file <file>", "coaps: PSK lines hint,identity,key (used while the hint matches)")
    .option("-c, --cert <file>", "coaps: PEM certificate (chain) to present (ECDHE_ECDSA suites)")
    .option("-j, --cert-key <file>", "coaps: PEM private key of -c (default: in the -c file)")
    .option("-C, --ca <file>", "coaps: CA file; client certificates are required and must chain to it")
    .option("-R, --roots <file>", "coaps: trusted root CAs for client certificates (no common-CA requirement)")
    .option("-n, --skip-peer-check", "coaps: do not ask for or check client certificates");
}

/** Applies the DTLS flags to the raw config: they override it, and any of them enables coaps. */
async function applyDtlsFlags(raw: Json, flags: AgentFlags): Promise<void> {
  const pkiFlags = [flags.cert, flags.certKey, flags.ca, flags.roots, flags.skipPeerCheck].some((f) => f !== undefined);
  if (flags.key === undefined && flags.hint === undefined && flags.pskFile === undefined && !pkiFlags) return;
  const coaps = section(raw, "coaps");
  coaps.enabled = true;
  if (pkiFlags) {
    const pki = section(coaps, "pki");
    if (flags.cert !== undefined) pki.cert = flags.cert;
    if (pki.cert === undefined) throw new UsageError("-j/-C/-R/-n need a certificate: -c CERT (or coaps.pki.cert in the config)");
    if (flags.certKey !== undefined) pki.key = flags.certKey;
    if (flags.ca !== undefined) pki.ca = flags.ca;
    if (flags.roots !== undefined) pki.roots = flags.roots;
    if (flags.skipPeerCheck) pki.verifyPeer = false;
  }
  if (flags.key !== undefined) {
    if (flags.key === "") throw new UsageError("-k: the key must not be empty");
    coaps.defaultPsk = { key: flags.key };
  }
  if (flags.hint !== undefined) coaps.hint = flags.hint;
  if (flags.pskFile !== undefined) {
    const file = flags.pskFile;
    const text = await readFile(file, "utf8").catch((e: Error) => {
      throw new UsageError(`-i: cannot read ${file}: ${e.message}`);
    });
    const lines = parsePskFile(text, `-i ${file}`).map((l) => ({ identity: l.identity, key: l.key, hint: l.hint }));
    coaps.psk = [...lines, ...(Array.isArray(coaps.psk) ? (coaps.psk as unknown[]) : [])];
  }
}
