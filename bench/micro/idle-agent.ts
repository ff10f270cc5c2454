/**
 * Where the agent's RSS goes with N idle DTLS-PSK sessions (issue 7): the agent started as the
 * bench starts it (edge-agent/bin/coaps-edge.mjs agent --demo), the bench's own idle generator
 * (one GET per session, socket dropped without close_notify), then VmRSS and node's diagnostic
 * report (`--report-on-signal`: V8 heap spaces, committed vs used) at start-up and after the
 * sessions — what is live JS heap, what is V8 headroom, and what is the rest (code, malloc).
 *
 * Run: node --import tsx bench/micro/idle-agent.ts [sessions=10000] [--settle=10,20] [--gdb-trim] [--bin=FILE] [-- extra node flags for the agent]
 * (--settle: RSS again after each of these waits, in seconds: what an idle agent gives back later;
 * --gdb-trim: then malloc_trim(0) in the agent via gdb, a diagnostic of malloc's retained free memory;
 * --bin: start this file instead of edge-agent/bin/coaps-edge.mjs, e.g. a copy without the bin's
 * V8 flags, to measure what they are worth.)
 * Holds the CPU for a while: run it under `flock /tmp/bench.lock` like the bench.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BENCH_PSK } from "../harness.js";
import type { IdleJob } from "../load/job.js";
import { GeneratorPool } from "../load/pool.js";
import { sleep } from "../load/load-mode.js";
import { rssBytes, startOurs } from "../servers.js";

const AGENT_BIN = fileURLToPath(new URL("../../edge-agent/bin/coaps-edge.mjs", import.meta.url));

interface HeapSpace {
  readonly memorySize: number;
  readonly committedMemory: number;
  readonly used: number;
}
interface Report {
  readonly javascriptHeap: {
    readonly totalMemory: number;
    readonly usedMemory: number;
    readonly mallocedMemory: number;
    readonly externalMemory: number;
    readonly heapSpaces: Record<string, HeapSpace>;
  };
}

/** Asks the agent for a diagnostic report (SIGUSR2) and reads it. */
async function diagnosticReport(pid: number, dir: string): Promise<Report> {
  for (const f of readdirSync(dir)) if (f.startsWith("report.")) rmSync(join(dir, f));
  process.kill(pid, "SIGUSR2");
  for (let i = 0; i < 100; i++) {
    await sleep(100);
    const f = readdirSync(dir).find((n) => n.startsWith("report.") && n.endsWith(".json"));
    if (f) {
      await sleep(200); // written in one go, but let it finish
      return JSON.parse(readFileSync(join(dir, f), "utf8")) as Report;
    }
  }
  throw new Error("no diagnostic report");
}

