/**
 * The servers under test, as child processes on free loopback ports:
 *   - ours: `coaps-edge agent --demo -A 127.0.0.1 -p P -k KEY` (coap on P; coaps on the port it
 *     prints); --demo serves /hello as a local resource, like libcoap's in-process /time;
 *   - libcoap: `coap-server-openssl -A 127.0.0.1 -p P -k KEY` (coap on P, DTLS on P+1);
 *   - echo: the raw node:dgram responder (the generator's ceiling).
 * Plus what the harness reads about a running server: CPU time and RSS from /proc.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import dgram from "node:dgram";
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { GetTemplate, messageType } from "./load/wire.js";

export type ServerName = "ours" | "libcoap" | "echo";

export interface RunningServer {
  readonly name: ServerName;
  readonly pid: number;
  readonly plainPort: number;
  /** The DTLS port, or undefined with `dtlsUnavailable` saying why. */
  readonly dtlsPort: number | undefined;
  readonly dtlsUnavailable?: string;
  /** Why the ECDHE-ECDSA workloads cannot run against this server (no certificate configured). */
  readonly pkiUnavailable?: string;
  /** Uri-Path of the small GET this server answers (see docs/benchmarks.md: comparable payloads). */
  readonly path: string;
  /** The last lines the server wrote to stderr (diagnostics). */
  stderrTail(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. */
  stop(): Promise<void>;
}

const AGENT_BIN = fileURLToPath(new URL("../edge-agent/bin/coaps-edge.mjs", import.meta.url));
const BUNDLE_BIN = fileURLToPath(new URL("../edge-agent/bin/bundle.mjs", import.meta.url));

/** How our agent starts in this run (printed in the notes): set by the first startOurs. */
export let oursStartMode = "not started";

/**
 * Builds the start-up bundle once per run, as infra/gateway/install.sh does for a deployed
 * gateway, so the bench measures the agent as it runs there (the bin runs the bundle only while
 * it is fresh, the sources through tsx otherwise). A failed build is reported, not fatal.
 */
function buildBundleOnce(): void {
  if (oursStartMode !== "not started") return;
  try {
    execFileSync(process.execPath, [BUNDLE_BIN], { stdio: "ignore", timeout: 120_000 });
    oursStartMode = "the start-up bundle (edge-agent/bin/bundle.mjs, built at the start of the run as install.sh builds it)";
  } catch (e) {
    oursStartMode = `its sources through tsx (the start-up bundle did not build: ${(e as Error).message.split("\n")[0]})`;
  }
}
const ECHO = fileURLToPath(new URL("./load/echo-server.ts", import.meta.url));
export const LIBCOAP_SERVER = "coap-server-openssl";

/** A UDP port P such that P and P+1 are both free on 127.0.0.1 (libcoap puts DTLS on P+1). */
export async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const a = dgram.createSocket("udp4");
    const b = dgram.createSocket("udp4");
    try {
      const port = await new Promise<number>((resolve, reject) => {
        a.once("error", reject);
        a.bind(0, "127.0.0.1", () => resolve(a.address().port));
      });
      if (port >= 65535) continue;
      const ok = await new Promise<boolean>((resolve) => {
        b.once("error", () => resolve(false));
        b.bind(port + 1, "127.0.0.1", () => resolve(true));
      });
      if (ok) return port;
    } finally {
      a.close();
      try {
        b.close();
      } catch {
        // never bound
      }
    }
  }
  throw new Error("no free UDP port pair on 127.0.0.1");
}

/** Whether a command exists on PATH. */
export function hasCommand(cmd: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function tail(child: ChildProcess, keep = 4000): () => string {
  let buf = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (d: string) => {
    buf = (buf + d).slice(-keep);
  });
  return () => buf;
}

function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await gone;
    clearTimeout(timer);
  };
}

