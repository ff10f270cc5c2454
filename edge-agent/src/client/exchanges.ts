/**
 * The client's token layer (RFC 7252 §5.3, after aiocoap's tokenmanager): one Exchange per
 * request MESSAGE, keyed by (peer, token), completed by a piggybacked response in the ACK of
 * its CON, or by a separate CON/NON response carrying the token (which also implies the ACK,
 * so retransmission stops). One object is the ResponseSink and TransmissionOwner of every
 * layer the client uses; deadlines share one TimerQueue.
 */
import { MessageType, type CoapMessage } from "@coaps-edge/shared";
import type { PeerAddress, PeerIdentity } from "../transport/types.js";
import type { Clock } from "../util/clock.js";
import type { MessageLayer, ResponseSink, Transmission, TransmissionOwner } from "../coap/message-layer.js";
import { TimerQueue, type TimerEntry } from "../coap/timer-queue.js";
import { bytesEqual, tokenKey } from "../coap/tokens.js";
import { CoapClientError, CoapTimeoutError } from "./errors.js";

/** A response message and who sent it. */
export interface ReceivedResponse {
  readonly message: CoapMessage;
  readonly peer: PeerAddress;
  readonly identity: PeerIdentity;
}

class Exchange implements TimerEntry {
  timerDue = 0;
  timerIndex = -1;
  tx: Transmission<Exchange> | undefined;
  settled = false;
  /** An empty ACK came: the response will be separate (§5.2.2). */
  acked = false;

  constructor(
    readonly key: string,
    readonly layer: MessageLayer,
    readonly peer: PeerAddress,
    readonly token: Uint8Array,
    readonly resolve: (r: ReceivedResponse) => void,
    readonly reject: (e: Error) => void,
  ) {}
}

/** Takes the responses that carry a token after its request's exchange ended (Observe notifications). */
export interface TokenListener {
  /** A CON/NON response with the token; the layer ACKs a CON. */
  onNotification(r: ReceivedResponse): void;
  /** The client or the layer closed. */
  onClosed(): void;
}

export interface ExchangeStats {
  /** Piggybacked responses whose token did not match the request (ignored). */
  tokenMismatches: number;
  /** Empty ACKs: the server announced a separate response. */
  separateResponses: number;
}

export class Exchanges implements ResponseSink, TransmissionOwner<Exchange> {
  readonly stats: ExchangeStats = { tokenMismatches: 0, separateResponses: 0 };
  readonly #open = new Map<string, Exchange>();
  readonly #listeners = new Map<string, { readonly layer: MessageLayer; readonly listener: TokenListener }>();
  readonly #timers: TimerQueue<Exchange>;

  constructor(clock: Clock) {
    this.#timers = new TimerQueue(clock, (ex) => this.#expire(ex));
  }

  /** Requests waiting for a response. */
  get size(): number {
    return this.#open.size;
  }

  /**
   * Sends one request message (`type` CON or NON; message ID assigned by the layer) and
   * resolves with its response, or rejects with CoapClientError ("timeout" at `deadline`,
   * "reset", "closed"). The token must not be in use towards `peer`. A non-zero
   * `message.messageId` is sent as given (see MessageLayer.sendConfirmable).
   */
  send(
    layer: MessageLayer,
    peer: PeerAddress,
    message: Omit<CoapMessage, "messageId"> & { readonly messageId?: number },
    deadline: number,
  ): Promise<ReceivedResponse> {
    return new Promise<ReceivedResponse>((resolve, reject) => {
      const key = tokenKey(peer, message.token);
      if (this.#open.has(key)) {
        reject(new CoapClientError("bad-request", "token already in use for this peer"));
        return;
      }
      const ex = new Exchange(key, layer, peer, message.token, resolve, reject);
      this.#open.set(key, ex);
      this.#timers.schedule(ex, deadline);
      try {
        if (message.type === MessageType.CON) ex.tx = layer.sendConfirmable(peer, message, this, ex);
        else layer.sendNonConfirmable(peer, message);
      } catch (e) {
        // The encoder refused the message (an option number or value out of range).
        this.#settle(ex);
        reject(new CoapClientError("bad-request", `cannot encode the request: ${(e as Error).message}`));
      }
    });
  }

