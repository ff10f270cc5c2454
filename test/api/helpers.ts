/**
 * Helpers for the API parity tests: CoapSecure agents on loopback (real UDP, random ports),
 * promise wrappers around the callback-style OpenThread calls, and a connect-event recorder.
 */
import type { CoapMessage } from "@coaps-edge/shared";
import {
  CoapSecure,
  type CoapSecureConnectEvent,
  type CoapSecureOptions,
  type CoapSecureRequestMessage,
  type CoapSecureSendOptions,
  type CoapSecureSessionEvent,
  type MessageInfo,
  type OtErrorName,
} from "../../edge-agent/src/api/index.js";

export const PSK = "secret-psk-0123";
export const IDENTITY = "device-1";

/** Fast timers for tests: short guard time, short CoAP and DTLS timeouts. */
export const FAST: CoapSecureOptions = {
  address: "127.0.0.1",
  guardTimeMs: 50,
  transmission: { ackTimeoutMs: 200, maxRetransmit: 2 },
  dtls: { handshakeTimeoutMs: 3000, retransmit: { initialMs: 200 } },
};

/** A started CoapSecure with the test PSK; stop it in `after`. */
export async function startAgent(options: CoapSecureOptions = {}, psk = true): Promise<CoapSecure> {
  const agent = new CoapSecure({ ...FAST, ...options });
  if (psk) agent.setPsk(PSK, IDENTITY);
  await agent.start(0);
  return agent;
}

export interface RecordedEvent {
  readonly event: CoapSecureConnectEvent;
  readonly session: CoapSecureSessionEvent;
}

/** Records connect events; `next(filter)` resolves with the next (or an already recorded, unconsumed) matching one. */
export class EventLog {
  readonly events: RecordedEvent[] = [];
  #consumed = 0;
  #waiters: Array<{ match: (e: RecordedEvent) => boolean; resolve: (e: RecordedEvent) => void }> = [];

  readonly handler = (event: CoapSecureConnectEvent, session: CoapSecureSessionEvent): void => {
    const e = { event, session };
    this.events.push(e);
    const w = this.#waiters.find((x) => x.match(e));
    if (w) {
      this.#waiters.splice(this.#waiters.indexOf(w), 1);
      this.#consumed = this.events.length;
      w.resolve(e);
    }
  };

  next(match: (e: RecordedEvent) => boolean = () => true, timeoutMs = 5000): Promise<RecordedEvent> {
    const pending = this.events.slice(this.#consumed).find(match);
    if (pending) {
      this.#consumed = this.events.indexOf(pending) + 1;
      return Promise.resolve(pending);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching connect event within ${timeoutMs} ms; got ${this.events.map((e) => e.event).join(",")}`)), timeoutMs);
      this.#waiters.push({ match, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }

  names(): CoapSecureConnectEvent[] {
    return this.events.map((e) => e.event);
  }
}

/** connect() to an agent (or a port on 127.0.0.1) and wait for the first client-role event. */
export async function connectTo(client: CoapSecure, server: CoapSecure | number, log = new EventLog()): Promise<RecordedEvent> {
  const port = typeof server === "number" ? server : server.local?.port;
  if (port === undefined) throw new Error("server not started");
  client.connect({ address: "127.0.0.1", port }, log.handler);
  return log.next((e) => e.session.role === "client");
}

export interface RequestOutcome {
  readonly response: CoapMessage | undefined;
  readonly info: MessageInfo | undefined;
  readonly result: OtErrorName;
  readonly messageId: number;
  /** How many times the handler ran (must be 1). */
  readonly calls: () => number;
}

/** sendRequest as a promise of its (single) handler call. */
export function request(agent: CoapSecure, message: CoapSecureRequestMessage, options?: CoapSecureSendOptions): Promise<RequestOutcome> {
  return new Promise((resolve) => {
    let calls = 0;
    let messageId = -1;
    messageId = agent.sendRequest(
      message,
      (response, info, result) => {
        calls++;
        if (calls === 1) queueMicrotask(() => resolve({ response, info, result, messageId, calls: () => calls }));
      },
      options,
    );
  });
}

export const text = (b: Uint8Array | undefined): string => (b ? Buffer.from(b).toString("utf8") : "");

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
