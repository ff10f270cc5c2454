/**
 * The load generator's own cost (issue 7: the generator must not be the bottleneck): generator
 * CPU µs per request or handshake, per UDP engine of its sockets (bench/load/gen-udp.ts). The
 * bench's load and handshake modes run in this process (no worker fork) against servers that
 * cost little per operation — plain GETs against the raw responder (bench/load/echo-server.ts),
 * DTLS-PSK GETs and PSK handshakes against coap-server-openssl — and this process's CPU time
 * over the measured window is divided by the operations it completed. Engines alternate each
 * round; rows are medians. One core for the generator, one for the server: the rate column is
 * what one generator process reaches here.
 *
 *   node --import tsx bench/micro/generator.ts [seconds-per-sample] [rounds] [ids] [engines]
 *   ids: plain-10,plain-100,psk-10,psk-100,hs-psk (default all); engines: native,dgram (default
 *   those built). With `node --cpu-prof` and one engine it is the generator's profile.
 */
import { fileURLToPath } from "node:url";
import { BENCH_PSK } from "../harness.js";
import { GEN_UDP_ENGINES, sessionUdp, type GenUdpEngine } from "../load/gen-udp.js";
import { HandshakeRun } from "../load/handshake-mode.js";
import type { HandshakeJob, LoadJob, ProtocolName, WorkerResult } from "../load/job.js";
import { LoadRun } from "../load/load-mode.js";
import { hasCommand, LIBCOAP_SERVER, startEcho, startLibcoap, type RunningServer } from "../servers.js";

interface Case {
  readonly id: string;
  readonly kind: "load" | "hs";
  readonly protocol: ProtocolName;
  /** Sessions (load) or handshakes in flight (hs). */
  readonly n: number;
}

const CASES: readonly Case[] = [
  { id: "plain-10", kind: "load", protocol: "plain", n: 10 },
  { id: "plain-100", kind: "load", protocol: "plain", n: 100 },
  { id: "psk-10", kind: "load", protocol: "psk", n: 10 },
  { id: "psk-100", kind: "load", protocol: "psk", n: 100 },
  { id: "hs-psk", kind: "hs", protocol: "psk", n: 16 },
];

export interface GeneratorCost {
  readonly id: string;
  readonly engine: GenUdpEngine;
  /** Generator CPU (user + system) per completed operation, µs. */
  readonly usPerOp: number;
  readonly opsPerSecond: number;
}

/** The engines `c` really runs on (handshake sessions always use dgram: gen-udp.ts `sessionUdp`). */
function enginesFor(c: Case, engines: readonly GenUdpEngine[]): GenUdpEngine[] {
  return [...new Set(engines.map((e) => sessionUdp(c.kind, e)))];
}

async function sample(c: Case, engine: GenUdpEngine, server: RunningServer, seconds: number): Promise<GeneratorCost> {
  const base = {
    protocol: c.protocol,
    target: { address: "127.0.0.1", port: c.protocol === "plain" ? server.plainPort : server.dtlsPort!, family: "IPv4" as const },
    path: server.path,
    psk: BENCH_PSK,
    handshakeTimeoutMs: 5000,
    udp: engine,
    warmupMs: 300,
    durationMs: seconds * 1000,
    timeoutMs: 2000,
  };
  let result: WorkerResult;
  if (c.kind === "load") {
    const run = new LoadRun({ ...base, kind: "load", sessions: c.n, window: 1, setupConcurrency: 16 } satisfies LoadJob);
    await run.setup();
    result = await run.run();
    await run.close();
  } else {
    const run = new HandshakeRun({ ...base, kind: "hs", slots: c.n } satisfies HandshakeJob);
    result = await run.run();
    await run.close();
  }
  const ok = Math.max(1, result.ok);
  return { id: c.id, engine, usPerOp: (result.cpuMs * 1000) / ok, opsPerSecond: (result.ok * 1000) / result.measuredMs };
}

export async function generatorCosts(ids: readonly string[], seconds: number, rounds: number, engines: readonly GenUdpEngine[] = GEN_UDP_ENGINES): Promise<GeneratorCost[]> {
  const cases = CASES.filter((c) => ids.includes(c.id));
  const echo = await startEcho();
  const libcoap = hasCommand(LIBCOAP_SERVER) ? await startLibcoap(BENCH_PSK.key) : undefined;
  const runs: GeneratorCost[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      for (const c of cases) {
        const server = c.protocol === "plain" ? echo : libcoap;
        if (!server) continue; // DTLS needs coap-server-openssl
        for (const engine of enginesFor(c, r % 2 === 0 ? engines : [...engines].reverse())) runs.push(await sample(c, engine, server, seconds));
      }
    }
  } finally {
    await Promise.all([echo.stop(), libcoap?.stop()]);
  }
  return cases.flatMap((c) =>
    enginesFor(c, engines).flatMap((engine) => {
      const mine = runs.filter((x) => x.id === c.id && x.engine === engine).sort((a, b) => a.usPerOp - b.usPerOp);
      return mine.length === 0 ? [] : [mine[mine.length >> 1]!];
    }),
  );
}

export function generatorCostTable(results: readonly GeneratorCost[]): string {
  const rate = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0));
  return results.map((r) => `| ${r.id.padEnd(9)} | ${r.engine.padEnd(6)} | ${r.usPerOp.toFixed(1).padStart(6)} generator CPU µs/op | ${rate(r.opsPerSecond).padStart(6)} ops/s |`).join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const seconds = Number(process.argv[2] ?? 1.5);
  const rounds = Number(process.argv[3] ?? 3);
  const ids = process.argv[4]?.split(",") ?? CASES.map((c) => c.id);
  const engines = process.argv[5]?.split(",").filter((e): e is GenUdpEngine => (GEN_UDP_ENGINES as readonly string[]).includes(e)) ?? GEN_UDP_ENGINES;
  console.log(generatorCostTable(await generatorCosts(ids, seconds, rounds, engines)));
}
