/**
 * The first CoAP request of a new session against a request on a warm one (issue 7), at the
 * CoapServer / MessageLayer level without DTLS or sockets. In the bench's `hs-psk` workload
 * every session does handshake, one GET /hello, close: the CoAP side of that operation is one
 * request from a peer the layers have never seen, then the session's teardown (what the
 * DtlsServer's onSessionClosed chain runs: the server's `sessionClosed`).
 *
 *   warm   one peer object (as a DTLS session hands up for all its datagrams), a new message ID
 *          per request: dedup finds nothing, adds an entry under the peer's existing index.
 *   fresh  a new peer object per request, each its own address and port (127.10.x.y, ports
 *          20000–60000, as the bench's generator), message ID 1 as a new DtlsClient sends,
 *          a PSK identity object per session, then the session's teardown.
 *
 * Each case first serves 30,000 requests, enough to fill the dedup cache to its 10,000-entry
 * bound wherever entries outlive their session (EXCHANGE_LIFETIME is 247 s), as the agent's
 * cache is under load. CPU µs per op is process CPU time over whole rounds
 * (GC included); bytes per op is the V8 heap growth over short batches without a collection
 * between their ends (a batch a scavenge cut into is not counted).
 * Run alone: node --import tsx bench/micro/first-request.ts [ops-per-round] [rounds]
 */
import { encodeMessage } from "@coaps-edge/shared";
import { helloGetMessage } from "./hello-get.js";
import type { MicroResult } from "./measure.js";
import { CoapServer } from "../../edge-agent/src/server/server.js";
import { registerDemoResources } from "../../edge-agent/src/server/demo-resources.js";
import type { MessageLayer } from "../../edge-agent/src/coap/message-layer.js";
import type { DatagramEndpoint, DatagramHandler, PeerAddress, PeerIdentity } from "../../edge-agent/src/transport/types.js";

/** Counts what the server sends; delivers nothing. */
class SinkEndpoint implements DatagramEndpoint {
  readonly scheme = "coaps" as const;
  readonly local: PeerAddress = { address: "127.0.0.1", port: 5684, family: "IPv4" };
  onDatagram: DatagramHandler = () => {};
  sent = 0;
  send(): void {
    this.sent++;
  }
  maxMessageSize(): number {
    return 1152;
  }
  async close(): Promise<void> {}
}

interface Fixture {
  readonly ep: SinkEndpoint;
  readonly server: CoapServer;
  readonly layer: MessageLayer;
  readonly datagram: Uint8Array;
  /** The warm peer's last message ID. */
  mid: number;
  /** Sessions (new peers) so far. */
  sessions: number;
  /** Requests sent so far (each must get its one answer). */
  requests: number;
}

function fixture(): Fixture {
  const ep = new SinkEndpoint();
  const server = new CoapServer();
  registerDemoResources(server);
  const layer = server.attach(ep);
  return { ep, server, layer, datagram: encodeMessage(helloGetMessage(1)), mid: 0, sessions: 0, requests: 0 };
}

/** `n` requests from one peer object, message IDs counting up. */
function warmRequests(f: Fixture, n: number): void {
  const peer: PeerAddress = { address: "127.10.0.1", port: 20000, family: "IPv4" };
  const identity: PeerIdentity = { kind: "psk", identity: "bench" };
  const d = f.datagram;
  for (let i = 0; i < n; i++) {
    f.requests++;
    const mid = (f.mid = (f.mid % 0xffff) + 1);
    d[2] = mid >>> 8;
    d[3] = mid & 0xff;
    f.ep.onDatagram(Buffer.from(d), peer, identity);
  }
}

