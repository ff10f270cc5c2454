/**
 * CoapServer: resources over one or more DatagramEndpoints (plain UDP, DTLS, in-memory), each
 * through its own MessageLayer (coap/message-layer.ts) sharing this server's resources and
 * block-wise state. Per request, in this order:
 *
 *   1. unknown critical option  → 4.02 (CON) / RST (NON)            RFC 7252 §5.4.1
 *   2. Proxy-Uri/Proxy-Scheme   → 5.05 (not a proxy)                  §5.7.2
 *      unknown method code      → 4.05; malformed Block1/Block2 → 4.00  §5.8, RFC 7959 §2.2
 *   3. route: /.well-known/core, resources (exact, {param}), default handler, else 4.04;
 *      a resource without a handler for the method → 4.05
 *   4. Block2 NUM > 0           → served from the body cache (the handler runs once)
 *   5. Block1                   → reassembled first: 2.31 / 4.08 / 4.13 + Size1
 *   6. handler → response; a sync result is piggybacked; an async one that takes longer than
 *      separateResponseDelayMs gets an empty ACK and then a separate CON (§5.2.2)
 *   7. large bodies are sliced with Block2 (coap/block2-slicer.ts)
 *   Observe (RFC 7641): a GET with Observe on a resource with `obs: true` goes through
 *   ./observe.ts (register / deregister); `notifyObservers(path)` sends the notifications.
 *
 * Handlers throw `CoapError` for 4.xx/5.xx; any other throw (or rejection) is a 5.00.
 */
import {
  Code,
  MessageType,
  OptionNumber,
  blockOption,
  getBlock,
  getUintOption,
  getUriPath,
  getUriQuery,
  getOption,
  hasOption,
  opaqueOption,
  parseCode,
  stringOption,
  uintOption,
  unknownCriticalOptions,
  isResponseCode,
  utf8Encode,
  ContentFormat,
  type BlockValue,
  type CoapOption,
} from "@coaps-edge/shared";
import { DtlsServer } from "../dtls/server.js";
import type { DatagramEndpoint, PeerAddress } from "../transport/types.js";
import { systemClock, type Clock } from "../util/clock.js";
import { blockwiseLimits, transferKey, type BlockwiseLimits } from "../coap/blockwise.js";
import { Block1Reassembler } from "../coap/block1-reassembler.js";
import { Block2Slicer, type ResponseParts } from "../coap/block2-slicer.js";
import type { TransmissionParameters } from "../coap/constants.js";
import type { DedupLimits } from "../coap/dedup-cache.js";
import { MessageLayer, type InboundRequest, type RequestSink } from "../coap/message-layer.js";
import { TimerQueue, type TimerEntry } from "../coap/timer-queue.js";
import { toHex } from "../coap/tokens.js";
import { CoapError } from "./coap-error.js";
import { IncomingRequest } from "./request.js";
import { NO_PARAMS, Router, splitPath } from "./router.js";
import type { CoapResponse, Handler, MethodName, ResourceDefinition, ServerLogger } from "./types.js";
import { isWellKnownCore, wellKnownCore } from "./well-known.js";
import { ObserveRegistry, resourceHandle, type ObserveLimits, type Observer, type ResourceHandle } from "./observe.js";

export interface CoapServerOptions {
  readonly clock?: Clock;
  /** RFC 7252 §4.8 parameters for the message layers this server creates. */
  readonly transmission?: Partial<TransmissionParameters>;
  /** Dedup cache bounds per message layer. */
  readonly dedup?: DedupLimits;
  /** Block-wise limits: preferred block size, max body, transfer state bounds. */
  readonly blockwise?: Partial<BlockwiseLimits>;
  /** How long an async handler may take before the CON gets an empty ACK (default 1000 ms, below ACK_TIMEOUT). */
  readonly separateResponseDelayMs?: number;
  readonly logger?: ServerLogger;
  /** [0, 1) source for message IDs and retransmission jitter (tests). */
  readonly random?: () => number;
  /** Observer caps and notification types (RFC 7641; server/observe.ts). */
  readonly observe?: Partial<ObserveLimits>;
}

export interface CoapServerStats {
  requests: number;
  responses: number;
  /** Requests answered with an empty ACK first and a separate response later. */
  separateResponses: number;
  /** Handlers that threw (or rejected) something other than CoapError. */
  handlerErrors: number;
  badOption: number;
  notFound: number;
  methodNotAllowed: number;
  /** Block2 blocks served from the body cache. */
  blocksFromCache: number;
}

