/**
 * Where an idle DTLS session's memory goes, server side only (issue 7: ≤ 2 kB per idle session).
 *
 * N real DtlsClient → DtlsServer handshakes on a MemoryNetwork with the agent's CoAP server and
 * demo resources on top, one CON GET /hello each, then every client is dropped without
 * close_notify (as the bench's idle workloads do), so only the server's state is left. Each
 * datagram reaches the server with a fresh peer object and fresh address string, as node:dgram's
 * `rinfo` does, so the session keeps what it would keep on a real socket.
 *
 * After a forced GC: `process.memoryUsage()` deltas per session, and a V8 heap snapshot diff by
 * constructor (self sizes, per session), taken after a warm-up batch so that code, shapes and
 * the endpoint's tables are already there. The CoAP layers' per-peer state (dedup cache,
 * message-layer slots, observe) is in the same heap and shows up in the diff.
 *
 * Run: node --expose-gc --import tsx bench/micro/idle-sessions.ts [sessions=5000] [--no-snapshot] [--gc-every-batch]
 * (--gc-every-batch: a full GC after every 50 sessions, to tell native memory held by garbage
 * — e.g. cipher contexts of keys the hot-key LRU dropped — from memory the sessions keep).
 */
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeHeapSnapshot } from "node:v8";
import { helloGet } from "./hello-get.js";
import { CipherSuiteId, DtlsClient, DtlsServer, pskTable } from "../../edge-agent/src/dtls/index.js";
import { registerDemoResources } from "../../edge-agent/src/server/demo-resources.js";
import { CoapServer } from "../../edge-agent/src/server/server.js";
import { MemoryNetwork } from "../../edge-agent/src/transport/memory.js";
import type { DatagramEndpoint, DatagramHandler, PeerAddress } from "../../edge-agent/src/transport/types.js";
import { FakeClock } from "../../edge-agent/src/util/clock.js";

const KEY = new TextEncoder().encode("secret-key-of-the-bench-device");

/** node:dgram hands up a new rinfo (and a new address string) with every datagram: so does this. */
class RinfoEndpoint implements DatagramEndpoint {
  onDatagram: DatagramHandler = () => {};
  constructor(readonly inner: DatagramEndpoint) {
    inner.onDatagram = (data, from, id) => {
      const rinfo = { address: Buffer.from(from.address, "latin1").toString("latin1"), family: from.family, port: from.port, size: data.length };
      this.onDatagram(data, rinfo, id);
    };
  }
  get scheme() {
    return this.inner.scheme;
  }
  get local() {
    return this.inner.local;
  }
  send(peer: PeerAddress, data: Uint8Array): void {
    this.inner.send(peer, data);
  }
  maxMessageSize(peer: PeerAddress): number {
    return this.inner.maxMessageSize(peer);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

interface Rig {
  readonly clock: FakeClock;
  readonly net: MemoryNetwork;
  readonly server: DtlsServer;
  readonly coap: CoapServer;
  created: number;
}

function newRig(): Rig {
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock);
  const server = new DtlsServer(new RinfoEndpoint(net.endpoint(5684)), {
    clock,
    psk: pskTable([{ identity: "bench", key: KEY }], { hint: "CoAP" }),
    maxSessions: 1_000_000,
    handshakeRate: false,
  });
  const coap = new CoapServer({ clock });
  registerDemoResources(coap);
  coap.attach(server);
  return { clock, net, server, coap, created: 0 };
}

const GET = helloGet(0);

const tick = () => new Promise<void>((r) => setImmediate(r));

/** `count` more sessions, 50 handshakes at a time; each sends one GET, waits for the answer, is dropped. */
async function addSessions(rig: Rig, count: number, gcEveryBatch = false): Promise<void> {
  const batch = 50;
  for (let done = 0; done < count; done += batch) {
    const n = Math.min(batch, count - done);
    let answered = 0;
    const pending: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      const k = rig.created++;
      // One address per device, as the bench's generator does (127.<x>.<y>.<z>).
      const lower = rig.net.endpoint(40000 + (k % 20000), `127.${1 + ((k >> 16) & 0xff)}.${(k >> 8) & 0xff}.${k & 0xff}`);
      pending.push(
        DtlsClient.connect(lower, rig.server.local, {
          clock: rig.clock,
          psk: { identity: "bench", key: KEY },
          cipherSuites: [CipherSuiteId.TLS_PSK_WITH_AES_128_CCM_8],
        }).then((client) => {
          client.onDatagram = () => void answered++;
          const get = Uint8Array.from(GET);
          get[2] = (k >>> 8) & 0xff;
          get[3] = k & 0xff;
          client.send(rig.server.local, get);
          // Dropped without close_notify: the socket goes away, the server keeps the session.
          rig.clock.setTimer(50, () => void lower.close());
        }),
      );
    }
    let settled = false;
    void Promise.all(pending).then(() => void (settled = true));
    for (let i = 0; i < 10_000 && !(settled && answered === n); i++) {
      rig.clock.advance(10);
      await tick();
    }
    if (answered !== n) throw new Error(`only ${answered} of ${n} GETs answered`);
    if (gcEveryBatch) globalThis.gc!();
  }
  rig.clock.advance(100); // the clients' endpoints close
  await tick();
}

