/**
 * Live-server fuzz (issue 8): a running `coaps-edge agent` (DTLS-PSK over real UDP) gets mutated
 * records of a real handshake — recorded from our DtlsClient through a recording endpoint — from
 * many source ports, and mutated records of an established session injected on that session's
 * own 5-tuple (so they reach its record layer: replay window, AEAD, epochs). Throughout, a
 * well-behaved PSK peer keeps asking GET /hello and must keep being answered; afterwards the agent
 * is still running, a fresh handshake succeeds, and the fuzzed session itself still works
 * (forged records are dropped, never fatal: RFC 6347 §4.1.2.7).
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { after, before, describe, it } from "node:test";
import { setImmediate as yieldLoop } from "node:timers/promises";
import fc from "fast-check";
import { Code, decodeMessage, encodeMessage, Method, MessageType, OptionNumber } from "@coaps-edge/shared";
import { DtlsClient } from "../../edge-agent/src/dtls/client.js";
import { UdpEndpoint } from "../../edge-agent/src/transport/udp.js";
import type { DatagramEndpoint, DatagramHandler, PeerAddress } from "../../edge-agent/src/transport/types.js";
import { waitForUdp } from "../helpers/libcoap.js";
import { DTLS_PSK, startAgent, type RunningAgent } from "../e2e/agent-cases.js";
import { mutated } from "./harness.js";

const SEED = Number(process.env.FUZZ_SEED ?? 0x11fe);
const DATAGRAMS = Number(process.env.FUZZ_LIVE_DATAGRAMS ?? 6000);
const PSK = { identity: "demo", key: new TextEncoder().encode("demo-secret-psk") };

/** A plain UDP endpoint that keeps a copy of every datagram sent through it. */
class RecordingEndpoint implements DatagramEndpoint {
  readonly scheme = "coap" as const;
  readonly sent: Uint8Array[] = [];
  onDatagram: DatagramHandler = () => {};
  recording = true;