const HANDLER_KEYS: Record<number, keyof ResourceDefinition> = { 1: "get", 2: "post", 3: "put", 4: "delete", 5: "fetch", 6: "patch", 7: "ipatch" };
const METHOD_NAMES: Record<number, MethodName> = { 1: "GET", 2: "POST", 3: "PUT", 4: "DELETE", 5: "FETCH", 6: "PATCH", 7: "iPATCH" };
const EMPTY = new Uint8Array(0);

/** One request between dispatch and response (also the separate-response timer entry). */
class Pending implements TimerEntry {
  timerDue = 0;
  timerIndex = -1;
  done = false;
  #key: string | undefined;
  constructor(
    readonly inbound: InboundRequest,
    readonly path: readonly string[],
    readonly query: readonly string[],
    readonly accept: number | undefined,
    readonly block2: BlockValue | undefined,
    /** The final Block1 of a reassembled upload, echoed in the response. */
    public block1: BlockValue | undefined,
  ) {}

  /** The observer this GET registered (RFC 7641 §4.1); its response gets the Observe option. */
  observer: Observer | undefined;

  /** The Block2 transfer key, built only when a body is actually sliced. */
  get key(): string {
    return (this.#key ??= transferKey(this.inbound.peer, this.path, this.query, this.accept === undefined ? "" : String(this.accept)));
  }
}

export class CoapServer implements RequestSink {
  readonly stats: CoapServerStats = {
    requests: 0,
    responses: 0,
    separateResponses: 0,
    handlerErrors: 0,
    badOption: 0,
    notFound: 0,
    methodNotAllowed: 0,
    blocksFromCache: 0,
  };
  readonly clock: Clock;
  readonly limits: BlockwiseLimits;
  readonly #options: CoapServerOptions;
  readonly #router = new Router();
  readonly #layers = new Map<DatagramEndpoint, MessageLayer>();
  readonly #block1: Block1Reassembler;
  readonly #block2: Block2Slicer;
  readonly #timers: TimerQueue<Pending>;
  readonly #separateDelay: number;
  #defaultHandler: Handler | undefined;
  #wellKnown: string | undefined;
  /** Observers of observable resources (RFC 7641). */
  readonly observe: ObserveRegistry;