/** Resolves when `child` prints a stderr/stdout line matching `re` (with the match), rejects if it exits first or after `ms`. */
function waitForLine(child: ChildProcess, stream: "stdout" | "stderr", re: RegExp, ms: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const s = child[stream]!;
    s.setEncoding("utf8");
    const onData = (d: string) => {
      seen += d;
      const m = re.exec(seen);
      if (m) done(() => resolve(m));
    };
    const onExit = (code: number | null) => done(() => reject(new Error(`exited (${code}) before it was ready: ${seen.slice(-600)}`)));
    const timer = setTimeout(() => done(() => reject(new Error(`not ready after ${ms} ms: ${seen.slice(-600)}`))), ms);
    function done(f: () => void) {
      clearTimeout(timer);
      s.off("data", onData);
      child.off("exit", onExit);
      f();
    }
    s.on("data", onData);
    child.once("exit", onExit);
  });
}

/** Sends a GET every 100 ms until an ACK or RST comes back (the server is serving), for at most `ms`. */
export async function probe(port: number, path: string, ms = 10_000): Promise<void> {
  const socket = dgram.createSocket("udp4");
  const template = new GetTemplate(path);
  try {
    await new Promise<void>((resolve, reject) => {
      let mid = 1;
      const tick = setInterval(() => socket.send(template.next(mid++), port, "127.0.0.1"), 100);
      const timer = setTimeout(() => finish(new Error(`no CoAP answer on port ${port} within ${ms} ms`)), ms);
      function finish(err?: Error) {
        clearInterval(tick);
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      }
      socket.on("message", (m) => {
        const t = messageType(m);
        if (t === 2 || t === 3) finish();
      });
      socket.send(template.next(mid++), port, "127.0.0.1");
    });
  } finally {
    socket.close();
  }
}

export interface OursOptions {
  readonly psk: string;
  /** Run the agent under `node --cpu-prof` writing into this directory. */
  readonly cpuProfileDir?: string;
  /** A custom start command ({port}, {psk}, {cert}, {key} substituted); a leading "node" runs this Node binary. */
  readonly command?: readonly string[];
  /** Server certificate and key (PEM files) for the ECDHE-ECDSA suites. */
  readonly pki?: { readonly cert: string; readonly key: string };
  /** coaps.maxSessions when above the agent's default 10,000 (the 100k idle workload), via a --config file. */
  readonly maxSessions?: number;
}

/** A config file raising coaps.maxSessions (the CLI flags fill in the rest). */
function sessionsConfig(maxSessions: number): string {
  const file = join(tmpdir(), `coaps-edge-bench-sessions-${maxSessions}.json`);
  writeFileSync(file, JSON.stringify({ coaps: { maxSessions } }) + "\n");
  return file;
}

let agentHelp: string | undefined;

/**
 * The agent's certificate flags, if its CLI has them. coap-server's are `-c certfile -j keyfile`;
 * the agent mirrors coap-server's flags, so those are looked for in `agent --help`.
 */
function agentCertArgs(pki: OursOptions["pki"]): string[] | string {
  if (!pki) return "no certificates given";
  agentHelp ??= (() => {
    try {
      return execFileSync(process.execPath, [AGENT_BIN, "agent", "--help"], { encoding: "utf8", timeout: 20_000 });
    } catch {
      return "";
    }
  })();
  if (!/^\s*-c, --/m.test(agentHelp) || !/^\s*-j, --/m.test(agentHelp)) return "agent CLI has no -c/-j certificate flags yet";
  return ["-c", pki.cert, "-j", pki.key];
}

/**
 * Starts our agent. While the CLI has no `-k` (coaps not wired yet) it is started without it
 * and the DTLS workloads report why they cannot run.
 */