  constructor(readonly inner: UdpEndpoint) {
    inner.onDatagram = (d, p, i) => this.onDatagram(d, p, i);
  }
  get local(): PeerAddress {
    return this.inner.local;
  }
  send(peer: PeerAddress, data: Uint8Array): void {
    if (this.recording) this.sent.push(Uint8Array.from(data));
    this.inner.send(peer, data);
  }
  maxMessageSize(): number {
    return this.inner.maxMessageSize();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

async function connect(server: PeerAddress): Promise<{ client: DtlsClient; lower: RecordingEndpoint }> {
  const lower = new RecordingEndpoint(await UdpEndpoint.bind({ address: "127.0.0.1", port: 0 }));
  const client = await DtlsClient.connect(lower, server, { psk: PSK, handshakeTimeoutMs: 10_000, retransmit: { initialMs: 200 } });
  client.onClose = (reason, error) => {
    closedSessions.push(`${lower.local.port}: ${reason}${error ? ` (${error.code}: ${error.message})` : ""}`);
  };
  return { client, lower };
}

/** Sessions of ours that ended, and why (a failure message shows them). */
const closedSessions: string[] = [];

let mid = 1;
/**
 * GET /hello over `client` as a CoAP device does it: CON, retransmitted (same message ID) every
 * second until answered (RFC 7252 §4.2; a flood may overflow the agent's socket buffer, which
 * drops datagrams as a lossy link would). Resolves with the response code, rejects after `ms`.
 */
function hello(client: DtlsClient, ms = 4500): Promise<number> {
  const token = Uint8Array.of(0xee, mid & 0xff, mid >> 8);
  const messageId = mid++ & 0xffff;
  const request = encodeMessage({ type: MessageType.CON, code: Method.GET, messageId, token, options: [{ number: OptionNumber.UriPath, value: new TextEncoder().encode("hello") }], payload: new Uint8Array(0) });
  return new Promise<number>((resolve, reject) => {
    const resend = setInterval(() => {
      retransmissions++;
      client.send(client.server, request);
    }, 1000);
    const timer = setTimeout(() => {
      clearInterval(resend);
      reject(new Error(`no answer to GET /hello within ${ms} ms`));
    }, ms);
    client.onDatagram = (d) => {
      try {
        const m = decodeMessage(d);
        if (m.type === MessageType.CON) client.send(client.server, encodeMessage({ type: MessageType.ACK, code: 0, messageId: m.messageId, token: new Uint8Array(0), options: [], payload: new Uint8Array(0) }));
        if (m.code !== 0 && Buffer.from(m.token).equals(token)) {
          clearInterval(resend);
          clearTimeout(timer);
          resolve(m.code);
        }
      } catch {
        // not for us
      }
    };
    client.send(client.server, request);
  });
}

/** Requests the good peer had to send again (datagrams lost in the flood). */
let retransmissions = 0;

describe("live-server fuzz: mutated handshake and session records against a running agent", () => {
  let agent: RunningAgent | undefined;
  let server: PeerAddress;
  const closers: (() => Promise<void>)[] = [];

  before(async () => {
    agent = await startAgent([], DTLS_PSK);
    server = { address: "127.0.0.1", port: Number(new URL(agent.base.replace("coaps:", "http:")).port), family: "IPv4" };
  });

  after(async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
    await agent?.process.stop();
  });

  it(`${DATAGRAMS} mutated datagrams (seed ${SEED}); a well-behaved PSK peer is served throughout`, { timeout: 60_000 }, async (t) => {
    // 1. Record a real handshake and a few requests of an established session.
    const victim = await connect(server);
    closers.push(() => victim.client.close(), () => victim.lower.close());
    for (let i = 0; i < 3; i++) assert.equal(await hello(victim.client), Code.Content);
    victim.lower.recording = false;
    const recorded = victim.lower.sent;
    const handshake = recorded.filter((d) => d[0] === 22 || d[0] === 20); // handshake / ChangeCipherSpec first records
    const session = recorded.filter((d) => d[0] === 23);
    assert.ok(handshake.length >= 2 && session.length >= 3, `recorded ${handshake.length} handshake and ${session.length} application datagrams`);

    // 2. The well-behaved peer.
    const good = await connect(server);
    closers.push(() => good.client.close(), () => good.lower.close());
    assert.equal(await hello(good.client), Code.Content);

    // 3. Attackers: 32 source ports for handshake records; the victim's own port for session ones.
    const attackers = await Promise.all(
      Array.from({ length: 32 }, async () => {
        const s = dgram.createSocket("udp4");
        s.on("error", () => {});
        await new Promise<void>((resolve) => s.bind(0, "127.0.0.1", resolve));
        closers.push(() => new Promise<void>((resolve) => s.close(() => resolve())));
        return s;
      }),
    );
    const inputs = fc.sample(
      fc.oneof(
        { weight: 4, arbitrary: fc.tuple(fc.constant("handshake" as const), fc.oneof(mutated(handshake, 64), fc.constantFrom(...handshake))) },
        { weight: 4, arbitrary: fc.tuple(fc.constant("session" as const), fc.oneof(mutated([...session, ...handshake], 64), fc.constantFrom(...session))) },
        { weight: 1, arbitrary: fc.tuple(fc.constantFrom("handshake" as const, "session" as const), fc.uint8Array({ maxLength: 200 })) },
      ),
      { seed: SEED, numRuns: DATAGRAMS },
    );

    let served = 0;
    const started = Date.now();
    for (let i = 0; i < inputs.length; i++) {
      const [kind, bytes] = inputs[i]!;
      if (kind === "handshake") attackers[i % attackers.length]!.send(bytes, server.port, server.address);
      else victim.lower.inner.send(server, bytes);
      if (i % 50 === 49) await yieldLoop();
      if (i % 500 === 499) {
        const code = await hello(good.client).catch(async (e: Error) => {
          const exit = agent!.process.child.exitCode;
          // Is the agent's event loop alive at all? A plain CoAP ping on coap:// (port - 1).
          const alive = await waitForUdp(server.port - 1, "127.0.0.1", 2000).then(() => "answers plain CoAP ping", () => "does NOT answer a plain CoAP ping (event loop stuck?)");
          e.message += `; agent ${alive}; our closed sessions: ${closedSessions.join(", ") || "none"}`;
          throw new Error(`good peer not served after ${i + 1} datagrams (${e.message}); agent exit ${exit}; agent stderr: ${agent!.process.stderr().slice(-1500)}`);
        });
        assert.equal(code, Code.Content);
        served++;
      }
    }
    t.diagnostic(`${inputs.length} datagrams in ${Date.now() - started} ms; good peer answered ${served} times during the run (${retransmissions} retransmissions)`);

    // 4. Afterwards: still running, the good peer and the fuzzed session are served, a new handshake works.
    assert.equal(agent!.process.child.exitCode, null, "agent exited");
    assert.equal(await hello(good.client), Code.Content);
    assert.equal(await hello(victim.client), Code.Content, "the fuzzed session was torn down by forged records");
    const fresh = await connect(server);
    closers.push(() => fresh.client.close(), () => fresh.lower.close());
    assert.equal(await hello(fresh.client), Code.Content);
  });
});
