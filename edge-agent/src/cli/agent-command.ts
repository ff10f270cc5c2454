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
 *
 * Signals (issue 8): SIGTERM/SIGINT send close_notify to every DTLS peer and exit within 2 s;
 * SIGHUP re-reads the config file and the -i file and swaps the PSK table, certificates, CAs and
 * the gateway key without dropping established sessions — sessions of PSK identities that were
 * removed (or whose key changed) are closed with close_notify. `--metrics-port P` serves
 * Prometheus text at http://127.0.0.1:P/metrics (config `metrics`).
 *
 * RFC 8323 transports, as coap-server opens them: coap+tcp on the port (TCP) and coaps+tcp on
 * port + 1 when there are coaps credentials, on by default; `--no-tcp`, `--no-tls` switch them
 * off; `--ws-port P` serves coap+ws and `--wss-port P` coaps+ws (with the coaps credentials)
 * at /.well-known/coap; `--unix PATH` a Unix stream socket (`coap+tcp://%2Fpath`), with
 * `--unix-dgram` a datagram one (`coap://%2Fpath`). They override the config's tcp/tls/ws/wss/unix.
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import type { LogLevel } from "@coaps-edge/shared";
import { AgentError, createAgent, validateAgentConfig } from "../agent.js";
import { dtlsListener, pskCredentials, serverPki } from "../dtls-listener.js";
import { DtlsServer } from "../dtls/server.js";
import { loadGatewayKey } from "../forward/gateway-key.js";
import type { Agent } from "../agent.js";
import type { Logger } from "pino";
import { startHealthReporting } from "../health/from-config.js";
import { tlsCredentials } from "../stream-listeners.js";
import type { StreamListener } from "../transport/stream-socket.js";
import type { TlsListener } from "../transport/tls.js";
import { ExitCode } from "./exit-codes.js";
import { createLogger, flushLoggerSync, levelFromVerbosity } from "./logger.js";
import { UsageError, parsePort, parsePskFile, parseVerbosity } from "./parse-args.js";
import type { CliIo } from "./request-command.js";

interface AgentFlags {
  config?: string;
  address?: string;
  port?: string;
  /** Serve on this interface's addresses and join the CoAP multicast groups there. */
  interface?: string;
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
  /** Serve Prometheus metrics on this local port. */
  metricsPort?: string;
  /** RFC 8323 / Unix listeners (false from --no-tcp / --no-tls). */
  tcp?: boolean;
  tls?: boolean;
  wsPort?: string;
  wssPort?: string;
  unix?: string;
  unixDgram?: boolean;
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
    if (flags.interface !== undefined) section(raw, "listen").interface = flags.interface;
    if (flags.verbose !== undefined) {
      level = levelFromVerbosity(parseVerbosity(flags.verbose));
      section(raw, "logging").level = level;
    }
    await applyDtlsFlags(raw, flags);
    applyStreamFlags(raw, flags);
    if (flags.metricsPort !== undefined) Object.assign(section(raw, "metrics"), { enabled: true, port: parsePort(flags.metricsPort, "--metrics-port") });
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
  const log = createLogger(config.logging.level, undefined, { buffered: true });
  let agent;
  try {
    agent = await createAgent(config, { logger: log, coapsListener: dtlsListener({ logger: log }) });
  } catch (e) {
    if (e instanceof AgentError) {
      log.fatal({ code: e.code }, e.message);
      flushLoggerSync(log);
      io.stderr.write(`coaps-edge: ${e.message}\n`);
      return ExitCode.Failure;
    }
    throw e;
  }
  flushLoggerSync(log); // start-up lines first, then the "listening on" line
  io.stderr.write(`coaps-edge agent listening on ${agent.urls.join(" ")}\n`);
  // Gateway health to the Worker (remote mode, health.enabled); a failure here never stops the agent.
  const health = await startHealthReporting(agent, { logger: log }).catch((e: Error) => void log.warn({ err: e.message }, "health reporting off"));

  if (agent.metrics) io.stderr.write(`coaps-edge metrics on ${agent.metrics.url}\n`);
  const onHup = () => void reloadCredentials(flags, agent, log);
  if (!stop) process.on("SIGHUP", onHup);
  await (stop ??
    new Promise<void>((resolve) => {
      process.once("SIGINT", () => resolve());
      process.once("SIGTERM", () => resolve());
    }));
  process.off("SIGHUP", onHup);
  // A signal must end the process within 2 s even if closing hangs (a peer that never drains).
  if (!stop) setTimeout(() => process.exit(ExitCode.Ok), 1800).unref();
  log.info({}, "stopping");
  await health?.stop();
  await agent.close();
  return ExitCode.Ok;
}

