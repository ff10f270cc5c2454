/**
 * The native UDP engine when the kernel says "wait" (edge-agent/native/udp/udp.c flush()): a
 * sendmmsg(2) refused with EAGAIN/EWOULDBLOCK or ENOBUFS keeps the unsent datagrams queued and
 * polls the socket for writable, as libuv does for node:dgram; a batch the kernel takes only in
 * part resumes at its first unsent datagram; the queue is bounded (SEND_SLOTS entries and
 * SEND_ARENA_BYTES bytes, udp-native.ts) and what does not fit is dropped and counted.
 *
 * Over loopback the kernel never refuses a datagram, so none of this runs in the other transport
 * tests. Here an LD_PRELOAD shim (test/helpers/udp-eagain-shim.c) makes sendmmsg on the engine's
 * socket refuse or take part of a batch on cue, and traces each call. Every case runs in a child
 * process with the shim preloaded (test/helpers/udp-backpressure-child.ts): a native UdpEndpoint
 * sends numbered datagrams to a node:dgram receiver, and the test checks that each arrives once,
 * in order and intact, what the counters say, that the engine retried exactly the unsent rest
 * (the shim's trace), and that the child ends on its own (no poll handle left behind).
 *
 * The same shim turns IP_RECVERR on for one case, so an ICMP port unreachable raises POLLERR on
 * the engine's socket (udp.c on_poll, status < 0): libuv stops a poll handle on POLLERR, and the
 * engine must restart it, clear the error, and go on receiving.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { loadNativeUdp } from "../../../edge-agent/src/transport/udp-native-addon.js";
import { CLOSE_DRAIN_MS } from "../../../edge-agent/src/transport/udp.js";
import { ECHO_BASE, type Outcome } from "../../helpers/udp-backpressure-child.js";
import { eagainShim, shimTrace } from "../../helpers/udp-eagain-shim.js";

const CHILD = fileURLToPath(new URL("../../helpers/udp-backpressure-child.ts", import.meta.url));
/** The addon's send ring (SEND_SLOTS in udp.c). */
const SEND_SLOTS = 128;

/** Runs one scenario of the child with the shim preloaded: its outcome and the shim's trace. */
async function run(shim: string, scenario: string, ...args: string[]): Promise<{ outcome: Outcome; trace: string[] }> {
  return runWith(shim, [], scenario, ...args);
}

/** As run(), with the child's options (--bind, --peer) first. */
async function runWith(shim: string, options: readonly string[], scenario: string, ...args: string[]): Promise<{ outcome: Outcome; trace: string[] }> {
  const env: NodeJS.ProcessEnv = { ...process.env, LD_PRELOAD: shim };
  delete env["COAPS_EDGE_UDP"]; // the child must run the native engine
  delete env["UDP_SHIM_PLAN"];
  delete env["UDP_SHIM_PORT"];
  delete env["UDP_SHIM_RECVERR"];
  const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
    execFile(process.execPath, ["--import", "tsx", CHILD, ...options, scenario, ...args], { env, timeout: 20_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`child "${scenario}" failed (a hang ends in SIGTERM): ${error.message}\n${stderr}`)) : resolve({ stdout, stderr }),
    ),
  );
  const outcome = JSON.parse(stdout.trim().split("\n").pop() ?? "") as Outcome;
  return { outcome, trace: shimTrace(stderr) };
}

const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);
/** A trace line for calls the shim refused while holding the socket (any batch size, any repeat count). */
const HELD = /^vlen=\d+ eagain -> EAGAIN( x\d+)?$/;

