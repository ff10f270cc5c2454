/**
 * Observe, client role (RFC 7641): one registration (GET with Observe=0, §3.1), then every
 * notification with its token handed to the caller until cancel() or the server ends it.
 *
 *   - freshness (§3.4): a notification is newer than the last one taken when its 24-bit
 *     sequence is ahead in serial-number arithmetic (V1 < V2 and V2 − V1 < 2^23, or V1 > V2 and
 *     V1 − V2 > 2^23), or when it arrives more than 128 s after it; older ones are dropped;
 *   - CON notifications are acknowledged by the message layer (the token is matched); a CON
 *     notification nobody listens for gets RST (§3.6: the reactive way to deregister);
 *   - a notification with Block2 M=1 is completed with GETs without Observe (RFC 7959 §2.6,
 *     RFC 7641 §4.3) before it is handed over, so the caller sees whole bodies;
 *   - a response without Observe or with a 4.xx/5.xx code ends the observation (§3.2);
 *   - cancel() deregisters proactively: GET with Observe=1 and the same token (§3.6).
 */
import {
  MessageType,
  OBSERVE_DEREGISTER,
  OBSERVE_REGISTER,
  OptionNumber,
  getBlock,
  getUintOption,
  isFresher,
  isSuccessCode,
  uintOption,
  type CoapOption,
} from "@coaps-edge/shared";
import type { MessageLayer } from "../coap/message-layer.js";
import type { PeerAddress } from "../transport/types.js";
import type { Clock } from "../util/clock.js";
import { download, type TransferPlan } from "./blockwise-transfer.js";
import type { CoapClientResponse } from "./client.js";
import { CoapClientError } from "./errors.js";
import type { Exchanges, ReceivedResponse } from "./exchanges.js";
import { transferResponse } from "./request-parts.js";


/** The §3.4 ordering rule, from @coaps-edge/shared (with the server's §4.4 sequence numbers); part of the client's API. */
export { isFresher, OBSERVE_FRESHNESS_MS } from "@coaps-edge/shared";

/** A response of an observation: the registration response first, then each notification. */
export interface CoapNotification extends CoapClientResponse {
  /** The Observe sequence number; undefined on a response that ends the observation. */
  readonly observe: number | undefined;
}

/** Why an observation ended. */
export type ObservationEnd =
  /** cancel() deregistered it. */
  | "cancelled"
  /** The server answered the registration without Observe (not observable, or a cap). */
  | "not-registered"
  /** A 4.xx/5.xx or a response without Observe came (§3.2). */
  | "ended-by-server"
  /** The client, session or connection closed. */
  | "closed"
  /** Fetching the rest of a Block2 notification failed. */
  | "error";

export type NotificationHandler = (n: CoapNotification) => void;

/** What starting an observation needs from the client that owns the layer. */
export interface ObservationSetup {
  readonly exchanges: Exchanges;
  readonly layer: MessageLayer;
  readonly peer: PeerAddress;
  readonly clock: Clock;
  /** CON or NON registration. */
  readonly type: MessageType;
  readonly token: Uint8Array;
  /** Tokens for the Block2 follow-up requests. */
  readonly newToken: () => Uint8Array;
  /** Request options without Observe; method and payload in `plan`. */
  readonly plan: TransferPlan;
  /** Deadline (ms from now) for the registration, block follow-ups and the deregistration. */
  readonly timeoutMs: number;
}

export interface ObservationStats {
  notifications: number;
  /** Notifications dropped as older than the last one taken (§3.4). */
  reordered: number;
}

/** A running observation (returned once the registration response is in). */
export class Observation {
  readonly stats: ObservationStats = { notifications: 0, reordered: 0 };
  #last: { seq: number; at: number } | undefined;
  #ended: ObservationEnd | undefined;
  #resolveEnd!: (reason: ObservationEnd) => void;
  /** Resolves with the reason once the observation ended (cancel, server, close). */
  readonly ended: Promise<ObservationEnd>;