export async function startOurs(options: OursOptions): Promise<RunningServer> {
  if (options.command) oursStartMode = "the --ours-cmd command";
  else buildBundleOnce();
  const attempt = async (withPsk: boolean) => {
    const port = await freePortPair();
    const nodeArgs = options.cpuProfileDir ? ["--cpu-prof", "--cpu-prof-dir", options.cpuProfileDir] : [];
    let cmd: string = process.execPath;
    const certArgs = options.command || !withPsk ? [] : agentCertArgs(options.pki);
    let args = [
      ...nodeArgs,
      AGENT_BIN,
      "agent",
      "--demo",
      "-A",
      "127.0.0.1",
      "-p",
      String(port),
      "-v",
      "3",
      ...(options.maxSessions !== undefined && options.maxSessions > 10_000 ? ["--config", sessionsConfig(options.maxSessions)] : []),
      ...(withPsk ? ["-k", options.psk] : []),
      ...(Array.isArray(certArgs) ? certArgs : []),
    ];
    if (options.command) {
      const subst = (a: string) =>
        a
          .replaceAll("{port}", String(port))
          .replaceAll("{psk}", options.psk)
          .replaceAll("{cert}", options.pki?.cert ?? "")
          .replaceAll("{key}", options.pki?.key ?? "");
      const [first, ...rest] = options.command.map(subst);
      cmd = first === "node" ? process.execPath : first!;
      args = first === "node" ? [...nodeArgs, ...rest] : rest;
    }
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    const stderrTail = tail(child);
    try {
      const m = await waitForLine(child, "stderr", /listening on ([^\n]*)\n/, 20_000);
      const pkiUnavailable = options.command
        ? options.command.some((a) => a.includes("{cert}")) || !options.pki
          ? undefined
          : "--ours-cmd has no {cert}"
        : typeof certArgs === "string"
          ? certArgs
          : undefined;
      return { child, port, urls: m[1]!.split(/\s+/), stderrTail, pkiUnavailable };
    } catch (e) {
      await stopper(child)();
      throw e;
    }
  };
  let started;
  let dtlsUnavailable: string | undefined;
  try {
    started = await attempt(true);
  } catch (e) {
    if (options.command || !/-k|unknown option|too many arguments/i.test((e as Error).message)) throw e;
    started = await attempt(false);
    dtlsUnavailable = "agent CLI has no -k yet";
  }
  const coaps = started.urls.find((u) => u.startsWith("coaps://"));
  const dtlsPort = coaps ? Number(/:(\d+)$/.exec(coaps)?.[1]) : undefined;
  if (dtlsPort === undefined) dtlsUnavailable ??= "agent serves no coaps://";
  return {
    name: "ours",
    pid: started.child.pid!,
    plainPort: started.port,
    dtlsPort,
    ...(dtlsUnavailable ? { dtlsUnavailable } : {}),
    ...(started.pkiUnavailable ? { pkiUnavailable: started.pkiUnavailable } : {}),
    path: "hello",
    stderrTail: started.stderrTail,
    stop: stopper(started.child),
  };
}

/** Starts coap-server-openssl (PSK `key`, any identity; with `pki`, also a certificate for ECDHE-ECDSA). */
export async function startLibcoap(psk: string, pki?: { readonly cert: string; readonly key: string }): Promise<RunningServer> {
  const port = await freePortPair();
  const args = ["-A", "127.0.0.1", "-p", String(port), "-k", psk, ...(pki ? ["-c", pki.cert, "-j", pki.key] : [])];
  const child = spawn(LIBCOAP_SERVER, args, { stdio: ["ignore", "ignore", "pipe"] });
  const stderrTail = tail(child);
  const stop = stopper(child);
  const spawnError = new Promise<never>((_, reject) => child.once("error", reject));
  try {
    await Promise.race([probe(port, "time"), spawnError]);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    name: "libcoap",
    pid: child.pid!,
    plainPort: port,
    dtlsPort: port + 1,
    ...(pki ? {} : { pkiUnavailable: "no certificates given" }),
    path: "time",
    stderrTail,
    stop,
  };
}

/** Starts the raw dgram responder (plain only). */
export async function startEcho(): Promise<RunningServer> {
  const child = spawn(process.execPath, ["--import", "tsx", ECHO, "0"], { stdio: ["ignore", "pipe", "pipe"] });
  const stderrTail = tail(child);
  try {
    const m = await waitForLine(child, "stdout", /listening (\d+)/, 20_000);
    return { name: "echo", pid: child.pid!, plainPort: Number(m[1]), dtlsPort: undefined, dtlsUnavailable: "plain only", path: "hello", stderrTail, stop: stopper(child) };
  } catch (e) {
    await stopper(child)();
    throw e;
  }
}

let clockTicks: number | undefined;

/** CPU seconds (user + system) the process has used so far, from /proc/PID/stat. */
export function cpuSeconds(pid: number): number {
  clockTicks ??= (() => {
    try {
      return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      return 100;
    }
  })();
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // field 3 onwards; comm may hold spaces
  return (Number(fields[11]) + Number(fields[12])) / clockTicks; // utime (14), stime (15)
}

/** Resident set size in bytes, from /proc/PID/status VmRSS. */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}
