/**
 * CoapClient: requests to CoAP servers over DatagramEndpoints, libcoap-style — one call, one
 * complete response body (block-wise both ways is done here, client/blockwise-transfer.ts).
 *
 * The transport seam: a request's scheme and peer select an endpoint. "coap" uses the
 * endpoint given in the options, else a UDP socket the client binds itself (one per address
 * family). "coaps" needs an `endpointFactory` (the DTLS client endpoint: it is asked once per
 * (scheme, peer) and may handshake before resolving). Each endpoint gets one MessageLayer,
 * unless a layer is shared in (the agent's downlink: one socket for server and client).
 */
import { lookup as dnsLookup } from "node:dns/promises";
import {
  MessageType,
  szxFromSize,
  type CoapOption,
} from "@coaps-edge/shared";
import { peerKey, type DatagramEndpoint, type PeerAddress, type PeerIdentity } from "../transport/types.js";
import { UdpEndpoint } from "../transport/udp.js";
import { checkTokenLength, methodCode, payloadBytes, requestOptions, transferResponse } from "./request-parts.js";
import { systemClock, type Clock } from "../util/clock.js";
import { DEFAULT_BLOCKWISE } from "../coap/blockwise.js";
import { DEFAULT_TOKEN_LENGTH, transmissionTimes, type TransmissionParameters } from "../coap/constants.js";
import type { DedupLimits } from "../coap/dedup-cache.js";
import { MessageLayer } from "../coap/message-layer.js";
import { TokenGenerator } from "../coap/tokens.js";
import { blockwiseRequest, type TransferPlan } from "./blockwise-transfer.js";
import { startObservation, type NotificationHandler, type Observation } from "./observe.js";
import { CoapClientError } from "./errors.js";
import { Exchanges } from "./exchanges.js";
import { defaultPort, isIpLiteral, parseCoapUri, type CoapScheme } from "./uri.js";

/** Where a request goes, resolved: what an endpoint factory is asked for. */
export interface RequestTarget {
  readonly scheme: CoapScheme;
  /** The host as written (name or literal, no brackets). */
  readonly host: string;
  readonly port: number;
  /** The resolved transport address. */
  readonly address: PeerAddress;
}

/** Supplies the endpoint for a target (e.g. a DTLS client session for coaps://). */
export type EndpointFactory = (target: RequestTarget) => DatagramEndpoint | Promise<DatagramEndpoint>;

/**
 * Supplies a whole message layer for a target — the reliable transports (coap+tcp, coaps+tcp,
 * coap+ws, coaps+ws) and Unix-domain sockets (coap/stream/client-factory.ts). Undefined: not
 * this factory's target (the endpoint factory / UDP is tried next). `onClosed` is to be
 * called when the layer's connection is gone, so the next request connects anew.
 */
export type LayerFactory = (target: RequestTarget, onClosed: () => void) => MessageLayer | undefined | Promise<MessageLayer | undefined>;

export interface CoapClientOptions {
  /** Endpoint for requests of its scheme (e.g. a bound UdpEndpoint for coap://). */
  readonly endpoint?: DatagramEndpoint;
  /** An existing message layer to send through (shared with a CoapServer); used for its scheme. */
  readonly layer?: MessageLayer;
  /** Endpoints for other targets, asked once per (scheme, peer) and cached; the client closes them on close(). */
  readonly endpointFactory?: EndpointFactory;
  /** Layers for reliable transports and Unix sockets, asked first, once per (scheme, peer) while connected; closed on close(). */
  readonly layerFactory?: LayerFactory;
  readonly clock?: Clock;
  readonly transmission?: Partial<TransmissionParameters>;
  readonly dedup?: DedupLimits;
  /** Preferred block size in bytes, 16..1024 (default 1024); a request's blockSize overrides it. */
  readonly blockSize?: number;
  /** Largest response body reassembled (default 16 MiB). */
  readonly maxBodyBytes?: number;
  /** Length of generated tokens, 0..8 (default 8). */
  readonly tokenLength?: number;
  /** Default deadline of a request in ms (default MAX_TRANSMIT_WAIT, 93 s). */
  readonly timeoutMs?: number;
  /** Host name resolution (default node:dns lookup). */
  readonly lookup?: (host: string) => Promise<{ address: string; family: 4 | 6 }>;
  /** [0, 1) source for message IDs and retransmission jitter (tests). */
  readonly random?: () => number;
}