  constructor(options: CoapServerOptions = {}) {
    this.#options = options;
    this.clock = options.clock ?? systemClock;
    this.limits = blockwiseLimits(options.blockwise);
    this.#block1 = new Block1Reassembler(this.limits);
    this.#block2 = new Block2Slicer(this.limits);
    this.#separateDelay = options.separateResponseDelayMs ?? 1000;
    this.#timers = new TimerQueue(this.clock, (p) => this.#onSeparateDelay(p));
    this.observe = new ObserveRegistry({ clock: this.clock, slicer: this.#block2, render: renderResponse, logger: options.logger }, options.observe);
  }

  // ---------------------------------------------------------------- endpoints

  /** Serves requests arriving on `endpoint` through a new MessageLayer (returned). */
  attach(endpoint: DatagramEndpoint): MessageLayer {
    const existing = this.#layers.get(endpoint);
    if (existing) return existing;
    const o = this.#options;
    const layer = new MessageLayer(endpoint, { clock: this.clock, transmission: o.transmission, dedup: o.dedup, random: o.random });
    this.attachLayer(layer);
    return layer;
  }

  /** Serves requests of an existing MessageLayer (e.g. one a CoapClient shares for downlink requests). */
  attachLayer(layer: MessageLayer): void {
    layer.requestSink = this;
    layer.onUnmatchedReset = (peer, mid) => this.observe.onUnmatchedReset(layer, peer, mid);
    this.#watchSessions(layer);
    this.#layers.set(layer.endpoint, layer);
  }

  /**
   * Runs `sessionClosed` whenever a DTLS session of the layer's endpoint ends (chained onto the
   * endpoint's onSessionClosed as it is now). Plain UDP has no sessions: its peers' state ends
   * by lifetime only.
   */
  #watchSessions(layer: MessageLayer): void {
    const ep = layer.endpoint;
    if (!(ep instanceof DtlsServer)) return;
    const previous = ep.onSessionClosed;
    ep.onSessionClosed = (peer, reason, error) => {
      previous(peer, reason, error);
      this.sessionClosed(layer, peer);
    };
  }

  /**
   * What a closed session of `peer` on `layer` leaves behind goes at once: its observers (an
   * observation belongs to its session, observe.ts) and its dedup entries (RFC 7252 §9.1.1: a
   * message is only ever the same as one of the same session and epoch). A gateway taking
   * thousands of short sessions a second would otherwise hold each one's dedup entry for
   * EXCHANGE_LIFETIME (247 s), and at the cache's bound every new session's first request would
   * evict the oldest. Block-wise transfers end by their own timeout.
   */
  sessionClosed(layer: MessageLayer, peer: PeerAddress): void {
    layer.dropPeer(peer);
    this.observe.dropPeer(layer, peer);
  }

  /** Stops serving `endpoint`; its layer is closed, the endpoint itself is not. */
  detach(endpoint: DatagramEndpoint): boolean {
    const layer = this.#layers.get(endpoint);
    if (!layer) return false;
    this.#layers.delete(endpoint);
    this.observe.dropLayer(layer);
    layer.close();
    return true;
  }

  /** Block-wise state and refusals (for metrics): uploads/bodies in progress, 4.13/4.08/5.03 answers. */
  get blockStats(): { uploads: number; uploadsTooLarge: number; uploadsIncomplete: number; uploadsPerPeerRejected: number } {
    const b = this.#block1;
    return { uploads: b.active, uploadsTooLarge: b.tooLarge, uploadsIncomplete: b.incomplete, uploadsPerPeerRejected: b.perPeerRejected };
  }

  /** The message layers in use (for stats). */
  get layers(): readonly MessageLayer[] {
    return [...this.#layers.values()];
  }

  /** Closes every message layer and drops block-wise state. Endpoints stay open (their owner closes them). */
  close(): void {
    for (const layer of this.#layers.values()) layer.close();
    this.#layers.clear();
    this.observe.clear();
    this.#timers.clear();
    this.#block1.clear();
    this.#block2.clear();
  }

  // ---------------------------------------------------------------- resources

  /** Adds a resource at `path` ("/a/b", "/sensors/{id}"); throws Error if the path is taken. */
  addResource(path: string, resource: ResourceDefinition): ResourceHandle {
    this.#router.add(path, resource);
    this.#wellKnown = undefined;
    return resourceHandle(this.observe, path);
  }

  /** Removes the resource at `path`; returns whether there was one. */
  removeResource(path: string): boolean {
    const removed = this.#router.remove(path);
    if (removed) this.#wellKnown = undefined;
    return removed;
  }

  /** Handles requests for paths without a resource (instead of 4.04); undefined restores 4.04. */
  setDefaultHandler(handler: Handler | undefined): void {
    this.#defaultHandler = handler;
  }

  /**
   * The resource at `path` changed (libcoap's coap_resource_notify_observers, Californium's
   * `changed()`): its observers get a notification. `path` may be a template ("/s/{id}") to
   * notify every observed path of that resource. Returns the number of observers notified.
   */
  notifyObservers(path: string, options: { readonly confirmable?: boolean } = {}): number {
    return this.observe.notify(path, options);
  }

  /** The registered resources by path template. */
  resources(): [string, ResourceDefinition][] {
    return [...this.#router.entries()];
  }

  // ---------------------------------------------------------------- requests

  /** RequestSink: called by a message layer for each new request. Never throws. */
  onRequest(inbound: InboundRequest): void {
    this.stats.requests++;
    const m = inbound.message;
    const bad = unknownCriticalOptions(m);
    if (bad.length > 0) {
      this.stats.badOption++;
      if (m.type === MessageType.CON) this.#reply(inbound, Code.BadOption, [], `unrecognized critical option ${bad.join(",")}`);
      else inbound.layer.reject(inbound); // §5.4.1: a NON with one is rejected
      return;
    }
    // §5.7.2: not a proxy — a request asking for one gets 5.05.
    if (hasOption(m, OptionNumber.ProxyUri) || hasOption(m, OptionNumber.ProxyScheme)) {
      this.#reply(inbound, Code.ProxyingNotSupported, [], "");
      return;
    }
    const handlerKey = HANDLER_KEYS[m.code];
    if (handlerKey === undefined) {
      this.stats.methodNotAllowed++;
      this.#reply(inbound, Code.MethodNotAllowed, [], "unknown method");
      return;
    }
    let block1: BlockValue | undefined;
    let block2: BlockValue | undefined;
    try {
      block1 = getBlock(m, OptionNumber.Block1);
      block2 = getBlock(m, OptionNumber.Block2);
    } catch {
      this.#reply(inbound, Code.BadRequest, [], "malformed block option");
      return;
    }
    const path = getUriPath(m);
    const query = getUriQuery(m);

    let handler: Handler | undefined;
    let params: Readonly<Record<string, string>> = NO_PARAMS;
    let observable: string | undefined;
    if (isWellKnownCore(path) && !this.#router.match(path)) {
      if (m.code !== 1) {
        this.stats.methodNotAllowed++;
        this.#reply(inbound, Code.MethodNotAllowed, [], "");
        return;
      }
      handler = this.#wellKnownHandler;
    } else {
      const match = this.#router.match(path);
      if (match) {
        handler = match.resource[handlerKey] as Handler | undefined;
        params = match.params;
        if (match.resource.obs === true && m.code === 1) observable = match.template;
        if (!handler) {
          this.stats.methodNotAllowed++;
          this.#reply(inbound, Code.MethodNotAllowed, [], "");
          return;
        }
      } else if (this.#defaultHandler) {
        handler = this.#defaultHandler;
      } else {
        this.stats.notFound++;
        this.#reply(inbound, Code.NotFound, [], "");
        return;
      }
    }

    const now = this.clock.now();
    const accept = getUintOption(m, OptionNumber.Accept);
    const pending = new Pending(inbound, path, query, accept, block2, undefined);

    // RFC 7959 §2.4: a later block of a body we already produced.
    if (block2 && block2.num > 0) {
      const cached = this.#block2.fromCache(pending.key, this.#block2Request(inbound, block2), now);
      if (cached) {
        this.stats.blocksFromCache++;
        this.#send(inbound, cached);
        return;
      }
      if (m.code !== 1 && m.code !== 5) {
        // Re-running a non-safe method for a later block would repeat its effect.
        this.#reply(inbound, Code.RequestEntityIncomplete, [], "no response body cached for this Block2");
        return;
      }
    }

    let payload = m.payload;
    if (block1) {
      const tag = getOption(m, OptionNumber.RequestTag);
      const b1key = transferKey(inbound.peer, path, query, `${m.code}|${tag ? toHex(tag.value) : "-"}`);
      const out = this.#block1.process(b1key, block1, m.payload, getUintOption(m, OptionNumber.Size1), now);
      if (out.kind === "reply") {
        this.#reply(inbound, out.code, out.options, out.diagnostic);
        return;
      }
      payload = out.payload;
      pending.block1 = out.block1;
    } else if (payload.length > this.limits.maxBodyBytes) {
      this.#reply(inbound, Code.RequestEntityTooLarge, [uintOption(OptionNumber.Size1, this.limits.maxBodyBytes)], "");
      return;
    }

    const request = new IncomingRequest(
      METHOD_NAMES[m.code] as MethodName,
      path,
      params,
      query,
      m.options,
      payload,
      getUintOption(m, OptionNumber.ContentFormat),
      accept,
      m.token,
      m.type === MessageType.CON,
      inbound.peer,
      inbound.identity,
      inbound.layer.scheme,
    );
    if (observable !== undefined && !(block2 && block2.num > 0)) {
      const value = getUintOption(m, OptionNumber.Observe);
      if (value !== undefined) pending.observer = this.observe.onObserveRequest(inbound, request, handler, observable, value);
    }
    let result: CoapResponse | Promise<CoapResponse>;
    try {
      result = handler(request);
    } catch (e) {
      this.#fail(pending, e);
      return;
    }
    if (isPromiseLike(result)) {
      if (m.type === MessageType.CON) this.#timers.scheduleIn(pending, this.#separateDelay);
      result.then(
        (r) => this.#complete(pending, r),
        (e: unknown) => this.#fail(pending, e),
      );
    } else {
      this.#complete(pending, result);
    }
  }

  readonly #wellKnownHandler: Handler = (req) => {
    const body = req.query.length === 0 ? (this.#wellKnown ??= wellKnownCore(this.#router.entries(), [])) : wellKnownCore(this.#router.entries(), req.query);
    return { code: Code.Content, payload: utf8Encode(body), contentFormat: ContentFormat.linkFormat };
  };

  #onSeparateDelay(p: Pending): void {
    if (p.done) return;
    this.stats.separateResponses++;
    p.inbound.layer.acceptSeparately(p.inbound);
  }

  #complete(p: Pending, response: CoapResponse): void {
    if (p.done) return;
    let parts: ResponseParts;
    try {
      parts = renderResponse(response);
    } catch (e) {
      this.#fail(p, e);
      return;
    }
    if (p.block1) parts.options.push(blockOption(OptionNumber.Block1, { num: p.block1.num, more: false, szx: p.block1.szx }));
    this.#finish(p, parts);
  }

  #fail(p: Pending, e: unknown): void {
    if (p.done) return;
    if (e instanceof CoapError) {
      this.#finish(p, { code: e.code, options: [], payload: e.diagnostic ? utf8Encode(e.diagnostic) : EMPTY });
      return;
    }
    this.stats.handlerErrors++;
    this.#options.logger?.error({ err: e, path: "/" + getUriPath(p.inbound.message).join("/") }, "handler failed");
    this.#finish(p, { code: Code.InternalServerError, options: [], payload: EMPTY });
  }

  #finish(p: Pending, parts: ResponseParts): void {
    p.done = true;
    this.#timers.remove(p);
    const req = this.#block2Request(p.inbound, p.block2);
    const out = this.#block2.fits(parts, req) && !req.size2 ? parts : this.#block2.slice(p.key, parts, req, this.clock.now());
    this.#send(p.inbound, p.observer ? this.observe.onRegistrationResponse(p.observer, out) : out);
  }