/** `n` sessions: one request each from a new peer (message ID 1), then the session's teardown. */
function freshRequests(f: Fixture, n: number): void {
  const d = f.datagram;
  d[2] = 0;
  d[3] = 1;
  for (let i = 0; i < n; i++) {
    f.requests++;
    const s = f.sessions++;
    const a = s % (256 * 254);
    // A DTLS session builds its peer and identity objects once, at the handshake.
    const peer: PeerAddress = { address: `127.10.${Math.floor(a / 254)}.${(a % 254) + 1}`, port: 20000 + (s % 40000), family: "IPv4" };
    const identity: PeerIdentity = { kind: "psk", identity: "bench" };
    f.ep.onDatagram(Buffer.from(d), peer, identity);
    f.server.sessionClosed(f.layer, peer);
  }
}

type Case = "warm" | "fresh";
const RUN: Record<Case, (f: Fixture, n: number) => void> = { warm: warmRequests, fresh: freshRequests };

function cpuUsPerOp(f: Fixture, c: Case, n: number): number {
  const c0 = process.cpuUsage();
  RUN[c](f, n);
  const u = process.cpuUsage(c0);
  return (u.user + u.system) / n;
}

/** Heap bytes per op: median over batches of 100 that no collection cut into. */
function bytesPerOp(f: Fixture, c: Case): number {
  const samples: number[] = [];
  for (let b = 0; b < 400 && samples.length < 50; b++) {
    const h0 = process.memoryUsage().heapUsed;
    RUN[c](f, 100);
    const grew = process.memoryUsage().heapUsed - h0;
    if (grew > 0) samples.push(grew / 100);
  }
  return samples.length === 0 ? NaN : median(samples);
}

function median(v: readonly number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

export interface FirstRequestResult {
  readonly warmUs: number;
  readonly freshUs: number;
  readonly warmBytes: number;
  readonly freshBytes: number;
}

/** Medians of `rounds` rounds of `ops` each, the two cases alternating (after a warm-up that fills the dedup caches). */
export function firstRequestCosts(ops = 50_000, rounds = 5): FirstRequestResult {
  const warm = fixture();
  const fresh = fixture();
  for (let i = 0; i < 3; i++) {
    warmRequests(warm, 10_000);
    freshRequests(fresh, 10_000);
  }
  const w: number[] = [];
  const fr: number[] = [];
  for (let r = 0; r < rounds; r++) {
    w.push(cpuUsPerOp(warm, "warm", ops));
    fr.push(cpuUsPerOp(fresh, "fresh", ops));
  }
  if (warm.ep.sent !== warm.requests || fresh.ep.sent !== fresh.requests) throw new Error("requests went unanswered");
  return { warmUs: median(w), freshUs: median(fr), warmBytes: bytesPerOp(warm, "warm"), freshBytes: bytesPerOp(fresh, "fresh") };
}

/** The two cases as micro-benchmark results (for `npm run bench -- --micro`). */
export function firstRequestResults(secondsPerCase: number): MicroResult[] {
  const r = firstRequestCosts(secondsPerCase >= 1 ? 50_000 : 10_000, 5);
  const row = (name: string, us: number, bytes: number, note: string): MicroResult => ({
    group: "coap",
    name,
    opsPerSecond: 1e6 / us,
    usPerOp: us,
    note: `${note}; ${Math.round(bytes)} heap B/op`,
  });
  return [
    row("GET /hello, warm peer", r.warmUs, r.warmBytes, "one session's next request, no socket; process CPU time"),
    row("GET /hello, new peer + session teardown", r.freshUs, r.freshBytes, "a new session's first request, then sessionClosed; process CPU time"),
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = firstRequestCosts(Number(process.argv[2] ?? 50_000), Number(process.argv[3] ?? 5));
  console.log(`| case | CPU µs/op | heap bytes/op |\n| --- | ---: | ---: |`);
  console.log(`| warm peer: GET /hello | ${r.warmUs.toFixed(2)} | ${Math.round(r.warmBytes)} |`);
  console.log(`| new peer: GET /hello + session teardown | ${r.freshUs.toFixed(2)} | ${Math.round(r.freshBytes)} |`);
}
