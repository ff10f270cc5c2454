/**
 * The child process of test/edge-agent/transport/udp-native-backpressure.test.ts, started with
 * udp-eagain-shim.so preloaded:
 * `node --import tsx udp-backpressure-child.ts [--bind ADDRESS] [--peer ADDRESS] <scenario> [arg]`.
 *
 * It opens a native UdpEndpoint (the engine under test, answering every datagram it receives
 * with the same bytes) bound to --bind and a node:dgram receiver on --peer (both default to
 * 127.0.0.1; "::" with a 127.0.0.1 peer is the dual-stack case), points the shim at the endpoint's
 * port, plays one scenario (below) and prints what happened as one JSON line (`Outcome`). Then it
 * closes both sockets and must end on its own: a poll handle the engine left open would keep the
 * process alive, and the test's timeout would say so.
 *
 * Datagrams carry a sequence number (u32, big-endian) and then `size - 4` bytes of (seq & 0xff),
 * so the receiver can tell lost, duplicated, reordered and overwritten datagrams apart.
 */
import dgram from "node:dgram";
import { isIPv6 } from "node:net";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { PeerAddress } from "../../edge-agent/src/transport/types.js";
import { UdpEndpoint } from "../../edge-agent/src/transport/udp.js";

export interface Outcome {
  /** Sequence numbers in the order the receiver got them. */
  readonly received: readonly number[];
  /** Sequence numbers of datagrams whose length or bytes differ from what was sent. */
  readonly damaged: readonly number[];
  /** The endpoint's counters after it closed. */
  readonly stats: { readonly received: number; readonly sent: number; readonly sendErrors: number };
  /** What a scenario measured on the way (e.g. datagrams that arrived while the socket was held). */
  readonly extra: Readonly<Record<string, number>>;
}

/** Sequence numbers the receiver sends to the endpoint to be echoed (apart from the endpoint's own). */
export const ECHO_BASE = 1000;
const DEFAULT_SIZE = 8;

function datagram(seq: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size).fill(seq & 0xff);
  new DataView(bytes.buffer).setUint32(0, seq);
  return bytes;
}

function intact(bytes: Buffer, seq: number, size: number): boolean {
  return bytes.length === size && bytes.subarray(4).every((b) => b === (seq & 0xff));
}

class Harness {
  /** Each arrival: its sequence number and whether its bytes are the ones sent. */
  readonly arrivals: { readonly seq: number; readonly intact: boolean }[] = [];
  readonly #sizes = new Map<number, number>();

