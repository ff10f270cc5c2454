/**
 * The server's side of a new DTLS session in one process, without sockets (issue 7): what the
 * bench's `hs-psk` / `hs-ecdhe` workloads cost the agent above the socket. One operation is what
 * one generator slot does: a real `DtlsClient` runs the cookie exchange and the full handshake
 * (PSK with the "CoAP" hint, or ECDHE-ECDSA P-256 as an anonymous client), sends GET /hello,
 * gets the 2.05 and closes with close_notify; the server answers close_notify and drops the
 * session.
 *
 * Only the server's work is timed: every datagram the server endpoint receives is handed to it
 * inside a process.cpuUsage() bracket (the server's own sends — a copy onto the queue — fall
 * inside it too; the bracket's own cost, measured empty, is subtracted). GC is charged to
 * whichever side triggers it, so the client's garbage shows up partly on the server: the total
 * (both sides) is printed next to it. Datagrams go through a plain FIFO (no MemoryNetwork
 * timers) as Buffers from node's pool, as a socket hands them up; `batch` sessions in flight.
 *
 * Sources "many" (the default) is what the bench's generator does: every session from its own
 * address 127.10.x.y (as a device network), and the server keeps the agent's default per-address
 * handshake rate limit (config.limits: 10/s, burst 20, 10,000 addresses), so per-address state
 * is exercised as in the real agent. "one" sends every session from 127.0.0.1 with the limit off
 * (what coap-load does against an agent configured with `handshakesPerSecond: 0`).
 *
 * Run alone: node --import tsx bench/micro/handshake-server.ts [psk|ecdhe] [count] [rounds] [many|one]
 */
import { helloGet } from "./hello-get.js";
import { CipherSuiteId, DtlsClient, DtlsServer, pskTable, type DtlsServerPki } from "../../edge-agent/src/dtls/index.js";
import { generateTestPki, loadCredentials } from "../../edge-agent/src/pki/index.js";
import { registerDemoResources } from "../../edge-agent/src/server/demo-resources.js";
import { CoapServer } from "../../edge-agent/src/server/server.js";
import { ANONYMOUS, type DatagramEndpoint, type DatagramHandler, type PeerAddress } from "../../edge-agent/src/transport/types.js";
import { FakeClock } from "../../edge-agent/src/util/clock.js";

export type HandshakeKind = "psk" | "ecdhe";
/** Where sessions come from: each from its own address ("many", as the bench), or all from one. */
export type HandshakeSources = "many" | "one";

interface Queued {
  readonly to: FifoEndpoint;
  readonly from: PeerAddress;
  readonly data: Uint8Array;
}

/** A datagram endpoint on a FIFO: `send` queues a copy for the endpoint bound at the address. */
class FifoEndpoint implements DatagramEndpoint {
  readonly scheme = "coap" as const;
  onDatagram: DatagramHandler = () => {};

  constructor(
    readonly net: FifoNetwork,
    readonly local: PeerAddress,
  ) {}

  send(peer: PeerAddress, data: Uint8Array): void {
    const to = this.net.bound.get(peer.port);
    // A copy in node's Buffer pool, as a socket hands datagrams up (off the V8 heap).
    if (to) this.net.queue.push({ to, from: this.local, data: Buffer.from(data) });
  }

  maxMessageSize(): number {
    return 1152;
  }

  async close(): Promise<void> {
    this.net.bound.delete(this.local.port);
  }
}

class FifoNetwork {
  readonly bound = new Map<number, FifoEndpoint>();
  queue: Queued[] = [];
  /** Server CPU µs spent on received datagrams. */
  serverCpuUs = 0;
  /** What an empty process.cpuUsage() bracket reads (≈2 µs here), taken off each timed delivery. */
  readonly bracketUs = emptyBracketUs();
  server: FifoEndpoint | undefined;

  endpoint(port: number, address = "127.0.0.1"): FifoEndpoint {
    const ep = new FifoEndpoint(this, { address, port, family: "IPv4" });
    this.bound.set(port, ep);
    return ep;
  }

  /** Delivers until nothing is queued; deliveries to the server are timed. */
  pump(): void {
    while (this.queue.length > 0) {
      const q = this.queue;
      this.queue = [];
      for (const d of q) {
        if (d.to !== this.server) {
          d.to.onDatagram(d.data, d.from, ANONYMOUS);
          continue;
        }
        const c0 = process.cpuUsage();
        d.to.onDatagram(d.data, d.from, ANONYMOUS);
        const c = process.cpuUsage(c0);
        this.serverCpuUs += c.user + c.system - this.bracketUs;
      }
    }
  }
}

function emptyBracketUs(): number {
  const n = 20_000;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const c0 = process.cpuUsage();
    const c = process.cpuUsage(c0);
    sum += c.user + c.system;
  }
  return sum / n;
}

