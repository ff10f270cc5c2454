/**
 * Test kit for the CoAP layers: a FakeClock + MemoryNetwork pair, a raw peer that sends
 * hand-made messages and records what comes back (decoded), and message builders.
 */
import {
  MessageType,
  decodeMessage,
  encodeMessage,
  uriPathOptions,
  type CoapMessage,
  type CoapOption,
} from "@coaps-edge/shared";
import { CoapServer, type CoapServerOptions } from "../../edge-agent/src/server/index.js";
import { MemoryNetwork, type LinkConditions, type MemoryEndpoint } from "../../edge-agent/src/transport/memory.js";
import type { PeerAddress } from "../../edge-agent/src/transport/types.js";
import { FakeClock } from "../../edge-agent/src/util/clock.js";

export function fakeNet(conditions: LinkConditions = {}, seed = 1): { clock: FakeClock; net: MemoryNetwork } {
  const clock = new FakeClock(1_000_000);
  return { clock, net: new MemoryNetwork(clock, conditions, seed) };
}

/** A deterministic [0, 1) source (the middle of the jitter range unless told otherwise). */
export const fixedRandom = (v = 0.5) => (): number => v;

/** Lets promise callbacks (async handlers, client continuations) run. */
export async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

export class RawPeer {
  readonly received: { message: CoapMessage | undefined; bytes: Uint8Array; at: number }[] = [];
  readonly ep: MemoryEndpoint;

  constructor(
    net: MemoryNetwork,
    private readonly clock: FakeClock,
    port?: number,
  ) {
    this.ep = net.endpoint(port);
    this.ep.onDatagram = (data) => {
      let message: CoapMessage | undefined;
      try {
        message = decodeMessage(data);
      } catch {
        message = undefined;
      }
      this.received.push({ message, bytes: Uint8Array.from(data), at: clock.now() });
    };
  }

  get address(): PeerAddress {
    return this.ep.local;
  }

  send(to: PeerAddress, m: CoapMessage | Uint8Array): void {
    this.ep.send(to, m instanceof Uint8Array ? m : encodeMessage(m));
  }

  /** Decoded messages received so far. */
  messages(): CoapMessage[] {
    return this.received.map((r) => r.message).filter((m): m is CoapMessage => m !== undefined);
  }

  clear(): void {
    this.received.length = 0;
  }
}

let nextMid = 0x1000;

/** A request message (default: CON GET /hello, token 0xA1 0xB2, fresh message ID). */
export function request(overrides: Partial<CoapMessage> & { path?: string; extra?: CoapOption[] } = {}): CoapMessage {
  const { path, extra, ...rest } = overrides;
  return {
    type: MessageType.CON,
    code: 1,
    messageId: nextMid++ & 0xffff,
    token: Uint8Array.of(0xa1, 0xb2),
    options: [...uriPathOptions(path ?? "/hello"), ...(extra ?? [])],
    payload: new Uint8Array(0),
    ...rest,
  };
}

export const text = (b: Uint8Array): string => new TextDecoder().decode(b);
export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A CoapServer attached to port 5683 of a fresh memory network, and a raw peer to talk to it. */
export function serverRig(options: CoapServerOptions = {}, conditions: LinkConditions = {}) {
  const { clock, net } = fakeNet(conditions);
  const server = new CoapServer({ clock, random: fixedRandom(), ...options });
  const ep = net.endpoint(5683);
  server.attach(ep);
  return { clock, net, server, ep, peer: new RawPeer(net, clock) };
}