/** Resident bytes of malloc's main heap (the "[heap]" mapping). */
function mallocHeapRss(): number {
  const smaps = readFileSync("/proc/self/smaps", "utf8");
  const at = smaps.indexOf("[heap]");
  if (at < 0) return 0;
  const m = /\nRss:\s+(\d+) kB/.exec(smaps.slice(at));
  return m ? Number(m[1]) * 1024 : 0;
}

function collect(): NodeJS.MemoryUsage {
  for (let i = 0; i < 4; i++) globalThis.gc!();
  return process.memoryUsage();
}

const COLLECTIONS = new Set(["Map", "Set", "WeakMap", "WeakSet"]);

/**
 * Self size and count per kind over a heap snapshot file. Plain objects are named by their
 * property names, and internal kinds (arrays, strings, heap numbers) by what first retains them
 * ("Owner.field"), so the diff says which field of which object holds the bytes.
 */
function snapshotSummary(file: string): Map<string, { count: number; size: number }> {
  const snap = JSON.parse(readFileSync(file, "utf8")) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
    nodes: number[];
    edges: number[];
    strings: string[];
  };
  const meta = snap.snapshot.meta;
  const types = meta.node_types[0];
  const width = meta.node_fields.length;
  const iType = meta.node_fields.indexOf("type");
  const iName = meta.node_fields.indexOf("name");
  const iSize = meta.node_fields.indexOf("self_size");
  const iEdges = meta.node_fields.indexOf("edge_count");
  const edgeTypes = meta.edge_types[0];
  const eWidth = meta.edge_fields.length;
  const eType = meta.edge_fields.indexOf("type");
  const eName = meta.edge_fields.indexOf("name_or_index");
  const eTo = meta.edge_fields.indexOf("to_node");
  const nodeCount = snap.nodes.length / width;
  const baseName = (n: number): string => {
    const type = types[snap.nodes[n * width + iType]!]!;
    return type === "object" || type === "closure" || type === "native" ? snap.strings[snap.nodes[n * width + iName]!]! : `(${type})`;
  };
  // Property names of plain objects, and each node's first retainer (node and edge label).
  const props = new Map<number, string[]>();
  const parent = new Int32Array(nodeCount).fill(-1);
  const parentLabel: string[] = new Array<string>(nodeCount);
  let e = 0;
  for (let n = 0; n < nodeCount; n++) {
    const edges = snap.nodes[n * width + iEdges]!;
    const name = baseName(n);
    const isRoot = name.startsWith("(GC roots)") || name === "(synthetic)" || types[snap.nodes[n * width + iType]!] === "synthetic";
    for (let k = 0; k < edges; k++, e += eWidth) {
      const et = edgeTypes[snap.edges[e + eType]!]!;
      if (et === "weak" || et === "shortcut") continue;
      const to = snap.edges[e + eTo]! / width;
      const label = et === "element" || et === "hidden" ? "[]" : snap.strings[snap.edges[e + eName]!]!;
      if (name === "Object" && et === "property") (props.get(n) ?? props.set(n, []).get(n)!).push(label);
      if (parent[to] === -1 && !isRoot) {
        parent[to] = n;
        parentLabel[to] = label;
      }
    }
  }
  // "Owner.field", looking through arrays, strings and other internal nodes (a Map's table, a cons string's parts).
  const owner = (n: number): string => {
    let label = "";
    for (let depth = 0, at = n; depth < 6; depth++) {
      const p = parent[at]!;
      if (p < 0) return `?${label}`;
      label = `.${parentLabel[at]}${label}`;
      const pn = baseName(p);
      // Maps and Sets are looked through too: "Owner.field.table" says whose table it is.
      if (!pn.startsWith("(") && pn !== "system / Context" && !COLLECTIONS.has(pn)) return `${pn === "Object" ? `{${(props.get(p) ?? []).slice(0, 3).join(",")}}` : pn}${label}`;
      at = p;
    }
    return `…${label}`;
  };
  const out = new Map<string, { count: number; size: number }>();
  for (let n = 0; n < nodeCount; n++) {
    const type = types[snap.nodes[n * width + iType]!]!;
    let name = baseName(n);
    if (name === "Object") name = `{${(props.get(n) ?? []).join(",")}}`;
    // Byte arrays are named by their holder too: an idle session should hold none (STYLE.md, issue 7).
    if (name === "{__proto__}" || name === "Uint8Array" || name === "Buffer" || name === "ArrayBuffer") name += ` ← ${owner(n)}`;
    else if (type === "closure") name = `closure ${name}`;
    else if (type !== "object" && type !== "native") name = `${name} ← ${owner(n)}`;
    if (name.length > 90) name = name.slice(0, 87) + "...";
    const entry = out.get(name) ?? { count: 0, size: 0 };
    entry.count++;
    entry.size += snap.nodes[n * width + iSize]!;
    out.set(name, entry);
  }
  return out;
}