const KEY = new TextEncoder().encode("secret-key-of-the-bench-device");

export interface HandshakeServerResult {
  /** Server CPU µs per session (median round). */
  readonly serverUs: number;
  /** Process CPU µs per session, client and server together (median round). */
  readonly totalUs: number;
}

/** Server CPU µs per new session (handshake + GET + close) over `rounds` rounds of `count` (after one warm-up round). */
export async function handshakeServerUs(kind: HandshakeKind, count: number, rounds = 3, batch = 16, sources: HandshakeSources = "many"): Promise<HandshakeServerResult> {
  const clock = new FakeClock();
  const net = new FifoNetwork();
  const serverLower = net.endpoint(5684);
  net.server = serverLower;
  let pki: DtlsServerPki | undefined;
  if (kind === "ecdhe") {
    const issued = generateTestPki({ devices: 0 }).server!;
    pki = { credentials: loadCredentials(issued.chainPem, issued.keyPem), verifyPeer: false };
  }
  const server = new DtlsServer(serverLower, {
    clock,
    psk: pskTable([{ identity: "bench", key: KEY }], { hint: "CoAP" }),
    ...(pki ? { pki } : {}),
    // The agent's default limit (DtlsServer's default) with many sources; none with one.
    ...(sources === "one" ? { handshakeRate: false as const } : {}),
  });
  const coap = new CoapServer({ clock });
  registerDemoResources(coap);
  coap.attach(server);

  const get = helloGet(1);
  const clientOptions =
    kind === "psk"
      ? { clock, psk: { identity: "bench", key: KEY }, cipherSuites: [CipherSuiteId.TLS_PSK_WITH_AES_128_CCM_8] }
      : { clock, cipherSuites: [CipherSuiteId.TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8], groups: ["secp256r1" as const] };

  let nextPort = 20_000;
  let nextSource = 0;
  /** The next source address: 127.10.x.y round-robin over a /16, as bench/load/sources.ts. */
  const source = (): string => {
    if (sources === "one") return "127.0.0.1";
    const i = nextSource++ % (256 * 254);
    return `127.10.${Math.floor(i / 254)}.${(i % 254) + 1}`;
  };
  /** `n` sessions, `batch` at a time; returns [server µs, total µs] per session. */
  const runSessions = async (n: number): Promise<[number, number]> => {
    net.serverCpuUs = 0;
    const c0 = process.cpuUsage();
    for (let done = 0; done < n; done += batch) {
      const connecting: Promise<DtlsClient>[] = [];
      for (let i = 0; i < batch; i++) {
        if (nextPort > 60_000) nextPort = 20_000; // ports are reused, as the OS does
        connecting.push(DtlsClient.connect(net.endpoint(nextPort++, source()), server.local, { ...clientOptions, ownsLower: true }));
      }
      net.pump();
      const clients = await Promise.all(connecting);
      let answers = 0;
      for (const c of clients) {
        c.onDatagram = () => void answers++;
        c.send(server.local, get);
      }
      net.pump();
      if (answers !== clients.length) throw new Error(`${clients.length - answers} GETs unanswered`);
      await Promise.all(clients.map((c) => c.close()));
      net.pump();
      // FakeClock keeps cancelled timers (and through their closures whole handshakes) until it
      // next looks for a due one; the system clock's clearTimeout lets them go at once.
      clock.advance(0);
    }
    if (server.sessionCount !== 0 || server.halfOpenCount !== 0) throw new Error("the server kept sessions");
    const c = process.cpuUsage(c0);
    return [net.serverCpuUs / n, (c.user + c.system) / n];
  };

  await runSessions(count); // warm-up
  const serverRounds: number[] = [];
  const totalRounds: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const [s, t] = await runSessions(count);
    serverRounds.push(s);
    totalRounds.push(t);
  }
  await server.close();
  return { serverUs: median(serverRounds), totalUs: median(totalRounds) };
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const kind = (process.argv[2] ?? "psk") as HandshakeKind;
  const sources = (process.argv[5] ?? "many") as HandshakeSources;
  const usage = "usage: handshake-server.ts [psk|ecdhe] [count] [rounds] [many|one]";
  if ((kind !== "psk" && kind !== "ecdhe") || (sources !== "many" && sources !== "one")) throw new Error(usage);
  const r = await handshakeServerUs(kind, Number(process.argv[3] ?? (kind === "psk" ? 2000 : 1000)), Number(process.argv[4] ?? 3), 16, sources);
  console.log(`| handshake | new ${kind} session (+GET+close), server side, ${sources} source address(es) | ${r.serverUs.toFixed(1)} CPU µs/op | both sides ${r.totalUs.toFixed(1)} µs | no socket |`);
}
