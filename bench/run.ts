/**
 * `npm run bench`: our agent and libcoap's coap-server-openssl, side by side under one load
 * generator (bench/load/, worker processes on our own DtlsClient), alternating which server goes
 * first each round. Prints a table (absolute numbers, ratio ours/libcoap, latency, server CPU
 * per operation) and the generator's headroom, and writes JSON + an SVG chart to bench/results/.
 * Flags: see args.ts (`--quick`, `--only`, `--micro`, ...). Loopback only; every loop is bounded.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ArgsError, parseBenchArgs, type BenchArgs } from "./args.js";
import { makeBenchPki } from "./pki.js";
import { BENCH_PSK, measureIdle, measureRate, NotAvailable, toCell, toRow, unavailable, type Timing } from "./harness.js";
import { sleep } from "./load/load-mode.js";
import { DEFAULT_GEN_UDP, describeGenUdp } from "./load/gen-udp.js";
import { GeneratorPool } from "./load/pool.js";
import { runMicro } from "./micro/index.js";
import { DEFAULT_CCM_ENGINE } from "../edge-agent/src/dtls/crypto/ccm.js";
import { SHA256_ENGINE } from "../edge-agent/src/dtls/crypto/sha256.js";
import { DEFAULT_UDP_ENGINE } from "../edge-agent/src/transport/udp.js";
import { chartSvg } from "./report/svg.js";
import { headroomLines, fmtValue, resultsTable } from "./report/table.js";
import type { Cell, Report, Row, Sample } from "./report/types.js";
import { hasCommand, LIBCOAP_SERVER, startEcho, startLibcoap, startOurs, oursStartMode, type RunningServer, type ServerName } from "./servers.js";
import { PROFILES, selectWorkloads, type Workload } from "./workloads.js";

const RESULTS = fileURLToPath(new URL("./results/", import.meta.url));
const log = (s: string) => process.stderr.write(`${s}\n`);

type Side = Exclude<ServerName, "echo">;

function usage(): string {
  const text = readFileSync(fileURLToPath(new URL("./args.ts", import.meta.url)), "utf8");
  const block = /\/\*\*([\s\S]*?)\*\//.exec(text)?.[1] ?? "";
  return block.replace(/^\s*\* ?/gm, "").trim();
}

function stamp(d: Date): string {
  return d.toISOString().slice(0, 16).replace(":", "");
}

async function isAlive(s: RunningServer | undefined): Promise<boolean> {
  if (!s) return false;
  try {
    process.kill(s.pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function runLoad(args: BenchArgs): Promise<Report> {
  const profile = PROFILES[args.profile];
  const rounds = args.rounds ?? profile.rounds;
  const idleRounds = args.rounds ?? profile.idleRounds;
  const timing: Timing = { warmupMs: profile.warmupMs, durationMs: args.durationMs ?? profile.durationMs };
  const workloads = selectWorkloads(profile.workloads, args.only);
  const rate = workloads.filter((w) => w.kind !== "idle");
  const idle = workloads.filter((w) => w.kind === "idle");
  const workers = args.workers ?? Math.max(1, os.availableParallelism() - 1);
  const libcoapMissing = hasCommand(LIBCOAP_SERVER) ? undefined : `${LIBCOAP_SERVER} not installed`;
  const started = new Date();
  const loadAverage = os.loadavg()[0] ?? 0;
  const busyMachine = loadAverage > os.availableParallelism() / 2;
  if (busyMachine) log(`bench: WARNING load average ${loadAverage.toFixed(2)} on ${os.availableParallelism()} CPUs: other processes will take CPU from the servers; read the per-CPU ratio`);
  log(`bench: profile ${profile.name}, ${rounds} round(s), ${timing.durationMs / 1000}s windows, ${workers} generator process(es) on ${args.genUdp ?? DEFAULT_GEN_UDP} UDP, load average ${loadAverage.toFixed(2)}`);

  const pki = workloads.some((w) => w.protocol === "ecdhe") ? makeBenchPki() : undefined;
  const pool = GeneratorPool.start(workers, { udp: args.genUdp });
  const servers: Partial<Record<Side, RunningServer>> = {};
  const startSide = async (side: Side, profileDir?: string, sessions?: number): Promise<RunningServer> =>
    side === "ours"
      ? startOurs({
          psk: BENCH_PSK.key,
          ...(profileDir ? { cpuProfileDir: profileDir } : {}),
          ...(args.oursCmd ? { command: args.oursCmd } : {}),
          ...(pki ? { pki } : {}),
          ...(sessions !== undefined ? { maxSessions: sessions + 1000 } : {}),
        })
      : startLibcoap(BENCH_PSK.key, pki);
  const samples = new Map<string, Sample[]>();
  const failures = new Map<string, string[]>();
  const key = (w: Workload, side: Side) => `${w.id}|${side}`;
  const push = <T>(m: Map<string, T[]>, k: string, v: T) => m.set(k, [...(m.get(k) ?? []), v]);
  const stopAll = async () => {
    await Promise.all(Object.values(servers).map((s) => s?.stop()));
    for (const k of Object.keys(servers) as Side[]) delete servers[k];
  };
  const onSignal = () => {
    void Promise.all([stopAll(), pool.stop()]).finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  let ceiling: Cell = { status: "n/a", reason: "not run" };
  try {
    // The generator's own ceiling: a raw responder that does almost nothing per datagram.
    const echo = await startEcho();
    try {
      const w: Workload = { id: "ceiling", groups: [], title: "generator ceiling", kind: "load", protocol: "plain", sessions: 10, window: 4, unit: "req/s", better: "higher" };
      ceiling = toCell([await measureRate(pool, w, echo, timing)], []);
      if (ceiling.status === "ok") log(`ceiling: generator vs raw responder ${fmtValue(ceiling, "req/s")} req/s`);
    } catch (e) {
      ceiling = { status: "n/a", reason: (e as Error).message };
    } finally {
      await echo.stop();
    }

    if (rate.length > 0) {
      servers.ours = await startSide("ours", args.cpuProfileDir);
      if (!libcoapMissing) servers.libcoap = await startSide("libcoap");
      if (servers.ours.dtlsUnavailable) log(`ours: DTLS n/a — ${servers.ours.dtlsUnavailable}`);
    }
    for (let round = 0; round < rounds; round++) {
      for (const w of rate) {
        const order: Side[] = round % 2 === 0 ? ["ours", "libcoap"] : ["libcoap", "ours"];
        for (const side of order) {
          if (!(await isAlive(servers[side])) && !(side === "libcoap" && (libcoapMissing || w.oursOnly))) {
            log(`${side}: server not running, restarting`);
            servers[side] = await startSide(side);
          }
          const why = unavailable(w, servers[side], side === "libcoap" ? (w.oursOnly ?? libcoapMissing) : undefined);
          if (why) {
            push(failures, key(w, side), why);
            continue;
          }
          try {
            const s = await measureRate(pool, w, servers[side]!, timing);
            push(samples, key(w, side), s);
            const extra = s.errors + s.timeouts > 0 ? ` (${s.errors} errors, ${s.timeouts} timeouts${s.firstError ? `: ${s.firstError}` : ""})` : "";
            log(`[${round + 1}/${rounds}] ${w.id.padEnd(9)} ${side.padEnd(7)} ${s.value.toFixed(0).padStart(7)} ${w.unit}  p50 ${s.p50Us} µs  server CPU ${Math.round((s.serverCpu ?? 0) * 100)}%  gen CPU ${Math.round((s.generatorCpu ?? 0) * 100)}%${extra}`);
          } catch (e) {
            push(failures, key(w, side), (e as Error).message.split("\n")[0]!);
            log(`[${round + 1}/${rounds}] ${w.id} ${side}: failed: ${(e as Error).message}`);
          }
          await sleep(200);
        }
      }
    }
    await stopAll(); // writes our agent's .cpuprofile when --cpu-prof is on

    for (let round = 0; round < idleRounds; round++) {
      for (const w of idle) {
        if (round >= (w.maxRounds ?? Infinity)) continue;
        const order: Side[] = round % 2 === 0 ? ["ours", "libcoap"] : ["libcoap", "ours"];
        for (const side of order) {
          if (side === "libcoap" && (libcoapMissing || w.oursOnly)) {
            push(failures, key(w, side), (libcoapMissing ?? w.oursOnly)!);
            continue;
          }
          try {
            const s = await measureIdle(pool, w, () => startSide(side, undefined, w.sessions));
            push(samples, key(w, side), s);
            log(`[${round + 1}/${idleRounds}] ${w.id.padEnd(9)} ${side.padEnd(7)} ${Math.round(s.value)} B/session over ${s.sessions} sessions`);
          } catch (e) {
            const msg = (e as Error).message.split("\n")[0]!;
            push(failures, key(w, side), msg);
            if (!(e instanceof NotAvailable)) log(`[${round + 1}] ${w.id} ${side}: failed: ${msg}`);
          }
        }
      }
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await stopAll();
    await pool.stop();
    pki?.remove();
  }

  if (args.cpuProfileDir) {
    // Which parts of our agent's profile were measured windows, per workload (profile-summary --windows).
    const windows = rate.flatMap((w) => (samples.get(key(w, "ours")) ?? []).flatMap((s) => (s.windowUs ? [{ workload: w.id, fromUs: s.windowUs[0], toUs: s.windowUs[1] }] : [])));
    const file = join(args.cpuProfileDir, "windows.json");
    mkdirSync(args.cpuProfileDir, { recursive: true });
    writeFileSync(file, JSON.stringify(windows, null, 2) + "\n");
    log(`cpu profile of our agent in ${args.cpuProfileDir}; summarize the measured windows with:\n  node --import tsx bench/profile-summary.ts ${args.cpuProfileDir}/CPU.*.cpuprofile --windows ${file} [--workload ID]`);
  }

  // Issue 7: 100,000 idle sessions held in < 400 MB RSS (the process's whole RSS, not the difference).
  const heldNotes = idle
    .filter((w) => w.sessions >= 100_000)
    .flatMap((w) =>
      (["ours", "libcoap"] as const).map((side) => {
        const s = samples.get(key(w, side))?.[0];
        if (!s?.rssBytes) return `${w.id} ${side}: not measured (${failures.get(key(w, side))?.[0] ?? "not run"})`;
        const mb = s.rssBytes / 1e6;
        return `${w.id} ${side}: ${s.sessions} sessions held in ${mb.toFixed(0)} MB RSS (${((s.value * (s.sessions ?? 0)) / 1e6).toFixed(0)} MB over start-up)${side === "ours" ? (mb < 400 ? " — goal < 400 MB met" : " — goal < 400 MB NOT met") : ""}`;
      }),
    );
  for (const n of heldNotes) log(n);

  const rows: Row[] = workloads.map((w) =>
    toRow(w, toCell(samples.get(key(w, "ours")) ?? [], failures.get(key(w, "ours")) ?? []), toCell(samples.get(key(w, "libcoap")) ?? [], failures.get(key(w, "libcoap")) ?? [])),
  );
  const cpu = os.cpus();
  return {
    date: started.toISOString(),
    profile: profile.name,
    machine: { cpus: cpu.length, cpuModel: cpu[0]?.model.trim() ?? "unknown", node: process.version, platform: `${os.platform()} ${os.release()}`, loadAverage },
    generator: { workers, udp: pool.udp, ceiling },
    settings: { rounds, idleRounds, warmupMs: timing.warmupMs, durationMs: timing.durationMs },
    rows,
    notes: [
      "GET /hello on ours (`coaps-edge agent --demo`: the local demo resource; 2.05, 21-byte text payload) vs GET /time on coap-server-openssl (2.05, 15-byte text payload): both small piggybacked responses; mean response sizes are in the JSON (responseBytes).",
      "Each session is its own UDP socket on its own loopback source address (127.<worker>.x.y), as a device would be; DTLS sessions offer one suite: TLS_PSK_WITH_AES_128_CCM_8, or TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 for hs-ecdhe.",
      "srv CPU µs/op: server CPU time (/proc/PID/stat) over the measured window divided by operations; robust to other load on the machine, unlike req/s.",
      `AES-128-CCM engine of our agent and of the generator's DtlsClient: ${DEFAULT_CCM_ENGINE === "native" ? "native (edge-agent/native/ccm, built by npm ci)" : "node:crypto (the optional native addon is not built: npm run build:native -w edge-agent)"}.`,
      `SHA-256 engine of the handshake (PRF, transcript, cookie) in our agent and the generator's DtlsClient: ${SHA256_ENGINE === "native" ? "native (edge-agent/native/sha256, OpenSSL, built by npm ci; COAPS_EDGE_SHA256=js selects @noble/hashes)" : "@noble/hashes (the optional native addon is not built, or COAPS_EDGE_SHA256=js)"}.`,
      `Our agent ran from ${oursStartMode}.`,
      `UDP engine of the generator's sockets in the req/s workloads (the handshake and idle ones open a socket per session and use node:dgram, see bench/load/gen-udp.ts): ${describeGenUdp(pool.udp)}.`,
      `UDP engine of our agent: ${DEFAULT_UDP_ENGINE === "native" ? "native (edge-agent/native/udp: recvmmsg/sendmmsg, one JS call per batch; COAPS_EDGE_UDP=dgram selects node:dgram)" : `node:dgram (${process.env["COAPS_EDGE_UDP"] === "dgram" ? "COAPS_EDGE_UDP=dgram" : "the optional native addon is not built: npm run build:native -w edge-agent"})`}.`,
      "idle: fresh servers; RSS (VmRSS) after start-up vs after N sessions with one GET each, divided by N.",
      ...(idle.some((w) => w.detach)
        ? ["idle-100k: the generator closes each socket right after its GET without close_notify and keeps nothing, so the servers hold the sessions as they would for live devices (until their idle timeout) while one generator process, limited to 20,000 open files here, can stand for 100,000 devices."]
        : []),
      ...heldNotes,
      ...(busyMachine ? [`The machine was busy (load average ${loadAverage.toFixed(2)} on ${cpu.length} CPUs at the start): req/s ratios are unreliable; the per-CPU ratio is not.`] : []),
      ...(args.oursCmd ? [`ours was started with --ours-cmd "${args.oursCmd.join(" ")}", not the coaps-edge CLI.`] : []),
    ],
  };
}

async function main(): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseBenchArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof ArgsError) {
      log(`bench: ${e.message}`);
      return 2;
    }
    throw e;
  }
  if (args.help) {
    console.log(usage());
    return 0;
  }
  const outDir = args.outDir ?? RESULTS;
  if (args.micro) {
    const micro = await runMicro(args.profile === "full" ? 1 : 0.3);
    if (args.write) {
      mkdirSync(outDir, { recursive: true });
      const file = join(outDir, `${stamp(new Date())}-micro.json`);
      writeFileSync(file, JSON.stringify(micro, null, 2) + "\n");
      log(`wrote ${file}`);
    }
    return 0;
  }
  const report = await runLoad(args);
  console.log(`\n## coaps-edge vs coap-server-openssl (${report.profile}, ${report.date})\n`);
  console.log(resultsTable(report));
  console.log("\nGenerator headroom:");
  for (const l of headroomLines(report)) console.log(`- ${l}`);
  console.log("\nNotes:");
  for (const n of report.notes) console.log(`- ${n}`);
  if (args.write) {
    mkdirSync(outDir, { recursive: true });
    const base = join(outDir, `${stamp(new Date(report.date))}-${report.profile}`);
    writeFileSync(`${base}.json`, JSON.stringify(report, null, 2) + "\n");
    writeFileSync(`${base}.svg`, chartSvg(report));
    log(`\nwrote ${base}.json and ${base}.svg`);
  }
  return 0;
}

process.exitCode = await main().catch((e: unknown) => {
  log(`bench: ${e instanceof Error ? e.message : String(e)}`);
  return 1;
});
