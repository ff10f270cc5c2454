/**
 * Real libcoap peers for interop tests (coap-client-* / coap-server-*, Debian libcoap3-bin):
 * locating binaries (skip locally when missing, fail when CI=true), free UDP ports, running a
 * client with a hard timeout, and starting a server that is stopped (SIGTERM, then SIGKILL)
 * when the test ends. Reusable by the DTLS interop tests: pass the -openssl/-gnutls variants
 * and their PSK/PKI flags; `waitForUdp` readiness works for plain CoAP only (use a delay or
 * `waitForOutput` for DTLS servers).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants } from "node:fs";
import dgram from "node:dgram";
import { delimiter, join } from "node:path";
import type { TestContext } from "node:test";

/** Binary names the tests use. */
export type LibcoapBinary =
  | "coap-client-notls"
  | "coap-client-openssl"
  | "coap-client-gnutls"
  | "coap-server-notls"
  | "coap-server-openssl"
  | "coap-server-gnutls";

/** The path of an executable on PATH (or /usr/bin), or undefined. */
export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/bin", "/usr/local/bin"].filter((d) => d !== "");
  for (const d of dirs) {
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * The binary's path; when missing, fails the test under CI=true and skips it otherwise (returns
 * undefined: the caller returns at once).
 */
export function requireBinary(t: TestContext, name: LibcoapBinary | string): string | undefined {
  const p = findBinary(name);
  if (p) return p;
  const msg = `${name} not found (install libcoap3-bin)`;
  if (process.env.CI === "true") throw new Error(msg);
  t.skip(msg);
  return undefined;
}

/** A UDP port that was free a moment ago on `address` (bind to 0, read, close). */
export async function freeUdpPort(address = "127.0.0.1"): Promise<number> {
  const s = dgram.createSocket(address.includes(":") ? "udp6" : "udp4");
  await new Promise<void>((resolve, reject) => {
    s.once("error", reject);
    s.bind(0, address, () => resolve());
  });
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Two consecutive free UDP ports p, p+1 (libcoap servers put DTLS on port + 1). */
export async function freeUdpPortPair(address = "127.0.0.1"): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await freeUdpPort(address);
    if (p >= 65535) continue;
    const s = dgram.createSocket(address.includes(":") ? "udp6" : "udp4");
    const ok = await new Promise<boolean>((resolve) => {
      s.once("error", () => resolve(false));
      s.bind(p + 1, address, () => resolve(true));
    });
    await new Promise<void>((resolve) => s.close(() => resolve()));
    if (ok) return p;
  }
  throw new Error("no free consecutive UDP port pair");
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  readonly timedOut: boolean;
}

export interface RunOptions {
  /** Kill (SIGKILL) after this many ms; default 20 s. */
  readonly timeoutMs?: number;
  /** Written to stdin, then stdin is closed (default: closed at once). */
  readonly input?: Uint8Array | string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/** Runs a command to completion with a hard timeout; never rejects for a non-zero exit. */
export function run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], env: options.env ?? process.env, cwd: options.cwd });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs ?? 20_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err), timedOut });
    });
    child.stdin.on("error", () => {}); // the child may exit before reading its stdin
    child.stdin.end(options.input ?? "");
  });
}

export interface RunningProcess {
  readonly child: ChildProcess;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when `pattern` appears on stdout or stderr (rejects after `timeoutMs` or on exit). */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** SIGTERM, then SIGKILL after 2 s; resolves when the process is gone. Idempotent. */
  stop(): Promise<void>;
}

/** Starts a long-running process (a server); stop it with `stop()` (register it with t.after). */
export function start(cmd: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): RunningProcess {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: options.env ?? process.env, cwd: options.cwd });
  let out = "";
  let err = "";
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once("exit", () => {
    exited = true;
    resolve();
  }));
  child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (err += c.toString()));
  child.on("error", () => {}); // surfaced through waitForOutput / exit
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitForOutput(pattern, timeoutMs = 10_000) {
      return new Promise<void>((resolve, reject) => {
        const started = Date.now();
        const poll = (): void => {
          if (pattern.test(out) || pattern.test(err)) return resolve();
          if (exited) return reject(new Error(`process exited before printing ${pattern}: ${err.slice(-500)}`));
          if (Date.now() - started > timeoutMs) return reject(new Error(`timeout waiting for ${pattern}; stderr: ${err.slice(-500)}`));
          setTimeout(poll, 20);
        };
        poll();
      });
    },
    async stop() {
      if (exited) return;
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 2000);
      await exit;
      clearTimeout(killer);
    },
  };
}

/**
 * Resolves once a plain CoAP server answers a CoAP ping (empty CON → RST) on `port`;
 * rejects after `timeoutMs`.
 */
export async function waitForUdp(port: number, address = "127.0.0.1", timeoutMs = 5000): Promise<void> {
  const s = dgram.createSocket(address.includes(":") ? "udp6" : "udp4");
  s.on("error", () => {}); // ICMP port unreachable while the server starts
  const deadline = Date.now() + timeoutMs;
  let done = false;
  try {
    await new Promise<void>((resolve, reject) => {
      const mid = Math.floor(Math.random() * 0x10000);
      s.on("message", (m) => {
        if (m.length >= 4 && ((m[0] as number) & 0x30) === 0x30 && (((m[2] as number) << 8) | (m[3] as number)) === mid) {
          done = true;
          resolve();
        }
      });
      const ping = Buffer.from([0x40, 0x00, mid >> 8, mid & 0xff]);
      const tick = (): void => {
        if (done) return;
        if (Date.now() > deadline) return reject(new Error(`no CoAP server answered on ${address}:${port}`));
        s.send(ping, port, address);
        setTimeout(tick, 50);
      };
      tick();
    });
  } finally {
    done = true;
    s.close();
  }
}

/**
 * A libcoap `coap-server-*` on 127.0.0.1 with `args` added, on a free port pair (plain CoAP on
 * `port`, DTLS on `port + 1`), resolved once it answers a CoAP ping.
 */
export async function startLibcoapServer(bin: string, args: readonly string[]): Promise<{ proc: RunningProcess; port: number }> {
  const port = await freeUdpPortPair();
  const proc = start(bin, ["-A", "127.0.0.1", "-p", String(port), ...args]);
  await waitForUdp(port);
  return { proc, port };
}