describe("native UDP engine: sendmmsg refused or cut short (LD_PRELOAD shim)", { skip: loadNativeUdp() ? false : "native UDP addon not built" }, () => {
  for (const kind of ["eagain", "enobufs"] as const) {
    test(`${kind.toUpperCase()} three times: the batch is retried whole when writable, once; the socket sends and echoes after`, async (t) => {
      const shim = await eagainShim(t);
      if (shim === undefined) return;
      const { outcome, trace } = await run(shim, "refused", kind);
      assert.deepEqual(outcome.received, [...range(0, 50), ...range(ECHO_BASE, 3)]);
      assert.deepEqual(outcome.damaged, []);
      assert.deepEqual(outcome.stats, { received: 3, sent: 53, sendErrors: 0 });
      const refused = kind === "eagain" ? "EAGAIN" : "ENOBUFS";
      assert.deepEqual(trace.slice(0, 3), [`vlen=40 ${kind} -> ${refused} x3`, "vlen=40 pass -> 40", "vlen=10 pass -> 10"]);
      assert.ok(trace.length > 3, "the echoes went through sendmmsg too");
      for (const line of trace.slice(3)) assert.match(line, /^vlen=[123] pass -> [123]( x\d+)?$/);
    });
  }

  test("a batch taken in part between refusals: each retry starts at the first unsent datagram", async (t) => {
    const shim = await eagainShim(t);
    if (shim === undefined) return;
    const { outcome, trace } = await run(shim, "partial");
    assert.deepEqual(outcome.received, range(0, 40));
    assert.deepEqual(outcome.stats, { received: 0, sent: 40, sendErrors: 0 });
    assert.deepEqual(trace, [
      "vlen=40 partial:2 -> 2",
      "vlen=38 eagain -> EAGAIN x2",
      "vlen=38 partial:1 -> 1",
      "vlen=37 enobufs -> ENOBUFS",
      "vlen=37 partial:5 -> 5",
      "vlen=32 pass -> 32",
    ]);
  });

  test("held across ticks, echoes queued from receive batches meanwhile: all leave in order on release, then the writable poll stops", async (t) => {
    const shim = await eagainShim(t);
    if (shim === undefined) return;
    const { outcome, trace } = await run(shim, "held");
    assert.equal(outcome.extra["whileHeld"], 0);
    assert.deepEqual(outcome.received, [...range(0, 20), ...range(ECHO_BASE, 3)]);
    assert.deepEqual(outcome.stats, { received: 3, sent: 23, sendErrors: 0 });
    assert.equal(trace.at(-1), "vlen=23 pass -> 23", "one call sends the whole queue, and none follows");
    for (const line of trace.slice(0, -1)) assert.match(line, HELD);
    assert.ok(outcome.extra["idleCpuMs"]! < 30, `idle after draining: ${outcome.extra["idleCpuMs"]} ms CPU in 100 ms`);
  });

  test(`held with 200 sends: the ring keeps ${SEND_SLOTS}, the other 72 are dropped and counted, no crash`, async (t) => {
    const shim = await eagainShim(t);
    if (shim === undefined) return;
    const { outcome, trace } = await run(shim, "ring-overflow");
    assert.equal(outcome.extra["whileHeld"], 0);
    assert.deepEqual(outcome.received, range(0, SEND_SLOTS));
    assert.deepEqual(outcome.stats, { received: 0, sent: 200, sendErrors: 200 - SEND_SLOTS });
    assert.equal(trace.length, 2);
    const asked = Number(/^vlen=128 eagain -> EAGAIN x(\d+)$/.exec(trace[0]!)?.[1]);
    assert.ok(asked >= 200 - SEND_SLOTS, `each overflowing send asked the kernel first (${trace[0]})`);
    assert.equal(trace[1], "vlen=128 pass -> 128");
  });

  test("60 KiB datagrams held in the 512 KiB send arena: queued ones wrap to its start, none is overwritten, the one that fits nowhere is counted", async (t) => {
    const shim = await eagainShim(t);
    if (shim === undefined) return;
    const { outcome, trace } = await run(shim, "arena-wrap");
    assert.equal(outcome.extra["beforeWrap"], 4);
    assert.deepEqual(outcome.received, range(0, 12));
    assert.deepEqual(outcome.damaged, []);
    assert.deepEqual(outcome.stats, { received: 0, sent: 13, sendErrors: 1 });
    assert.equal(trace[0], "vlen=8 partial:4 -> 4");
    assert.equal(trace.at(-1), "vlen=8 pass -> 8");
    for (const line of trace.slice(1, -1)) assert.match(line, HELD);
  });

  test("an empty datagram queued while held takes no room from the ones after it", async (t) => {
    const shim = await eagainShim(t);
    if (shim === undefined) return;
    const { outcome, trace } = await run(shim, "empty");
    assert.deepEqual(outcome.received, [-1, 0, 1, 2]);
    assert.deepEqual(outcome.damaged, []);
    assert.deepEqual(outcome.stats, { received: 0, sent: 4, sendErrors: 0 });
    assert.equal(trace.at(-1), "vlen=4 pass -> 4");
  });

  test("close() while held gives up after CLOSE_DRAIN_MS: the queue is dropped and counted, nothing leaves after, the process ends", async (t) => {
    const shim = await eagainShim(t);
    if (shim === undefined) return;
    const { outcome, trace } = await run(shim, "close-held");
    const closeMs = outcome.extra["closeMs"]!;
    assert.ok(closeMs >= CLOSE_DRAIN_MS - 10 && closeMs < CLOSE_DRAIN_MS + 1000, `close() took ${closeMs} ms`);
    assert.deepEqual(outcome.received, []);
    assert.deepEqual(outcome.stats, { received: 0, sent: 10, sendErrors: 10 });
    assert.ok(trace.length > 0);
    for (const line of trace) assert.match(line, /^vlen=10 eagain -> EAGAIN( x\d+)?$/, "no call after close, though the shim then let calls pass");
  });

  for (const { name, bind, peer, recverr } of [
    { name: "IPv4", bind: "127.0.0.1", peer: "127.0.0.1", recverr: "IPv4" },
    { name: "IPv6", bind: "::1", peer: "::1", recverr: "IPv6" },
    { name: "dual-stack socket, IPv4 peer", bind: "::", peer: "127.0.0.1", recverr: "IPv6" },
  ] as const) {
    test(`${name}: after POLLERR (an ICMP port unreachable, IP_RECVERR on) the socket still receives and sends, and does not spin`, async (t) => {
      const shim = await eagainShim(t);
      if (shim === undefined) return;
      const { outcome, trace } = await runWith(shim, ["--bind", bind, "--peer", peer], "pollerr");
      // Echoes of what the receiver sent after the error (the socket kept receiving), then the endpoint's own sends.
      assert.deepEqual(outcome.received, [...range(ECHO_BASE, 5), ...range(0, 3)]);
      assert.deepEqual(outcome.damaged, []);
      assert.deepEqual(outcome.stats, { received: 5, sent: 1 + 5 + 3, sendErrors: 0 });
      assert.ok(outcome.extra["idleCpuMs"]! < 30, `idle after the error: ${outcome.extra["idleCpuMs"]} ms CPU in 100 ms`);
      // The send to the closed port drew the error and the poll reported it once: cleared, it is
      // not reported again (left in the error queue, it would be at every turn of the loop).
      assert.deepEqual(trace.slice(0, 3), [`recverr on (${recverr})`, "vlen=1 pass -> 1", "EPOLLERR"]);
      for (const line of trace.slice(3)) assert.match(line, /^vlen=\d+ pass -> \d+( x\d+)?$/);
    });
  }
});