function smaps(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/smaps_rollup`, "utf8").split("\n")) {
    const m = /^(Rss|Anonymous|Private_Dirty|Shared_Clean|Private_Clean):\s+(\d+) kB/.exec(line);
    if (m) out[m[1]!] = Number(m[2]) * 1024;
  }
  return out;
}

/**
 * Resident anonymous memory by kind of mapping: malloc's main heap ("[heap]", brk), 64 MiB
 * reservations (glibc's per-thread malloc arenas), and the rest (V8's heap pages and other mmaps).
 */
function mappings(pid: number): Record<string, number> {
  const out: Record<string, number> = { "[heap]": 0, "64 MiB arenas": 0, "other anonymous": 0 };
  let kind: string | undefined;
  for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (head) {
      const size = parseInt(head[2]!, 16) - parseInt(head[1]!, 16);
      const name = head[4]!;
      kind = name === "[heap]" ? "[heap]" : name !== "" ? undefined : size === 64 << 20 || size === 128 << 20 ? "64 MiB arenas" : "other anonymous";
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && kind) out[kind]! += Number(rss[1]) * 1024;
  }
  return out;
}

const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`;

function printHeap(tag: string, r: Report): void {
  const h = r.javascriptHeap;
  const spaces = Object.entries(h.heapSpaces)
    .filter(([, s]) => s.committedMemory > 512 * 1024)
    .map(([n, s]) => `${n} ${mb(s.used)}/${mb(s.committedMemory)}`)
    .join(", ");
  console.log(`  ${tag}: JS heap used ${mb(h.usedMemory)} of ${mb(h.totalMemory)} (${spaces}); V8 malloced ${mb(h.mallocedMemory)}, external ${mb(h.externalMemory)}`);
}

export interface IdleAgentOptions {
  /** RSS again after each of these waits (seconds). */
  readonly settleSeconds?: readonly number[];
  /**
   * Diagnostic only: at the end, call glibc's malloc_trim(0) in the agent through gdb and show
   * what RSS that gives back — memory malloc holds free but has not returned to the OS.
   */
  readonly gdbTrim?: boolean;
  /** The agent's entry file (default edge-agent/bin/coaps-edge.mjs). */
  readonly bin?: string;
}

export async function idleAgent(sessions: number, nodeFlags: readonly string[], options: IdleAgentOptions = {}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "idle-agent-"));
  const config = join(dir, "sessions.json"); // coaps.maxSessions above the default 10,000, as the bench raises it
  writeFileSync(config, JSON.stringify({ coaps: { maxSessions: sessions + 1000 } }) + "\n");
  const report = ["--report-on-signal", "--report-signal=SIGUSR2", `--report-directory=${dir}`];
  const agent = [options.bin ?? AGENT_BIN, "agent", "--demo", "-A", "127.0.0.1", "-p", "{port}", "-v", "3", "-k", "{psk}", "--config", config];
  const server = await startOurs({ psk: BENCH_PSK.key, command: ["node", ...report, ...nodeFlags, ...agent] });
  const pool = GeneratorPool.start(1);
  try {
    await sleep(500);
    const rss0 = rssBytes(server.pid);
    const s0 = smaps(server.pid);
    const m0 = mappings(server.pid);
    const r0 = await diagnosticReport(server.pid, dir);
    // The bench's idle job (harness.ts jobFor); past 20,000 sessions the generator keeps no sockets (as idle-100k).
    const job: IdleJob = {
      kind: "idle",
      protocol: "psk",
      target: { address: "127.0.0.1", port: server.dtlsPort!, family: "IPv4" },
      path: "hello",
      psk: BENCH_PSK,
      handshakeTimeoutMs: 10_000,
      sessions,
      setupConcurrency: 64,
      timeoutMs: 2000,
      ...(sessions > 20_000 ? { detach: true } : {}),
    };
    const setup = await pool.setup(job, 30_000 + sessions * 20);
    await pool.go(30_000);
    await sleep(1000);
    const rss1 = rssBytes(server.pid);
    const s1 = smaps(server.pid);
    const m1 = mappings(server.pid);
    const r1 = await diagnosticReport(server.pid, dir);
    console.log(`${setup.established} idle sessions (${setup.failed} failed), agent ${nodeFlags.join(" ") || "(no extra flags)"}:`);
    console.log(`  VmRSS ${mb(rss0)} → ${mb(rss1)}: ${((rss1 - rss0) / setup.established / 1024).toFixed(2)} KiB per session`);
    const fileBacked = (s: Record<string, number>) => mb((s["Rss"] ?? 0) - (s["Anonymous"] ?? 0));
    console.log(`  smaps_rollup anonymous ${mb(s0["Anonymous"] ?? 0)} → ${mb(s1["Anonymous"] ?? 0)}, file-backed ${fileBacked(s0)} → ${fileBacked(s1)}`);
    console.log(`  anonymous by mapping: ${Object.keys(m0).map((k) => `${k} ${mb(m0[k]!)} → ${mb(m1[k]!)}`).join(", ")}`);
    printHeap("start-up", r0);
    printHeap("after", r1);
    for (const wait of options.settleSeconds ?? []) {
      await sleep(wait * 1000);
      const m = mappings(server.pid);
      console.log(`  ${wait} s later: VmRSS ${mb(rssBytes(server.pid))}, [heap] ${mb(m["[heap]"]!)}, other anonymous ${mb(m["other anonymous"]!)}`);
    }
    if (options.gdbTrim) {
      execFileSync("gdb", ["-p", String(server.pid), "-batch", "-ex", "call (int) malloc_trim(0)"], { stdio: "ignore", timeout: 60_000 });
      const m = mappings(server.pid);
      console.log(`  after malloc_trim(0): VmRSS ${mb(rssBytes(server.pid))}, [heap] ${mb(m["[heap]"]!)}, other anonymous ${mb(m["other anonymous"]!)}`);
    }
    const used = r1.javascriptHeap.usedMemory - r0.javascriptHeap.usedMemory;
    const total = r1.javascriptHeap.totalMemory - r0.javascriptHeap.totalMemory;
    const per = (bytes: number) => `${(bytes / setup.established).toFixed(0)} B`;
    console.log(`  per session: JS heap used ${per(used)} (garbage included), heap committed ${per(total)}, RSS outside the JS heap ${per(rss1 - rss0 - total)}`);
  } finally {
    await pool.close(120_000).catch(() => {});
    await pool.stop();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const dash = args.indexOf("--");
  const own = dash < 0 ? args : args.slice(0, dash);
  const settle = own.find((a) => a.startsWith("--settle="))?.slice("--settle=".length);
  await idleAgent(Number(own.find((a) => /^\d+$/.test(a)) ?? 10_000), dash < 0 ? [] : args.slice(dash + 1), {
    ...(settle ? { settleSeconds: settle.split(",").map(Number) } : {}),
    gdbTrim: own.includes("--gdb-trim"),
    ...(own.some((a) => a.startsWith("--bin=")) ? { bin: own.find((a) => a.startsWith("--bin="))!.slice("--bin=".length) } : {}),
  });
}