function takeSnapshot(tag: string): Map<string, { count: number; size: number }> {
  const file = join(tmpdir(), `idle-sessions-${process.pid}-${tag}.heapsnapshot`);
  writeHeapSnapshot(file);
  try {
    return snapshotSummary(file);
  } finally {
    rmSync(file, { force: true });
  }
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(2)} KiB`;

export async function idleSessions(sessions: number, snapshot: boolean, gcEveryBatch = false): Promise<void> {
  if (!globalThis.gc) throw new Error("run with --expose-gc");
  const rig = newRig();
  await addSessions(rig, 200); // warm-up: code, shapes, the endpoint's tables
  const m0 = collect();
  const h0 = mallocHeapRss();
  const before = snapshot ? takeSnapshot("before") : undefined;
  const t0 = process.hrtime.bigint();
  await addSessions(rig, sessions, gcEveryBatch);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const h1 = mallocHeapRss();
  const m1 = collect();
  if (rig.server.sessionCount !== sessions + 200) throw new Error(`server holds ${rig.server.sessionCount} sessions, expected ${sessions + 200}`);
  console.log(`${sessions} idle sessions (+200 warm-up) in ${seconds.toFixed(1)} s; per session, after a forced GC:`);
  for (const k of ["rss", "heapTotal", "heapUsed", "external", "arrayBuffers"] as const) {
    console.log(`  ${k.padEnd(12)} ${kb((m1[k] - m0[k]) / sessions).padStart(12)}   (${(m1[k] / 1048576).toFixed(1)} MB in all)`);
  }
  console.log(`  ${"malloc heap".padEnd(12)} ${kb((h1 - h0) / sessions).padStart(12)}   (the [heap] mapping's RSS before the final GC${gcEveryBatch ? "; a GC after every 50 sessions" : ""})`);
  if (before) {
    const after = takeSnapshot("after");
    const rows: [string, number, number][] = [];
    let total = 0;
    for (const [name, a] of after) {
      const b = before.get(name) ?? { count: 0, size: 0 };
      const size = (a.size - b.size) / sessions;
      const count = (a.count - b.count) / sessions;
      total += size;
      if (Math.abs(size) >= 8 && (Math.abs(count) >= 0.05 || Math.abs(size) >= 16)) rows.push([name, count, size]);
    }
    rows.sort((x, y) => y[2] - x[2]);
    console.log(`heap snapshot diff per session: ${total.toFixed(0)} B in all`);
    console.log(`  ${"bytes".padStart(7)} ${"count".padStart(6)}  constructor / kind`);
    for (const [name, count, size] of rows) console.log(`  ${size.toFixed(0).padStart(7)} ${count.toFixed(2).padStart(6)}  ${name}`);
  }
  await rig.server.close();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const n = Number(args.find((a) => /^\d+$/.test(a)) ?? 5000);
  await idleSessions(n, !args.includes("--no-snapshot"), args.includes("--gc-every-batch"));
}
