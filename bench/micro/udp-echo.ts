/**
 * Raw UDP echo on each UdpEndpoint engine (issue 7): server CPU µs per request/response with no
 * parsing at all, the floor under every CoAP and DTLS number. The server is a UdpEndpoint in
 * this process that sends every datagram back; the load is a forked process with SOCKETS
 * sockets keeping WINDOW 40-byte datagrams each in flight (closed loop, like the bench's
 * sessions). CPU is this process's (process.cpuUsage) over the window ÷ datagrams echoed.
 * Engines alternate (native, dgram, native, dgram, …) and each row is the median of its rounds.
 *
 *   node --import tsx bench/micro/udp-echo.ts [seconds-per-round] [rounds]
 *
 * The load process uses the default engine too (so it keeps up); with one core for the load and
 * one for the server the load can be the limit: the req/s column says how hard it drove.
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { DEFAULT_UDP_ENGINE, UDP_ENGINES, UdpEndpoint, type UdpEngine } from "../../edge-agent/src/transport/udp.js";

const SOCKETS = 16;
const WINDOW = 8;
const WARMUP_MS = 300;

export interface EchoResult {
  readonly engine: UdpEngine;
  readonly usPerEcho: number;
  readonly echoesPerSecond: number;
}

/** The load: SOCKETS endpoints, each re-sending a datagram as soon as one comes back. */
async function load(port: number): Promise<void> {
  const peer = { address: "127.0.0.1", port, family: "IPv4" } as const;
  const data = new Uint8Array(40);
  const eps: UdpEndpoint[] = [];
  for (let s = 0; s < SOCKETS; s++) {
    const ep = await UdpEndpoint.bind({ address: "127.0.0.1", engine: DEFAULT_UDP_ENGINE });
    ep.onDatagram = () => ep.send(peer, data);
    eps.push(ep);
  }
  for (const ep of eps) for (let w = 0; w < WINDOW; w++) ep.send(peer, data);
  // A lost datagram would shrink the window for good: top every socket up once a second.
  const topUp = setInterval(() => {
    for (const ep of eps) ep.send(peer, data);
  }, 1000);
  process.once("message", () => {
    clearInterval(topUp);
    void Promise.all(eps.map((ep) => ep.close())).then(() => process.exit(0));
  });
}

async function measure(engine: UdpEngine, seconds: number): Promise<EchoResult> {
  const server = await UdpEndpoint.bind({ address: "127.0.0.1", engine, recvBufferSize: 1 << 20 });
  let echoed = 0;
  server.onDatagram = (data, peer) => {
    echoed++;
    server.send(peer, data);
  };
  const child = fork(fileURLToPath(import.meta.url), ["--load", String(server.local.port)], { stdio: "inherit" });
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const n0 = echoed;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = process.cpuUsage(c0);
  const ms = performance.now() - t0;
  const n = echoed - n0;
  child.send("stop");
  await new Promise((r) => child.once("exit", r));
  await server.close();
  return { engine, usPerEcho: (cpu.user + cpu.system) / Math.max(1, n), echoesPerSecond: (n * 1000) / ms };
}

export async function udpEchoResults(seconds: number, rounds: number): Promise<EchoResult[]> {
  const runs: EchoResult[] = [];
  for (let r = 0; r < rounds; r++) for (const engine of UDP_ENGINES) runs.push(await measure(engine, seconds));
  return UDP_ENGINES.map((engine) => {
    const mine = runs.filter((x) => x.engine === engine).sort((a, b) => a.usPerEcho - b.usPerEcho);
    return mine[mine.length >> 1]!;
  });
}

export function udpEchoTable(results: readonly EchoResult[]): string {
  return results
    .map((r) => `| ${r.engine.padEnd(6)} | ${r.usPerEcho.toFixed(2).padStart(6)} server CPU µs/echo | ${(r.echoesPerSecond / 1000).toFixed(1).padStart(6)}k echoes/s |`)
    .join("\n");
}

if (process.argv[2] === "--load") {
  await load(Number(process.argv[3]));
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const seconds = Number(process.argv[2] ?? 2);
  const rounds = Number(process.argv[3] ?? 3);
  console.log(udpEchoTable(await udpEchoResults(seconds, rounds)));
}
