/**
 * Observe, server role (RFC 7641): the list of observers of each observable resource and the
 * notifications sent to them. CoapServer calls in at three points — a GET with Observe on a
 * resource with `obs: true` (register/deregister, §4.1), the registration response (gets the
 * Observe option, or ends the registration if it is not 2.xx), and `notify(path)` (the
 * resource changed: libcoap's coap_resource_notify_observers, Californium's `changed()`).
 *
 * Per observer (keyed by message layer + peer + token, §3.1/§4.1 — a re-registration with the
 * same key replaces the entry):
 *   - every notification runs the resource's GET handler with the registration request and
 *     carries the observer's token and a 24-bit sequence number that increases (§4.4);
 *   - NON by default, CON every `conEvery`-th notification and at least every `conIntervalMs`
 *     (§4.5: "at least every 24 hours"); while a CON notification is in flight a newer state
 *     waits for its ACK and then goes out (§4.5.2: only the newest state matters);
 *   - RST in answer to a notification (CON or NON) and a CON notification that is never
 *     acknowledged remove the observer (§3.6, §4.5);
 *   - a 4.xx/5.xx notification is sent without Observe and ends the observation (§3.2, §4.2);
 *   - a large representation: the notification carries the first Block2 block, and the
 *     client fetches the rest with plain GETs served from the body cache (RFC 7959 §2.6,
 *     RFC 7641 §4.3);
 *   - observers belong to a session: when the DTLS session (or the TCP/TLS/WS connection) of
 *     the registration is gone or replaced, the observer is dropped.
 * Caps on observers per peer and in total refuse new registrations (the GET is answered
 * without Observe, which tells the client it is not on the list, §4.1).
 */
// Observe option values and sequence numbers (RFC 7641 §2, §4.4) are shared with the client's.
import {
  Code,
  MessageType,
  OBSERVE_DEREGISTER,
  OBSERVE_REGISTER,
  OptionNumber,
  isSuccessCode,
  nextObserveSequence,
  uintOption,
  utf8Encode,
  type CoapOption,
} from "@coaps-edge/shared";
import { transferKey } from "../coap/blockwise.js";
import type { Block2Slicer, ResponseParts } from "../coap/block2-slicer.js";
import type { InboundRequest, MessageLayer, Transmission, TransmissionOwner } from "../coap/message-layer.js";
import { StreamLayer } from "../coap/stream/stream-layer.js";
import { toHex } from "../coap/tokens.js";
import { DtlsServer } from "../dtls/server.js";
import { peerKey, type PeerAddress } from "../transport/types.js";
import type { Clock } from "../util/clock.js";
import { CoapError } from "./coap-error.js";
import { splitPath } from "./router.js";
import type { CoapRequest, CoapResponse, Handler, ServerLogger } from "./types.js";


export interface ObserveLimits {
  /** Observers in total (new registrations beyond are served without Observe). */
  readonly maxObservers: number;
  /** Observers one peer (address + port) may hold. */
  readonly maxObserversPerPeer: number;
  /** A CON notification at least this often per observer (§4.5; default 24 h). */
  readonly conIntervalMs: number;
  /** Every n-th notification is CON (libcoap's COAP_OBS_MAX_NON = 5); 0: only by the interval. */
  readonly conEvery: number;
  /** Notifications are CON always (libcoap's COAP_RESOURCE_FLAGS_NOTIFY_CON). */
  readonly confirmable: boolean;
}

export const DEFAULT_OBSERVE_LIMITS: ObserveLimits = Object.freeze({
  maxObservers: 1000,
  maxObserversPerPeer: 16,
  conIntervalMs: 24 * 3600 * 1000,
  conEvery: 5,
  confirmable: false,
});

export interface ObserveStats {
  registrations: number;
  deregistrations: number;
  /** Registrations refused by maxObservers / maxObserversPerPeer. */
  rejectedByLimit: number;
  notifications: number;
  confirmableNotifications: number;
  removedByReset: number;
  removedByTimeout: number;
  /** The DTLS session or connection of the registration ended. */
  removedBySessionEnd: number;
  /** A 4.xx/5.xx notification ended the observation. */
  removedByError: number;
}