  /** @internal use CoapClient.observe / CoapSession.observe. */
  constructor(
    private readonly setup: ObservationSetup,
    private readonly onNotification: NotificationHandler,
  ) {
    this.ended = new Promise((resolve) => (this.#resolveEnd = resolve));
  }

  /** The token of the registration and its notifications. */
  get token(): Uint8Array {
    return this.setup.token;
  }

  /** True while notifications are expected. */
  get active(): boolean {
    return this.#ended === undefined;
  }

  /** @internal Sends the registration; resolves with its (whole) response, already handed to the handler. */
  async start(): Promise<CoapNotification> {
    const s = this.setup;
    s.exchanges.listen(s.layer, s.peer, s.token, {
      onNotification: (r) => this.#onNotification(r),
      onClosed: () => this.#end("closed"),
    });
    let first: ReceivedResponse;
    try {
      first = await this.#sendObserve(OBSERVE_REGISTER);
    } catch (e) {
      this.#end("error");
      throw e;
    }
    const seq = getUintOption(first.message, OptionNumber.Observe);
    const at = s.clock.now();
    let n: CoapNotification;
    try {
      n = await this.#whole(first, seq);
    } catch (e) {
      this.#end("error");
      throw e;
    }
    if (seq === undefined || !isSuccessCode(first.message.code)) this.#end(isSuccessCode(first.message.code) ? "not-registered" : "ended-by-server");
    else if (!this.#last || isFresher(this.#last.seq, this.#last.at, seq, at)) this.#last = { seq, at };
    this.stats.notifications++;
    this.onNotification(n);
    return n;
  }

  /**
   * Deregisters (§3.6: GET with Observe=1, same token) and stops delivery; resolves once the
   * server answered or the deadline passed. A no-op after the end.
   */
  async cancel(): Promise<void> {
    if (this.#ended !== undefined) return;
    this.#end("cancelled");
    try {
      await this.#sendObserve(OBSERVE_DEREGISTER);
    } catch {
      // The server is gone or did not answer: the entry ends on its side by RST or timeout (§4.5).
    }
  }

  /** The plan's request with Observe=`value` and this observation's token: 0 registers (§3.1), 1 deregisters (§3.6). */
  #sendObserve(value: typeof OBSERVE_REGISTER | typeof OBSERVE_DEREGISTER): Promise<ReceivedResponse> {
    const s = this.setup;
    const options = [...s.plan.options, uintOption(OptionNumber.Observe, value)];
    return s.exchanges.send(s.layer, s.peer, { type: s.type, code: s.plan.method, token: s.token, options, payload: s.plan.payload }, s.clock.now() + s.timeoutMs);
  }

  #onNotification(r: ReceivedResponse): void {
    if (this.#ended !== undefined) return;
    const seq = getUintOption(r.message, OptionNumber.Observe);
    const at = this.setup.clock.now();
    const final = seq === undefined || !isSuccessCode(r.message.code);
    if (!final) {
      if (this.#last && !isFresher(this.#last.seq, this.#last.at, seq, at)) {
        this.stats.reordered++;
        return;
      }
      this.#last = { seq, at };
    } else this.#end("ended-by-server");
    this.#whole(r, seq).then(
      (n) => {
        // A newer notification overtook this one while its blocks were fetched: drop it.
        if (!final && this.#last?.seq !== seq) return;
        if (!final && this.#ended !== undefined) return;
        this.stats.notifications++;
        this.onNotification(n);
      },
      () => this.#end("error"),
    );
  }

  /** The notification with its whole body (Block2 follow-ups without Observe). */
  async #whole(r: ReceivedResponse, seq: number | undefined): Promise<CoapNotification> {
    const s = this.setup;
    let more = false;
    try {
      more = getBlock(r.message, OptionNumber.Block2)?.more === true;
    } catch {
      more = false;
    }
    let messages = 0;
    const result = more
      ? await download(s.plan, r, (options: CoapOption[], payload: Uint8Array) => {
          messages++;
          return s.exchanges.send(s.layer, s.peer, { type: s.type, code: s.plan.method, token: s.newToken(), options, payload }, s.clock.now() + s.timeoutMs);
        })
      : { response: r, payload: r.message.payload, options: r.message.options };
    const res = transferResponse({ ...result, options: result.options.filter((o) => o.number !== OptionNumber.Block2), messages: messages + 1 });
    return { ...res, observe: seq };
  }

  #end(reason: ObservationEnd): void {
    if (this.#ended !== undefined) return;
    this.#ended = reason;
    this.setup.exchanges.unlisten(this.setup.peer, this.setup.token);
    this.#resolveEnd(reason);
  }
}

/** Starts an observation: resolves once the registration response is in (and handed to `onNotification`). */
export async function startObservation(setup: ObservationSetup, onNotification: NotificationHandler): Promise<Observation> {
  if (setup.plan.method !== 1 && setup.plan.method !== 5) throw new CoapClientError("bad-request", "only GET and FETCH can be observed (RFC 7641 §2, RFC 8132 §2.4)");
  const o = new Observation(setup, onNotification);
  await o.start();
  return o;
}
