/**
 * node:dgram send cost (issue 7, lever 1): CPU µs per 64-byte loopback send for
 *   - default:        send(data, port, "127.0.0.1", cb) — dns.lookup (isIP + nextTick) + callback
 *   - sync lookup+cb: createSocket({ lookup }) answering IP literals synchronously, still a callback
 *   - sync lookup:    the same without a callback (what UdpEndpoint does)
 *   - UdpEndpoint:    our transport's send
 * and, for a fresh 40-byte Uint8Array per send (on the V8 heap, as a just-encoded CoAP reply is),
 * node:dgram directly (V8 moves each array off the heap: a malloc) vs UdpEndpoint (slab copy).
 * Sends go in batches of 256 with a macrotask between them so callbacks and nextTicks run.
 * The receiver never reads: loopback drops what its buffer cannot hold, the sender does not wait.
 * Run alone: node --import tsx bench/micro/udp-send.ts [seconds-per-case]
 */
import dgram from "node:dgram";
import { isIP } from "node:net";
import { UdpEndpoint } from "../../edge-agent/src/transport/udp.js";

const BATCH = 256;
const data = new Uint8Array(64);
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const fresh = (): Uint8Array => {
  const a = new Uint8Array(40);
  a[0] = 0x60;
  return a;
};

const syncLookup = ((host: string, _opts: unknown, cb: (err: null, address: string, family: number) => void): void => {
  cb(null, host, isIP(host));
}) as unknown as dgram.SocketOptions["lookup"];

async function bound(opts: dgram.SocketOptions): Promise<dgram.Socket> {
  const s = dgram.createSocket(opts);
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", r));
  return s;
}

async function cpuPerOp(send: () => void, seconds: number): Promise<number> {
  for (let i = 0; i < 20; i++) {
    for (let j = 0; j < BATCH; j++) send();
    await tick();
  }
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const until = Date.now() + (seconds * 1000) / 5;
    const c0 = process.cpuUsage();
    let n = 0;
    while (Date.now() < until) {
      for (let j = 0; j < BATCH; j++) send();
      n += BATCH;
      await tick();
    }
    const c = process.cpuUsage(c0);
    rounds.push((c.user + c.system) / n);
  }
  rounds.sort((a, b) => a - b);
  return rounds[2]!;
}

export async function udpSendTable(seconds: number): Promise<string> {
  const rx = await bound({ type: "udp4" });
  const port = rx.address().port;
  const cb = (): void => {};
  const plain = await bound({ type: "udp4" });
  const sync = await bound({ type: "udp4", lookup: syncLookup });
  const ep = await UdpEndpoint.bind({ address: "127.0.0.1" });
  const peer = { address: "127.0.0.1", port, family: "IPv4" } as const;
  const rows: [string, number][] = [
    ["default (dns.lookup + callback)", await cpuPerOp(() => plain.send(data, port, "127.0.0.1", cb), seconds)],
    ["sync lookup + callback", await cpuPerOp(() => sync.send(data, port, "127.0.0.1", cb), seconds)],
    ["sync lookup, no callback", await cpuPerOp(() => sync.send(data, port, "127.0.0.1"), seconds)],
    ["UdpEndpoint.send", await cpuPerOp(() => ep.send(peer, data), seconds)],
    ["fresh array: sync lookup + cb", await cpuPerOp(() => sync.send(fresh(), port, "127.0.0.1", cb), seconds)],
    ["fresh array: UdpEndpoint.send", await cpuPerOp(() => ep.send(peer, fresh()), seconds)],
  ];
  plain.close();
  sync.close();
  rx.close();
  await ep.close();
  return rows.map(([name, us]) => `| ${name.padEnd(32)} | ${us.toFixed(2).padStart(6)} CPU µs/send |`).join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await udpSendTable(Number(process.argv[2] ?? 2)));