/** Who CoapServer lends to the registry: rendering and slicing stay the server's. */
export interface ObserveHost {
  readonly clock: Clock;
  readonly slicer: Block2Slicer;
  render(response: CoapResponse): ResponseParts;
  readonly logger?: ServerLogger | undefined;
}

/** One entry of the list of observers. */
export class Observer {
  /** Registration response sent (notifications go out only after it). */
  active = false;
  /** Notifications since the last CON one. */
  nonSinceCon = 0;
  lastConAt: number;
  /** The CON notification in flight, if any. */
  tx: Transmission<Observer> | undefined;
  /** A newer state is waiting for `tx` to be acknowledged. */
  dirty = false;
  removed = false;
  /** Message IDs of the recent NON notifications (an RST to one of them removes the observer). */
  readonly nonMids: number[] = [];

  constructor(
    readonly key: string,
    readonly layer: MessageLayer,
    readonly request: CoapRequest,
    readonly handler: Handler,
    /** "/a/b": the concrete path observed. */
    readonly path: string,
    /** The resource's path template ("/sensors/{id}"). */
    readonly template: string,
    /** The DTLS session / connection of the registration (undefined for plain UDP). */
    readonly session: object | undefined,
    now: number,
  ) {
    this.lastConAt = now;
  }

  get peer(): PeerAddress {
    return this.request.peer;
  }
}

const NON_MIDS_KEPT = 8;

/** The session state a registration belongs to: the DTLS session or the stream connection. */
function sessionOf(layer: MessageLayer, peer: PeerAddress): object | undefined {
  if (layer instanceof StreamLayer) return layer.connection(peer);
  const ep = layer.endpoint;
  if (ep instanceof DtlsServer) return ep.sessionInfo(peer);
  return undefined;
}

/** True when the registration's session is still the peer's current one. */
function sessionAlive(o: Observer): boolean {
  if (o.session === undefined) return !(o.layer instanceof StreamLayer) && !(o.layer.endpoint instanceof DtlsServer);
  return sessionOf(o.layer, o.peer) === o.session;
}

function observerKey(peer: PeerAddress, token: Uint8Array): string {
  return `${peerKey(peer)}|${toHex(token)}`;
}

export class ObserveRegistry implements TransmissionOwner<Observer> {
  readonly stats: ObserveStats = {
    registrations: 0,
    deregistrations: 0,
    rejectedByLimit: 0,
    notifications: 0,
    confirmableNotifications: 0,
    removedByReset: 0,
    removedByTimeout: 0,
    removedBySessionEnd: 0,
    removedByError: 0,
  };
  readonly limits: ObserveLimits;
  /** Per layer: observer key → observer. */
  readonly #byLayer = new Map<MessageLayer, Map<string, Observer>>();
  readonly #perPeer = new Map<string, number>();
  /** Per observed path: the last sequence number used, and the observers of the path (the entry goes with the last one). */
  readonly #sequence = new Map<string, number>();
  readonly #perPath = new Map<string, number>();
  /** layer → "peer|mid" of recent NON notifications → observer. */
  readonly #nonMids = new Map<MessageLayer, Map<string, Observer>>();
  #count = 0;

  constructor(
    private readonly host: ObserveHost,
    limits: Partial<ObserveLimits> = {},
  ) {
    this.limits = { ...DEFAULT_OBSERVE_LIMITS, ...limits };
  }

  /** Observers on the list. */
  get size(): number {
    return this.#count;
  }