  constructor(
    readonly ep: UdpEndpoint,
    readonly receiver: dgram.Socket,
    /** The loopback address of the receiver (and of the closed port in the pollerr scenario). */
    readonly peer: string,
  ) {
    receiver.on("message", (bytes) => {
      const seq = bytes.length >= 4 ? bytes.readUInt32BE(0) : -1;
      this.arrivals.push({ seq, intact: intact(bytes, seq, this.#sizes.get(seq) ?? -1) });
    });
  }

  /** Arms the shim (udp-eagain-shim.c): a new plan starts at its first step. */
  plan(plan: string): void {
    process.env["UDP_SHIM_PLAN"] = plan;
  }

  /** The receiver as the endpoint's peer. */
  get #to(): PeerAddress {
    return this.at(this.receiver.address().port);
  }

  /** A port on the receiver's loopback address. */
  at(port: number): PeerAddress {
    return { address: this.peer, port, family: isIPv6(this.peer) ? "IPv6" : "IPv4" };
  }

  /** A port on the receiver's address nobody listens on (bound, then closed): datagrams to it draw an ICMP port unreachable. */
  async closedPort(): Promise<PeerAddress> {
    const socket = dgram.createSocket(isIPv6(this.peer) ? "udp6" : "udp4");
    await new Promise<void>((resolve) => socket.bind(0, this.peer, resolve));
    const { port } = socket.address();
    await new Promise<void>((resolve) => socket.close(resolve));
    return this.at(port);
  }

  /** Sends datagrams from..from+count-1 from the endpoint to the receiver, in this tick. */
  send(from: number, count: number, size = DEFAULT_SIZE): void {
    const to = this.#to;
    for (let seq = from; seq < from + count; seq++) {
      this.#sizes.set(seq, size);
      this.ep.send(to, datagram(seq, size));
    }
  }

  /** Sends one empty datagram (the receiver records it as sequence number -1). */
  sendEmpty(): void {
    this.#sizes.set(-1, 0);
    this.ep.send(this.#to, new Uint8Array(0));
  }

  /** The receiver sends datagrams to the endpoint (over node:dgram, which the shim leaves alone); the endpoint echoes them. */
  sendToEndpoint(from: number, count: number): void {
    for (let seq = from; seq < from + count; seq++) {
      this.#sizes.set(seq, DEFAULT_SIZE);
      this.receiver.send(datagram(seq, DEFAULT_SIZE), this.ep.local.port, this.peer);
    }
  }

  /** Waits until `ready()` holds (polling), at most 3 s: the test then finds what is missing. */
  async until(ready: () => boolean): Promise<void> {
    const deadline = Date.now() + 3000;
    while (!ready() && Date.now() < deadline) await sleep(5);
  }

  /** Waits until the receiver holds n datagrams, then a little longer to catch duplicates. */
  async received(n: number): Promise<void> {
    await this.until(() => this.arrivals.length >= n);
    await sleep(30);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** A few turns of the event loop: a held socket's writable polls run, queued microtask flushes too. */
const turns = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

type Scenario = (h: Harness, arg: string | undefined) => Promise<Record<string, number>>;

const scenarios: Record<string, Scenario> = {
  /** sendmmsg refused three times (`arg`: eagain | enobufs), then taken; the socket still sends and echoes after. */
  async refused(h, arg) {
    h.plan(`${arg ?? "eagain"}*3`);
    h.send(0, 40);
    await h.received(40);
    h.send(40, 10);
    await h.received(50);
    h.sendToEndpoint(ECHO_BASE, 3);
    await h.received(53);
    return {};
  },

  /** Batches taken in part, between refusals: each retry starts at the first datagram not yet sent. */
  async partial(h) {
    h.plan("partial:2,eagain*2,partial:1,enobufs,partial:5");
    h.send(0, 40);
    await h.received(40);
    return {};
  },

  /** Held (refused until released) across ticks, with echoes queued from receive batches meanwhile. */
  async held(h) {
    h.plan("eagain*");
    h.send(0, 10);
    await turns(3);
    h.send(10, 10);
    h.sendToEndpoint(ECHO_BASE, 3);
    await h.until(() => h.ep.stats.received === 3);
    await turns(3);
    const whileHeld = h.arrivals.length;
    h.plan("pass");
    await h.received(23);
    // Drained, the socket polls for readable only: a poll left on writable would spin (the
    // socket is always writable), ~100 ms of CPU in this 100 ms sleep.
    const cpu = process.cpuUsage();
    await sleep(100);
    const spent = process.cpuUsage(cpu);
    return { whileHeld, idleCpuMs: (spent.user + spent.system) / 1000 };
  },

  /** An empty datagram queued while held takes no room from the ones after it. */
  async empty(h) {
    h.plan("eagain*");
    h.sendEmpty();
    h.send(0, 3);
    await turns(3);
    h.plan("pass");
    await h.received(4);
    return {};
  },

  /** Held with more sends than the ring's SEND_SLOTS (128): the ring keeps 128, the rest are dropped and counted. */
  async "ring-overflow"(h) {
    h.plan("eagain*");
    h.send(0, 200);
    await turns(3);
    const whileHeld = h.arrivals.length;
    h.plan("pass");
    await h.received(128);
    return { whileHeld };
  },

  /**
   * 60 KiB datagrams against the 512 KiB send arena: 8 fit, 4 leave (partial), the kernel then
   * refuses; 4 more wrap to the arena's start below the oldest queued one, the 5th finds no room.
   */
  async "arena-wrap"(h) {
    const size = 60 * 1024;
    h.plan("partial:4,eagain*");
    h.send(0, 8, size);
    await turns(3);
    await h.until(() => h.arrivals.length >= 4);
    const beforeWrap = h.arrivals.length;
    h.send(8, 5, size);
    await turns(3);
    h.plan("pass");
    await h.received(12);
    return { beforeWrap };
  },

  /**
   * An ICMP port unreachable raises POLLERR on the endpoint's socket: the shim turns IP_RECVERR on
   * at its first send, which goes to a closed port, so the error waits in the socket's error queue
   * (without the option Linux drops it). libuv then stops the poll (uv__poll_io); the socket must
   * go on receiving and sending, and must not spin on an error it never clears.
   */
  async pollerr(h) {
    process.env["UDP_SHIM_RECVERR"] = "1";
    h.ep.send(await h.closedPort(), datagram(0xdead, DEFAULT_SIZE));
    await sleep(50); // the error arrives (loopback ICMP is not rate-limited) and the poll reports it
    h.sendToEndpoint(ECHO_BASE, 5);
    await h.received(5);
    h.send(0, 3);
    await h.received(8);
    const cpu = process.cpuUsage();
    await sleep(100);
    const spent = process.cpuUsage(cpu);
    return { idleCpuMs: (spent.user + spent.system) / 1000 };
  },

  /** close() while the kernel refuses everything: it gives up after CLOSE_DRAIN_MS, drops and counts the queue. */
  async "close-held"(h) {
    h.plan("eagain*");
    h.send(0, 10);
    await turns(3);
    const started = Date.now();
    await h.ep.close();
    const closeMs = Date.now() - started;
    h.plan("pass");
    await sleep(50);
    return { closeMs };
  },
};

/** Plays the scenario named on the command line (the test imports this file only for its types and constants). */
async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { bind: { type: "string", default: "127.0.0.1" }, peer: { type: "string", default: "127.0.0.1" } },
    allowPositionals: true,
  });
  const [name = "", arg] = positionals;
  const scenario = scenarios[name];
  if (scenario === undefined) throw new Error(`unknown scenario "${name}" (${Object.keys(scenarios).join(", ")})`);

  const ep = await UdpEndpoint.bind({ address: values.bind, engine: "native" });
  ep.onDatagram = (data, from) => ep.send(from, data);
  // Room for 12 × 60 KiB in one burst (the sender's sendmmsg fills it before the receiver reads).
  const receiver = dgram.createSocket({ type: isIPv6(values.peer) ? "udp6" : "udp4", recvBufferSize: 4 * 1024 * 1024 });
  await new Promise<void>((resolve) => receiver.bind(0, values.peer, resolve));
  process.env["UDP_SHIM_PORT"] = String(ep.local.port);

  const harness = new Harness(ep, receiver, values.peer);
  const extra = await scenario(harness, arg);
  await ep.close();
  receiver.close();
  const { received, sent, sendErrors } = ep.stats;
  const outcome: Outcome = {
    received: harness.arrivals.map((a) => a.seq),
    damaged: harness.arrivals.filter((a) => !a.intact).map((a) => a.seq),
    stats: { received, sent, sendErrors },
    extra,
  };
  console.log(JSON.stringify(outcome));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
