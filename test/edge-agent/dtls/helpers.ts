/**
 * Shared helpers for the DTLS tests: vector loading, a tapping endpoint that captures traffic,
 * and a FakeClock pump that lets promise callbacks run between timer steps.
 */
import { readFileSync } from "node:fs";
import type { DatagramEndpoint, DatagramHandler, PeerAddress } from "../../../edge-agent/src/transport/types.js";
import type { FakeClock } from "../../../edge-agent/src/util/clock.js";

export function loadVector<T>(relative: string): T {
  return JSON.parse(readFileSync(new URL(`../../vectors/${relative}`, import.meta.url), "utf8")) as T;
}

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, "hex"));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Wraps an endpoint and records every datagram it sends and receives. */
export class TapEndpoint implements DatagramEndpoint {
  readonly sent: { to: PeerAddress; data: Uint8Array }[] = [];
  readonly received: { from: PeerAddress; data: Uint8Array }[] = [];
  onDatagram: DatagramHandler = () => {};
  /** Outgoing datagrams for which this returns false are recorded but not sent (a targeted loss). */
  filter: (data: Uint8Array) => boolean = () => true;

  constructor(readonly inner: DatagramEndpoint) {
    inner.onDatagram = (data, from, id) => {
      this.received.push({ from, data: Uint8Array.from(data) });
      this.onDatagram(data, from, id);
    };
  }

  get scheme() {
    return this.inner.scheme;
  }

  get local() {
    return this.inner.local;
  }

  send(peer: PeerAddress, data: Uint8Array): void {
    this.sent.push({ to: peer, data: Uint8Array.from(data) });
    if (this.filter(data)) this.inner.send(peer, data);
  }

  maxMessageSize(peer: PeerAddress): number {
    return this.inner.maxMessageSize(peer);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Advances fake time in steps, letting promise continuations run in between. */
export async function pump(clock: FakeClock, ms: number, step = 10): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    await new Promise<void>((r) => setImmediate(r));
  }
}

/** Pumps until `done()` or `limitMs` of fake time. Returns the fake time spent. */
export async function pumpUntil(clock: FakeClock, done: () => boolean, limitMs = 120_000, step = 10): Promise<number> {
  const start = clock.now();
  while (!done() && clock.now() - start < limitMs) {
    clock.advance(step);
    await new Promise<void>((r) => setImmediate(r));
  }
  return clock.now() - start;
}

// ---- in-memory fixtures -------------------------------------------------------------------

import { DtlsClient, DtlsServer, pskTable, type DtlsClientOptions, type DtlsServerOptions } from "../../../edge-agent/src/dtls/index.js";
import { MemoryNetwork, type LinkConditions } from "../../../edge-agent/src/transport/memory.js";
import { FakeClock as Clock } from "../../../edge-agent/src/util/clock.js";
import { ByteWriter } from "../../../edge-agent/src/dtls/codec/bytes.js";
import { encodeClientHello, type ClientHello } from "../../../edge-agent/src/dtls/handshake/messages/client-hello.js";

export const KEY_A = utf8("secret-key-of-device-a");
export const KEY_B = utf8("secret-key-of-device-b");

export interface Fixture {
  clock: Clock;
  net: MemoryNetwork;
  serverTap: TapEndpoint;
  server: DtlsServer;
}

/** A server on 127.0.0.1:5684 of a fresh MemoryNetwork, PSK table {dev-a: KEY_A, dev-b: KEY_B}, hint "CoAP". */
export function fixture(options: { server?: DtlsServerOptions; link?: LinkConditions; seed?: number } = {}): Fixture {
  const clock = new Clock();
  const net = new MemoryNetwork(clock, options.link ?? {}, options.seed ?? 1);
  const serverTap = new TapEndpoint(net.endpoint(5684));
  const server = new DtlsServer(serverTap, {
    clock,
    psk: pskTable([
      { identity: "dev-a", key: KEY_A },
      { identity: "dev-b", key: KEY_B },
    ], { hint: "CoAP" }),
    ...options.server,
  });
  return { clock, net, serverTap, server };
}

export interface Connected {
  client?: DtlsClient;
  error?: unknown;
}

/** Starts a client handshake; the returned object fills in when it settles. */
export function startClient(f: Fixture, options: DtlsClientOptions, lower: DatagramEndpoint = f.net.endpoint()): Connected {
  const out: Connected = {};
  DtlsClient.connect(lower, f.server.local, { clock: f.clock, ...options }).then(
    (c) => void (out.client = c),
    (e: unknown) => void (out.error = e),
  );
  return out;
}

/** Connects a client and pumps fake time until it settles. */
export async function connect(f: Fixture, options: DtlsClientOptions, lower: DatagramEndpoint = f.net.endpoint()): Promise<Connected> {
  const c = startClient(f, options, lower);
  await pumpUntil(f.clock, () => c.client !== undefined || c.error !== undefined, 600_000, 20);
  return c;
}

/** A ClientHello record (epoch 0, one unfragmented message), for hand-driven server tests. */
export function clientHelloRecord(hello: Partial<ClientHello> & { random: Uint8Array }, recordSeq = 0, messageSeq = 0): Uint8Array {
  const body = encodeClientHello({
    version: 0xfefd,
    sessionId: new Uint8Array(0),
    cookie: new Uint8Array(0),
    cipherSuites: [0xc0a8],
    compressionMethods: Uint8Array.of(0),
    extensions: [],
    ...hello,
  });
  const w = new ByteWriter();
  w.u8(22).u16(0xfeff).u16(0).u48(recordSeq).u16(12 + body.length);
  w.u8(1).u24(body.length).u16(messageSeq).u24(0).u24(body.length).bytes(body);
  return Uint8Array.from(w.finish());
}
