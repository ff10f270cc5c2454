/**
 * `coaps-edge agent [--config FILE] [-A address] [-p port] [-v level] [--demo]`: runs the edge
 * agent until SIGINT/SIGTERM. Flags as libcoap's coap-server; they override the config file.
 * Without --config the agent serves the demo resources on coap://127.0.0.1:5683.
 */
import { readFile } from "node:fs/promises";
import type { LogLevel } from "@coaps-edge/shared";
import { AgentError, createAgent, validateAgentConfig } from "../agent.js";
import { ExitCode } from "./exit-codes.js";
import { createLogger, levelFromVerbosity } from "./logger.js";
import { UsageError, parsePort, parseVerbosity } from "./parse-args.js";
import type { CliIo } from "./request-command.js";

interface AgentFlags {
  config?: string;
  address?: string;
  port?: string;
  verbose?: string;
  demo?: boolean;
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
    } else {
      raw.demoResources = true;
    }
    if (flags.demo) raw.demoResources = true;
    if (flags.address !== undefined) section(raw, "listen").address = flags.address;
    if (flags.port !== undefined) section(raw, "listen").port = parsePort(flags.port);
    if (flags.verbose !== undefined) {
      level = levelFromVerbosity(parseVerbosity(flags.verbose));
      section(raw, "logging").level = level;
    }
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
    agent = await createAgent(config, { logger: log });
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