  #block2Request(inbound: InboundRequest, block: BlockValue | undefined) {
    const m = inbound.message;
    return {
      block,
      size2: hasOption(m, OptionNumber.Size2),
      tokenLength: m.token.length,
      maxMessageSize: inbound.layer.maxMessageSize(inbound.peer),
    };
  }

  /** An answer the server makes itself (errors, 2.31): diagnostic text payload, never sliced. */
  #reply(inbound: InboundRequest, code: number, options: CoapOption[], diagnostic: string): void {
    this.#send(inbound, { code, options, payload: diagnostic ? utf8Encode(diagnostic) : EMPTY });
  }

  #send(inbound: InboundRequest, parts: ResponseParts): void {
    let sent: boolean;
    try {
      sent = inbound.layer.respond(inbound, { code: parts.code, token: inbound.message.token, options: parts.options, payload: parts.payload });
    } catch (e) {
      // The encoder refused the handler's response (e.g. an option value out of range).
      this.stats.handlerErrors++;
      this.#options.logger?.error({ err: e }, "response not encodable");
      sent = inbound.layer.respond(inbound, { code: Code.InternalServerError, token: inbound.message.token, options: [], payload: EMPTY });
    }
    if (sent) this.stats.responses++;
  }
}

function isPromiseLike<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown }).then === "function";
}