/** A request. Give `uri`, or `host` (+ `port`, `path`, `query`, `scheme`). */
export interface CoapClientRequest {
  /** "GET" (default), "post", …, or the method code. */
  readonly method?: string | number;
  /** coap://host[:port]/path?query (coaps:// with a DTLS endpoint factory). */
  readonly uri?: string;
  readonly scheme?: CoapScheme;
  readonly host?: string;
  readonly port?: number;
  /** "/a/b" or ["a", "b"]. */
  readonly path?: string | readonly string[];
  /** "a=1&b" or ["a=1", "b"]. */
  readonly query?: string | readonly string[];
  /** Body; a string is sent as UTF-8. */
  readonly payload?: Uint8Array | string;
  readonly contentFormat?: number;
  readonly accept?: number;
  /** More options (the URI, Content-Format, Accept and block options are added here). */
  readonly options?: readonly CoapOption[];
  /** CON (default true) or NON. */
  readonly confirmable?: boolean;
  /** Token of the request messages (default: fresh random tokens). */
  readonly token?: Uint8Array;
  /** Block size for this request, 16..1024 (like coap-client -b): Block1 above it, Block2 asked for it. */
  readonly blockSize?: number;
  /** First Block2 number to fetch (coap-client -b NUM,size). */
  readonly block2Start?: number;
  /** Deadline for the whole request in ms. */
  readonly timeoutMs?: number;
}

/** A complete response (block-wise bodies already joined). 4.xx/5.xx are responses, not errors. */
export interface CoapClientResponse {
  readonly code: number;
  /** "2.05" */
  readonly codeText: string;
  /** Options of the (first block of the) response, without Block1/Block2. */
  readonly options: readonly CoapOption[];
  readonly payload: Uint8Array;
  readonly contentFormat: number | undefined;
  readonly peer: PeerAddress;
  readonly identity: PeerIdentity;
  /** Request messages this call sent (1 unless block-wise). */
  readonly messages: number;
}

interface LayerSlot {
  readonly layer: MessageLayer;
  /** Whether close() closes the layer (and the endpoint, if we bound it). */
  readonly ownedLayer: boolean;
  readonly ownedEndpoint: boolean;
}

export class CoapClient {
  readonly clock: Clock;
  readonly #options: CoapClientOptions;
  readonly #exchanges: Exchanges;
  readonly #tokens = new TokenGenerator();
  readonly #slots = new Map<DatagramEndpoint, LayerSlot>();
  readonly #byTarget = new Map<string, Promise<MessageLayer>>();
  readonly #udp = new Map<"IPv4" | "IPv6", Promise<UdpEndpoint>>();
  readonly #timeoutMs: number;
  #closed = false;

  constructor(options: CoapClientOptions = {}) {
    this.#options = options;
    this.clock = options.clock ?? options.layer?.clock ?? systemClock;
    this.#exchanges = new Exchanges(this.clock);
    this.#timeoutMs = options.timeoutMs ?? transmissionTimes(options.transmission).maxTransmitWaitMs;
    if (options.layer) this.#adopt(options.layer.endpoint, options.layer, false, false);
    if (options.endpoint && !options.layer) this.#layerForEndpoint(options.endpoint, false);
  }