  /**
   * Keeps (peer, token) matched after its request is answered: further responses with the
   * token go to `listener` (RFC 7641 §3.2 notifications) instead of being rejected with RST.
   */
  listen(layer: MessageLayer, peer: PeerAddress, token: Uint8Array, listener: TokenListener): void {
    this.#listeners.set(tokenKey(peer, token), { layer, listener });
  }

  /** Stops matching (peer, token): later responses with it are unmatched (a CON one gets RST, §3.6). */
  unlisten(peer: PeerAddress, token: Uint8Array): void {
    this.#listeners.delete(tokenKey(peer, token));
  }

  /** Rejects every open exchange of `layer` (or all) with "closed". */
  abortAll(layer?: MessageLayer): void {
    for (const [key, l] of [...this.#listeners]) {
      if (layer && l.layer !== layer) continue;
      this.#listeners.delete(key);
      l.listener.onClosed();
    }
    for (const ex of [...this.#open.values()]) {
      if (layer && ex.layer !== layer) continue;
      if (ex.tx) ex.layer.cancel(ex.tx);
      this.#settle(ex);
      ex.reject(new CoapClientError("closed", "client closed"));
    }
  }

  // ResponseSink: a separate (CON/NON) response.
  onResponse(message: CoapMessage, peer: PeerAddress, identity: PeerIdentity): boolean {
    const key = tokenKey(peer, message.token);
    const ex = this.#open.get(key);
    if (!ex) {
      const l = this.#listeners.get(key);
      if (!l) return false;
      l.listener.onNotification({ message, peer, identity });
      return true;
    }
    // §5.2.2: a response to a CON whose ACK got lost also ends the CON's retransmission.
    if (ex.tx) ex.layer.cancel(ex.tx);
    this.#settle(ex);
    ex.resolve({ message, peer, identity });
    return true;
  }

  // TransmissionOwner
  onAcknowledged(tx: Transmission<Exchange>, ack: CoapMessage, identity: PeerIdentity): void {
    const ex = tx.context;
    if (ex.settled) return;
    if (ack.code === 0) {
      ex.acked = true;
      this.stats.separateResponses++;
      return; // keep waiting until the deadline for the separate response
    }
    if (!bytesEqual(ack.token, ex.token)) {
      this.stats.tokenMismatches++; // acknowledges our CON, but answers something else (§5.3.2)
      return;
    }
    this.#settle(ex);
    ex.resolve({ message: ack, peer: ex.peer, identity });
  }

  onReset(tx: Transmission<Exchange>): void {
    const ex = tx.context;
    if (ex.settled) return;
    this.#settle(ex);
    ex.reject(new CoapClientError("reset", "the server rejected the request with RST"));
  }

  onTimeout(tx: Transmission<Exchange>): void {
    const ex = tx.context;
    if (ex.settled) return;
    this.#settle(ex);
    ex.reject(new CoapTimeoutError(`no ACK after ${tx.retransmissions} retransmissions`));
  }

  onAborted(tx: Transmission<Exchange>): void {
    const ex = tx.context;
    if (ex.settled) return;
    this.#settle(ex);
    ex.reject(new CoapClientError("closed", "message layer closed"));
  }

  #expire(ex: Exchange): void {
    if (ex.settled) return;
    if (ex.tx) ex.layer.cancel(ex.tx);
    this.#settle(ex);
    ex.reject(new CoapTimeoutError(ex.acked ? "no separate response before the deadline" : "no response before the deadline"));
  }

  #settle(ex: Exchange): void {
    ex.settled = true;
    this.#open.delete(ex.key);
    this.#timers.remove(ex);
  }
}