/** "2.05" → 69, remembered: handlers return the same few code strings on every request. */
const PARSED_CODES = new Map<string, number>();
function parsedCode(text: string): number {
  let code = PARSED_CODES.get(text);
  if (code === undefined) {
    code = parseCode(text); // throws on a malformed code; only valid ones are remembered
    if (PARSED_CODES.size < 256) PARSED_CODES.set(text, code);
  }
  return code;
}

/**
 * Content-Format options by format, made once: a resource answers with the same format every
 * time, and an option is an object plus, for any format but 0, a Uint8Array (~150 heap bytes).
 * Shared between responses: an option is readonly once made, the encoder copies its value.
 */
const CONTENT_FORMAT_OPTIONS = new Map<number, CoapOption>();
function contentFormatOption(format: number): CoapOption {
  let option = CONTENT_FORMAT_OPTIONS.get(format);
  if (option === undefined) {
    option = uintOption(OptionNumber.ContentFormat, format); // throws on a value out of range
    if (CONTENT_FORMAT_OPTIONS.size < 64) CONTENT_FORMAT_OPTIONS.set(format, option);
  }
  return option;
}

/** A handler's CoapResponse as code, options and payload bytes. Throws on an invalid code. */
export function renderResponse(r: CoapResponse): ResponseParts {
  const code = typeof r.code === "string" ? parsedCode(r.code) : r.code;
  if (!isResponseCode(code)) throw new RangeError(`handler returned a non-response code ${String(r.code)}`);
  const options: CoapOption[] = r.options ? [...r.options] : [];
  const payload = r.payload === undefined ? EMPTY : typeof r.payload === "string" ? utf8Encode(r.payload) : r.payload;
  const contentFormat = r.contentFormat ?? (typeof r.payload === "string" ? ContentFormat.text : undefined);
  if (contentFormat !== undefined) options.push(contentFormatOption(contentFormat));
  if (r.maxAge !== undefined) options.push(uintOption(OptionNumber.MaxAge, r.maxAge));
  if (r.etag !== undefined) options.push(opaqueOption(OptionNumber.ETag, r.etag));
  if (r.locationPath !== undefined) {
    const segs = typeof r.locationPath === "string" ? splitPath(r.locationPath) : r.locationPath;
    for (const s of segs) options.push(stringOption(OptionNumber.LocationPath, s));
  }
  return { code, options, payload };
}
