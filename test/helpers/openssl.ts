/**
 * Running the `openssl` CLI (or GnuTLS's gnutls-cli / gnutls-serv) as a real DTLS peer in
 * interop tests: locating the binary (fail in CI, skip elsewhere when missing), free UDP ports,
 * and a child process whose output can be awaited line by line.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import dgram from "node:dgram";
import type { TestContext } from "node:test";

/** The openssl binary, or undefined if it is not installed. */
export function opensslPath(): string | undefined {
  const r = spawnSync("sh", ["-c", "command -v openssl"], { encoding: "utf8" });
  const p = r.stdout.trim();
  return r.status === 0 && p ? p : undefined;
}

/**
 * Returns the binary, or skips the test (fails it when CI=true) with a message.
 */
export function requireOpenssl(t: TestContext): string | undefined {
  const p = opensslPath();
  if (p) return p;
  if (process.env.CI === "true") throw new Error("openssl is not installed (required in CI)");
  t.skip("openssl is not installed");
  return undefined;
}

/**
 * Any peer binary (gnutls-cli, gnutls-serv, ...) on PATH, or undefined after skipping the test
 * (failing it when CI=true).
 */
export function requireBinary(t: TestContext, name: string): string | undefined {
  const r = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  const p = r.stdout.trim();
  if (r.status === 0 && p) return p;
  if (process.env.CI === "true") throw new Error(`${name} is not installed (required in CI)`);
  t.skip(`${name} is not installed`);
  return undefined;
}

/** A UDP port that was free a moment ago (bind to 0, read, close). */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => s.bind(0, "127.0.0.1", resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export class OpensslProcess {
  readonly child: ChildProcessWithoutNullStreams;
  #output = "";
  #waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  readonly exited: Promise<number | null>;

  constructor(binary: string, args: readonly string[]) {
    this.child = spawn(binary, args, { stdio: ["pipe", "pipe", "pipe"] });
    const onData = (chunk: Buffer) => {
      this.#output += chunk.toString("utf8");
      this.#waiters = this.#waiters.filter((w) => {
        const m = this.#output.match(w.re);
        if (m) w.resolve(m);
        return !m;
      });
    };
    this.child.stdout.on("data", onData);
    this.child.stderr.on("data", onData);
    this.exited = new Promise((resolve) => this.child.on("exit", (code) => resolve(code)));
  }

  /** Everything printed so far (stdout and stderr interleaved). */
  get output(): string {
    return this.#output;
  }

  /** Resolves when the output matches `re`; rejects after `timeoutMs` with the output so far. */
  waitFor(re: RegExp, timeoutMs = 5000): Promise<RegExpMatchArray> {
    const m = this.#output.match(re);
    if (m) return Promise.resolve(m);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re} in openssl output:\n${this.#output}`)), timeoutMs);
      this.#waiters.push({
        re,
        resolve: (x) => {
          clearTimeout(timer);
          resolve(x);
        },
      });
    });
  }

  /** Writes to the process's stdin (s_client/s_server send stdin lines to the peer). */
  write(text: string): void {
    this.child.stdin.write(text);
  }

  /** Closes stdin (s_client then sends close_notify and exits). */
  endInput(): void {
    this.child.stdin.end();
  }

  /** Ends the process and waits for it. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    await this.exited;
  }
}