  /** The observers (optionally of one path or template), for inspection. */
  observers(path?: string): Observer[] {
    const out: Observer[] = [];
    for (const m of this.#byLayer.values()) for (const o of m.values()) if (path === undefined || matches(o, path)) out.push(o);
    return out;
  }

  /**
   * A GET carrying Observe on an observable resource (§4.1). 0 adds (or replaces) the entry and
   * returns it; 1 removes it. undefined: not registered (deregistration, a cap, another value).
   */
  onObserveRequest(inbound: InboundRequest, request: CoapRequest, handler: Handler, template: string, value: number): Observer | undefined {
    const key = observerKey(inbound.peer, inbound.message.token);
    const existing = this.#byLayer.get(inbound.layer)?.get(key);
    if (value !== OBSERVE_REGISTER) {
      if (value === OBSERVE_DEREGISTER && existing) {
        this.stats.deregistrations++;
        this.#remove(existing);
      }
      return undefined;
    }
    if (existing) this.#remove(existing); // §4.1: same endpoint and token → replace the entry
    const pk = peerKey(inbound.peer);
    if ((this.#perPeer.get(pk) ?? 0) >= this.limits.maxObserversPerPeer || this.#count >= this.limits.maxObservers) {
      this.sweep(); // stale entries (sessions gone) must not hold the caps
      if ((this.#perPeer.get(pk) ?? 0) >= this.limits.maxObserversPerPeer || this.#count >= this.limits.maxObservers) {
        this.stats.rejectedByLimit++;
        return undefined;
      }
    }
    const o = new Observer(key, inbound.layer, request, handler, "/" + request.path.join("/"), template, sessionOf(inbound.layer, inbound.peer), this.host.clock.now());
    let m = this.#byLayer.get(inbound.layer);
    if (!m) {
      m = new Map();
      this.#byLayer.set(inbound.layer, m);
    }
    m.set(key, o);
    this.#perPeer.set(pk, (this.#perPeer.get(pk) ?? 0) + 1);
    this.#perPath.set(o.path, (this.#perPath.get(o.path) ?? 0) + 1);
    this.#count++;
    this.stats.registrations++;
    return o;
  }

  /**
   * The registration response is ready: a 2.xx gets the Observe option and activates the
   * observer; anything else ends the registration (§4.1: the client is not on the list).
   */
  onRegistrationResponse(o: Observer, parts: ResponseParts): ResponseParts {
    if (o.removed) return parts;
    if (!isSuccessCode(parts.code)) {
      this.#remove(o);
      return parts;
    }
    o.active = true;
    return withObserve(parts, this.#nextSequence(o.path));
  }

  /**
   * The resource at `path` changed: every observer of it (`path` may also be a resource
   * template, "/sensors/{id}", to notify all of its paths) gets a notification. Returns the
   * number of observers notified.
   */
  notify(path: string, options: { readonly confirmable?: boolean } = {}): number {
    const canonical = "/" + splitPath(path).join("/");
    const targets = this.observers(canonical).filter((o) => o.active);
    const sequences = new Map<string, number>();
    for (const o of targets) {
      let seq = sequences.get(o.path);
      if (seq === undefined) {
        seq = this.#nextSequence(o.path);
        sequences.set(o.path, seq);
      }
      this.#notifyOne(o, seq, options.confirmable === true);
    }
    return targets.length;
  }

  /** An RST no CON matched: if it answers a NON notification, that observer goes (§3.6). */
  onUnmatchedReset(layer: MessageLayer, peer: PeerAddress, messageId: number): void {
    const o = this.#nonMids.get(layer)?.get(`${peerKey(peer)}|${messageId}`);
    if (!o || o.removed) return;
    this.stats.removedByReset++;
    this.#remove(o);
  }

  /** Drops observers whose DTLS session / connection ended; returns how many. */
  sweep(): number {
    let n = 0;
    for (const m of this.#byLayer.values()) {
      for (const o of [...m.values()]) {
        if (sessionAlive(o)) continue;
        this.stats.removedBySessionEnd++;
        this.#remove(o);
        n++;
      }
    }
    return n;
  }

  /** Forgets every observer of `layer` (the server stopped serving it). */
  dropLayer(layer: MessageLayer): void {
    for (const o of [...(this.#byLayer.get(layer)?.values() ?? [])]) this.#remove(o);
    this.#byLayer.delete(layer);
    this.#nonMids.delete(layer);
  }

  /**
   * Forgets every observer of `peer` on `layer` (its session ended; CoapServer calls this when a
   * DTLS session closes. Whoever replaces the endpoint's onSessionClosed later leaves the check
   * at the next notification and the sweep at the caps to do it).
   */
  dropPeer(layer: MessageLayer, peer: PeerAddress): void {
    // Most sessions end without observing anything: skip the scan (and its copy of every
    // observer) unless this peer has one, and the peer's key string too while nobody observes.
    // A DTLS gateway closes thousands of sessions a second.
    if (this.#perPeer.size === 0) return;
    const pk = peerKey(peer);
    if (!this.#perPeer.has(pk)) return;
    for (const o of [...(this.#byLayer.get(layer)?.values() ?? [])]) {
      if (peerKey(o.peer) !== pk) continue;
      this.stats.removedBySessionEnd++;
      this.#remove(o);
    }
  }

  clear(): void {
    for (const layer of [...this.#byLayer.keys()]) this.dropLayer(layer);
  }

  // TransmissionOwner of CON notifications
  onAcknowledged(tx: Transmission<Observer>): void {
    const o = tx.context;
    if (o.tx !== tx) return;
    o.tx = undefined;
    if (o.dirty && !o.removed) {
      o.dirty = false;
      this.#notifyOne(o, this.#nextSequence(o.path), false);
    }
  }

  onReset(tx: Transmission<Observer>): void {
    const o = tx.context;
    if (o.removed) return;
    this.stats.removedByReset++;
    this.#remove(o);
  }

  onTimeout(tx: Transmission<Observer>): void {
    const o = tx.context;
    if (o.removed) return;
    this.stats.removedByTimeout++; // §4.5: the client is no longer interested (or gone)
    this.#remove(o);
  }

  onAborted(tx: Transmission<Observer>): void {
    const o = tx.context;
    if (o.tx === tx) o.tx = undefined;
  }

  #nextSequence(path: string): number {
    const seq = nextObserveSequence(this.#sequence.get(path) ?? 0);
    this.#sequence.set(path, seq);
    return seq;
  }

  #notifyOne(o: Observer, seq: number, forceCon: boolean): void {
    if (o.removed) return;
    if (!sessionAlive(o)) {
      this.stats.removedBySessionEnd++;
      this.#remove(o);
      return;
    }
    if (o.tx) {
      o.dirty = true; // §4.5.2: the newer state goes once the CON in flight is acknowledged
      return;
    }
    let result: CoapResponse | Promise<CoapResponse>;
    try {
      result = o.handler(o.request);
    } catch (e) {
      this.#send(o, this.#errorParts(o, e), seq, forceCon);
      return;
    }
    if (typeof (result as { then?: unknown }).then === "function") {
      (result as Promise<CoapResponse>).then(
        (r) => this.#send(o, this.#render(o, r), seq, forceCon),
        (e: unknown) => this.#send(o, this.#errorParts(o, e), seq, forceCon),
      );
    } else this.#send(o, this.#render(o, result as CoapResponse), seq, forceCon);
  }

  #render(o: Observer, r: CoapResponse): ResponseParts {
    try {
      return this.host.render(r);
    } catch (e) {
      return this.#errorParts(o, e);
    }
  }

  #errorParts(o: Observer, e: unknown): ResponseParts {
    if (e instanceof CoapError) return { code: e.code, options: [], payload: e.diagnostic ? utf8Encode(e.diagnostic) : new Uint8Array(0) };
    this.host.logger?.error({ err: e, path: o.path }, "observe handler failed");
    return { code: Code.InternalServerError, options: [], payload: new Uint8Array(0) };
  }

  #send(o: Observer, parts: ResponseParts, seq: number, forceCon: boolean): void {
    if (o.removed) return;
    const final = !isSuccessCode(parts.code);
    const now = this.host.clock.now();
    const req = o.request;
    // RFC 7959 §2.6 / RFC 7641 §4.3: the first block only; the rest by GETs without Observe,
    // served from the body cache under the same key a plain GET of this resource uses.
    const b2req = { block: undefined, size2: false, tokenLength: req.token.length, maxMessageSize: o.layer.maxMessageSize(o.peer) };
    let out = this.host.slicer.fits(parts, b2req)
      ? parts
      : this.host.slicer.slice(transferKey(o.peer, req.path, req.query, req.accept === undefined ? "" : String(req.accept)), parts, b2req, now);
    if (!final) out = withObserve(out, seq);
    const reliable = o.layer instanceof StreamLayer;
    const con =
      !reliable &&
      (final || forceCon || this.limits.confirmable || (this.limits.conEvery > 0 && o.nonSinceCon + 1 >= this.limits.conEvery) || now - o.lastConAt >= this.limits.conIntervalMs);
    const message = { code: out.code, token: req.token, options: out.options, payload: out.payload };
    this.stats.notifications++;
    try {
      if (con) {
        this.stats.confirmableNotifications++;
        o.nonSinceCon = 0;
        o.lastConAt = now;
        if (!final) o.tx = o.layer.sendConfirmable(o.peer, { ...message, type: MessageType.CON }, this, o);
        else o.layer.sendConfirmable(o.peer, { ...message, type: MessageType.CON }, IGNORE, undefined);
      } else {
        o.nonSinceCon++;
        const mid = o.layer.sendNonConfirmable(o.peer, { ...message, type: MessageType.NON });
        if (!reliable) this.#rememberNon(o, mid);
      }
    } catch (e) {
      this.host.logger?.error({ err: e, path: o.path }, "notification not encodable");
    }
    if (final) {
      this.stats.removedByError++; // §3.2: a non-2.xx notification ends the observation
      this.#remove(o);
    }
  }

  #rememberNon(o: Observer, mid: number): void {
    let m = this.#nonMids.get(o.layer);
    if (!m) {
      m = new Map();
      this.#nonMids.set(o.layer, m);
    }
    const pk = peerKey(o.peer);
    o.nonMids.push(mid);
    m.set(`${pk}|${mid}`, o);
    if (o.nonMids.length > NON_MIDS_KEPT) {
      const old = o.nonMids.shift() as number;
      if (m.get(`${pk}|${old}`) === o) m.delete(`${pk}|${old}`);
    }
  }

  #remove(o: Observer): void {
    if (o.removed) return;
    o.removed = true;
    const m = this.#byLayer.get(o.layer);
    if (m?.get(o.key) === o) {
      m.delete(o.key);
      this.#count--;
      const pk = peerKey(o.peer);
      const n = (this.#perPeer.get(pk) ?? 1) - 1;
      if (n <= 0) this.#perPeer.delete(pk);
      else this.#perPeer.set(pk, n);
      const left = (this.#perPath.get(o.path) ?? 1) - 1;
      if (left > 0) this.#perPath.set(o.path, left);
      else {
        // No observer of the path is left: nobody compares against its numbers any more.
        this.#perPath.delete(o.path);
        this.#sequence.delete(o.path);
      }
    }
    if (o.tx) {
      o.layer.cancel(o.tx);
      o.tx = undefined;
    }
    const mids = this.#nonMids.get(o.layer);
    const pk = peerKey(o.peer);
    for (const mid of o.nonMids) if (mids?.get(`${pk}|${mid}`) === o) mids.delete(`${pk}|${mid}`);
  }
}

/** What addResource returns: the resource's way to tell its observers that it changed. */
export interface ResourceHandle {
  readonly path: string;
  /**
   * The resource changed: its observers get a notification (libcoap's
   * coap_resource_notify_observers, Californium's `changed()`). Returns how many.
   */
  notify(options?: { readonly confirmable?: boolean }): number;
  /** The same as notify() (Californium's name). */
  changed(options?: { readonly confirmable?: boolean }): number;
}

export function resourceHandle(registry: ObserveRegistry, path: string): ResourceHandle {
  const notify = (options: { readonly confirmable?: boolean } = {}): number => registry.notify(path, options);
  return { path, notify, changed: notify };
}

/** Owner of a final (4.xx/5.xx) CON notification: its outcome changes nothing. */
const IGNORE: TransmissionOwner<undefined> = { onAcknowledged() {}, onReset() {}, onTimeout() {}, onAborted() {} };

function matches(o: Observer, path: string): boolean {
  return o.path === path || o.template === path;
}

/** `parts` with the Observe option set to `seq` (any Observe the handler added is replaced). */
function withObserve(parts: ResponseParts, seq: number): ResponseParts {
  const options: CoapOption[] = parts.options.filter((x) => x.number !== OptionNumber.Observe);
  options.push(uintOption(OptionNumber.Observe, seq));
  return { ...parts, options };
}