  /** The message layers in use (for stats). */
  get layers(): readonly MessageLayer[] {
    return [...this.#slots.values()].map((s) => s.layer);
  }

  /** Sends a request and resolves with the complete response; rejects only with CoapClientError. */
  async request(req: CoapClientRequest): Promise<CoapClientResponse> {
    const p = await this.#prepare(req);
    const result = await blockwiseRequest(p.plan, (opts, body) => {
      const token = req.token ?? this.#tokens.next(p.plan.tokenLength);
      return this.#exchanges.send(p.layer, p.address, { type: p.type, code: p.plan.method, token, options: opts, payload: body }, p.deadline);
    });
    return transferResponse(result);
  }

  /**
   * Observes a resource (RFC 7641): registers with GET + Observe=0 and calls `onNotification`
   * with the registration response and then with every newer notification (whole bodies:
   * Block2 notifications are completed first). Resolves with the Observation once the
   * registration response is in — check `active` (false: the server did not register us) and
   * call `cancel()` to deregister. `timeoutMs` bounds the registration, not the observation.
   */
  async observe(req: CoapClientRequest, onNotification: NotificationHandler): Promise<Observation> {
    const p = await this.#prepare({ ...req, method: req.method ?? "GET" });
    const tokenLength = p.plan.tokenLength;
    return startObservation(
      {
        exchanges: this.#exchanges,
        layer: p.layer,
        peer: p.address,
        clock: this.clock,
        type: p.type,
        token: req.token ?? this.#tokens.next(Math.max(1, tokenLength)),
        newToken: () => this.#tokens.next(Math.max(1, tokenLength)),
        plan: p.plan,
        timeoutMs: req.timeoutMs ?? this.#timeoutMs,
      },
      onNotification,
    );
  }

  /** Target, layer, options and block-wise plan of a request. */
  async #prepare(req: CoapClientRequest): Promise<{ layer: MessageLayer; address: PeerAddress; type: MessageType; deadline: number; plan: TransferPlan }> {
    if (this.#closed) throw new CoapClientError("closed", "client closed");
    const method = methodCode(req.method);
    const t = this.#target(req);
    const deadline = this.clock.now() + (req.timeoutMs ?? this.#timeoutMs);
    const address = await this.#resolve(t.host, t.port);
    const target: RequestTarget = { scheme: t.scheme, host: t.host, port: t.port, address };
    const layer = await this.#layerFor(target);

    const options = requestOptions({
      // §6.4 step 5: Uri-Host only for a registered name (the IP literal is the destination);
      // Uri-Port never (it always equals the destination port here).
      uriHost: !isIpLiteral(t.host) && address.family !== "Unix" ? t.host : undefined,
      path: t.path,
      query: t.query,
      contentFormat: req.contentFormat,
      accept: req.accept,
      extra: req.options,
    });

    const tokenLength = req.token?.length ?? this.#options.tokenLength ?? DEFAULT_TOKEN_LENGTH;
    checkTokenLength(tokenLength);
    const payload = payloadBytes(req.payload);
    const size = req.blockSize ?? this.#options.blockSize;
    const type = req.confirmable === false ? MessageType.NON : MessageType.CON;

    const plan: TransferPlan = {
      method,
      options,
      payload,
      tokenLength,
      maxMessageSize: layer.maxMessageSize(address),
      szx: size === undefined ? DEFAULT_BLOCKWISE.preferredSzx : szxFromSize(size),
      explicitBlockSize: req.blockSize !== undefined,
      block2Start: req.block2Start ?? 0,
      maxBodyBytes: this.#options.maxBodyBytes ?? 16 * 1024 * 1024,
    };
    return { layer, address, type, deadline, plan };
  }

  /** GET `uri`. */
  get(uri: string, extra: Omit<CoapClientRequest, "uri" | "method"> = {}): Promise<CoapClientResponse> {
    return this.request({ ...extra, uri, method: "GET" });
  }

  /** POST `payload` to `uri`. */
  post(uri: string, payload: Uint8Array | string, extra: Omit<CoapClientRequest, "uri" | "method" | "payload"> = {}): Promise<CoapClientResponse> {
    return this.request({ ...extra, uri, method: "POST", payload });
  }

  /** PUT `payload` to `uri`. */
  put(uri: string, payload: Uint8Array | string, extra: Omit<CoapClientRequest, "uri" | "method" | "payload"> = {}): Promise<CoapClientResponse> {
    return this.request({ ...extra, uri, method: "PUT", payload });
  }

  /** DELETE `uri`. */
  delete(uri: string, extra: Omit<CoapClientRequest, "uri" | "method"> = {}): Promise<CoapClientResponse> {
    return this.request({ ...extra, uri, method: "DELETE" });
  }

  /**
   * Fails every request in flight with "closed", closes the layers this client created, the
   * UDP sockets it bound and the endpoints its factory made. Endpoints and layers passed in stay open.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#exchanges.abortAll();
    const closing: Promise<void>[] = [];
    for (const [endpoint, slot] of this.#slots) {
      if (slot.ownedLayer) slot.layer.close();
      else if (slot.layer.responseSink === this.#exchanges) slot.layer.responseSink = undefined;
      if (slot.ownedEndpoint) closing.push(endpoint.close());
    }
    this.#slots.clear();
    this.#byTarget.clear();
    await Promise.all(closing);
  }

  #target(req: CoapClientRequest): { scheme: CoapScheme; host: string; port: number; path: readonly string[]; query: readonly string[] } {
    if (req.uri !== undefined) return parseCoapUri(req.uri);
    if (req.host === undefined) throw new CoapClientError("bad-uri", "a request needs a uri or a host");
    const scheme = req.scheme ?? "coap";
    const path = typeof req.path === "string" ? parseCoapUri(`coap://x/${req.path.replace(/^\//, "")}`).path : (req.path ?? []);
    const query = typeof req.query === "string" ? req.query.replace(/^\?/, "").split("&").filter((q) => q !== "") : (req.query ?? []);
    const host = req.host.startsWith("[") ? req.host.slice(1, -1) : req.host;
    return { scheme, host, port: req.port ?? defaultPort(scheme), path, query };
  }

  async #resolve(host: string, port: number): Promise<PeerAddress> {
    if (isIpLiteral(host)) return { address: host, port, family: host.includes(":") ? "IPv6" : "IPv4" };
    if (host.startsWith("/")) return { address: host, port: 0, family: "Unix" }; // a Unix-domain socket path
    try {
      const r = await (this.#options.lookup ?? dnsLookup)(host);
      return { address: r.address, port, family: r.family === 6 ? "IPv6" : "IPv4" };
    } catch {
      throw new CoapClientError("resolve-failed", `cannot resolve ${host}`);
    }
  }

  #layerFor(target: RequestTarget): Promise<MessageLayer> {
    const o = this.#options;
    if (o.layer && o.layer.scheme === target.scheme) return Promise.resolve(o.layer);
    if (o.endpoint && o.endpoint.scheme === target.scheme) return Promise.resolve(this.#layerForEndpoint(o.endpoint, false));
    const key = `${target.scheme}|${peerKey(target.address)}`;
    let p = this.#byTarget.get(key);
    if (!p) {
      p = this.#fromLayerFactory(target, key).then(
        (layer) => layer ?? this.#endpointFor(target).then(([ep, owned]) => this.#layerForEndpoint(ep, owned)),
      );
      p.catch(() => this.#byTarget.delete(key)); // a failed connect may be retried
      this.#byTarget.set(key, p);
    }
    return p;
  }

  /** A layer from the layer factory (adopted as owned), or undefined when it has none for `target`. */
  async #fromLayerFactory(target: RequestTarget, key: string): Promise<MessageLayer | undefined> {
    const factory = this.#options.layerFactory;
    if (!factory) return undefined;
    let layer: MessageLayer | undefined;
    const onClosed = (): void => {
      this.#byTarget.delete(key);
      if (!layer) return;
      this.#exchanges.abortAll(layer);
      this.#slots.delete(layer.endpoint);
    };
    try {
      layer = await factory(target, onClosed);
    } catch (e) {
      if (e instanceof CoapClientError) throw e;
      throw new CoapClientError("connect-failed", `cannot connect to ${target.scheme}://${target.host}:${target.port}: ${(e as Error).message}`, { cause: e });
    }
    if (!layer) return undefined;
    if (this.#closed) {
      layer.close();
      await layer.endpoint.close();
      throw new CoapClientError("closed", "client closed");
    }
    this.#adopt(layer.endpoint, layer, true, true);
    return layer;
  }

  async #endpointFor(target: RequestTarget): Promise<[DatagramEndpoint, boolean]> {
    if (this.#options.endpointFactory) return [await this.#options.endpointFactory(target), true];
    if (target.scheme !== "coap") {
      throw new CoapClientError("unsupported-scheme", "coaps:// needs a DTLS endpoint factory (CoapClientOptions.endpointFactory)");
    }
    const family = target.address.family;
    if (family === "Unix") throw new CoapClientError("unsupported-scheme", "Unix-domain targets need a layerFactory (coap/stream/client-factory.ts)");
    let ep = this.#udp.get(family);
    if (!ep) {
      ep = UdpEndpoint.bind({ address: family === "IPv6" ? "::" : "0.0.0.0", port: 0 });
      ep.catch(() => this.#udp.delete(family)); // let a later request try again
      this.#udp.set(family, ep);
    }
    return [await ep, true];
  }

  #layerForEndpoint(endpoint: DatagramEndpoint, ownedEndpoint: boolean): MessageLayer {
    const slot = this.#slots.get(endpoint);
    if (slot) return slot.layer;
    const o = this.#options;
    const layer = new MessageLayer(endpoint, { clock: this.clock, transmission: o.transmission, dedup: o.dedup, random: o.random });
    this.#adopt(endpoint, layer, true, ownedEndpoint);
    return layer;
  }

  #adopt(endpoint: DatagramEndpoint, layer: MessageLayer, ownedLayer: boolean, ownedEndpoint: boolean): void {
    layer.responseSink = this.#exchanges;
    this.#slots.set(endpoint, { layer, ownedLayer, ownedEndpoint });
  }
}