/**
 * SIGHUP: re-reads the config file and the -i file and applies the credentials to the running
 * agent (DtlsServer.reloadPsk / updatePki, the coaps+tcp listeners' updateCredentials, the
 * forwarder's gateway key). A config that does not
 * load is logged and changes nothing. Listener addresses and limits need a restart.
 */
export async function reloadCredentials(flags: AgentFlags, agent: Agent, log: Pick<Logger, "info" | "error">): Promise<boolean> {
  try {
    let raw: Json = {};
    if (flags.config !== undefined) {
      const parsed: unknown = JSON.parse(await readFile(flags.config, "utf8"));
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not a JSON object");
      raw = { ...(parsed as Json) };
    }
    if (flags.cloud !== undefined) Object.assign(section(raw, "cloud"), { mode: "remote", url: flags.cloud });
    if (flags.gatewayId !== undefined) section(raw, "cloud").gatewayId = flags.gatewayId;
    if (flags.gatewayKey !== undefined) section(raw, "cloud").keyFile = flags.gatewayKey;
    await applyDtlsFlags(raw, flags);
    const config = validateAgentConfig(raw, flags.config ?? "flags");
    const psk = pskCredentials(config.coaps);
    const pki = serverPki(config.coaps.pki);
    let closed = 0;
    for (const ep of agent.endpoints) {
      if (!(ep instanceof DtlsServer)) continue;
      ep.updatePki(pki);
      closed += ep.reloadPsk(psk);
    }
    // coaps+tcp takes the same credentials (stream-listeners.ts); coaps+ws keeps its start-up ones.
    const tlsCreds = tlsCredentials(config.coaps);
    for (const l of agent.streams) if (tlsCreds && isTlsListener(l)) closed += l.updateCredentials(tlsCreds);
    const fwd = agent.cloud.forwarder;
    if (config.cloud.keyFile !== undefined && fwd.updateGatewayKey) {
      const key = await loadGatewayKey(config.cloud.keyFile);
      fwd.updateGatewayKey(config.cloud.gatewayId ?? key.gatewayId, key.privateKey);
    }
    log.info({ closedSessions: closed }, "credentials reloaded");
    return true;
  } catch (e) {
    log.error({ err: (e as Error).message }, "reload failed: credentials unchanged");
    return false;
  }
}

function isTlsListener(l: StreamListener): l is TlsListener {
  return l.transport === "tls" && "updateCredentials" in l;
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
    .option("-n, --skip-peer-check", "coaps: do not ask for or check client certificates")
    .option("--metrics-port <port>", "serve Prometheus metrics at http://127.0.0.1:PORT/metrics")
    .option("--no-tcp", "do not serve coap+tcp (on by default, on the -p port)")
    .option("--no-tls", "do not serve coaps+tcp (on by default on port + 1 when coaps has credentials)")
    .option("--ws-port <port>", "serve coap+ws on this port (/.well-known/coap)")
    .option("--wss-port <port>", "serve coaps+ws on this port, with the coaps credentials")
    .option("--unix <path>", "serve a Unix-domain stream socket at PATH (coap+tcp://%2Fpath…)")
    .option("--unix-dgram", "with --unix: a datagram socket (coap://%2Fpath…, needs the unix-dgram module)");
}

/** Applies the RFC 8323 / Unix listener flags to the raw config (they override it). */
function applyStreamFlags(raw: Json, flags: AgentFlags): void {
  if (flags.tcp === false) section(raw, "tcp").enabled = false;
  if (flags.tls === false) section(raw, "tls").enabled = false;
  if (flags.wsPort !== undefined) Object.assign(section(raw, "ws"), { enabled: true, port: parsePort(flags.wsPort, "--ws-port") });
  if (flags.wssPort !== undefined) Object.assign(section(raw, "wss"), { enabled: true, port: parsePort(flags.wssPort, "--wss-port") });
  if (flags.unixDgram && flags.unix === undefined) throw new UsageError("--unix-dgram needs --unix PATH");
  if (flags.unix !== undefined) {
    if (flags.unix === "") throw new UsageError("--unix: the path must not be empty");
    Object.assign(section(raw, "unix"), { enabled: true, path: flags.unix, ...(flags.unixDgram ? { datagram: true } : {}) });
  }
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
