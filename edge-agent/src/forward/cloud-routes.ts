/**
 * CloudRoutes: the cloud registry in front of a forwarder. Requests for paths the registry does
 * not know are answered 4.04, and methods a resource lacks 4.05, at the edge: no round trip, and
 * the same diagnostics the Worker would send (cloud/src/dispatch.ts), so a device cannot tell
 * where the answer was made (DESIGN.md §3).
 *
 * Keeping the registry current (remote mode; the embedded app's registry cannot change):
 *   - it is fetched at start (bounded by the forwarder's timeout; a failure does not stop the
 *     agent);
 *   - every `refreshIntervalMs` (config cloud.registryRefreshSeconds);
 *   - on a miss: a path or method the registry lacks may have been deployed since the last
 *     fetch, so the registry is fetched again before answering 4.04/4.05 — at most once per
 *     `missRefreshMs`, so a device (or attacker) probing random paths costs one fetch per
 *     interval, not one per request; misses within the interval are answered at once;
 *   - when the Worker itself answers 4.04/4.05 for a path the registry listed (a route was
 *     removed), in the background under the same limit.
 * While no registry was ever fetched (the cloud was down at start), every request is forwarded
 * and the cloud decides; each request then asks for a (rate-limited) fetch.
 * Refreshes are single-flight: concurrent misses wait for the same fetch.
 *
 * Per-peer concurrency (issue 8): one device may have at most `maxPerPeer` requests at the
 * cloud; beyond it the edge answers 5.03 Service Unavailable with Max-Age (RFC 7252 §5.9.3.4),
 * so one chatty or hostile device cannot take the forwarder's whole queue.
 */
import { Code, methodName, utf8Encode, type LinkDescription } from "@coaps-edge/shared";
import { systemClock, type Clock, type TimerHandle } from "../util/clock.js";
import { RegistryView } from "./registry-view.js";
import type { CloudForwarder, ForwardRequest, ForwardResult } from "./types.js";

export interface CloudRoutesOptions {
  readonly forwarder: CloudForwarder;
  /** Periodic registry fetch in ms; 0 (default) never (embedded mode). */
  readonly refreshIntervalMs?: number;
  /** A miss fetches the registry again at most this often, ms; 0 never. Default 10 000. */
  readonly missRefreshMs?: number;
  readonly clock?: Clock;
  readonly logger?: CloudRoutesLogger;
  /** Cloud requests one peer (address and port) may have in flight (default unlimited). */
  readonly maxPerPeer?: number;
  /** Max-Age (s) of the 5.03 for a peer over `maxPerPeer` (default 1). */
  readonly busyMaxAge?: number;
}

/** pino fits. */
export interface CloudRoutesLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface CloudRoutesStats {
  /** Requests sent to the cloud. */
  forwarded: number;
  /** Of those, answered by the edge because the exchange failed (5.02/5.03/5.04 …). */
  failures: number;
  /** 4.04 answered from the registry. */
  notFound: number;
  /** 4.05 answered from the registry. */
  methodNotAllowed: number;
  registryFetches: number;
  registryFailures: number;
}

/** Forwarded requests by the code the device got, edge-made or the cloud's (metrics: ok, 5.03, 5.04, 5.02, other). */
export interface ForwardOutcomes {
  /** Of `serviceUnavailable`: answered at the edge because the peer had `maxPerPeer` in flight. */
  peerLimited: number;
  ok: number;
  serviceUnavailable: number;
  gatewayTimeout: number;
  badGateway: number;
  other: number;
}

const NO_PAYLOAD = new Uint8Array(0);

export class CloudRoutes {
  readonly stats: CloudRoutesStats = {
    forwarded: 0,
    failures: 0,
    notFound: 0,
    methodNotAllowed: 0,
    registryFetches: 0,
    registryFailures: 0,
  };
  readonly outcomes: ForwardOutcomes = { peerLimited: 0, ok: 0, serviceUnavailable: 0, gatewayTimeout: 0, badGateway: 0, other: 0 };
  readonly forwarder: CloudForwarder;
  readonly #clock: Clock;
  readonly #log: CloudRoutesLogger | undefined;
  readonly #interval: number;
  readonly #missInterval: number;
  readonly #maxPerPeer: number;
  readonly #busyMaxAge: number;
  /** In-flight cloud requests per peer; an entry exists only while > 0 (bounded by active peers). */
  readonly #perPeer = new Map<string, number>();
  #view: RegistryView | undefined;
  #inFlight: Promise<boolean> | undefined;
  /** clock time of the last fetch attempt; -Infinity before the first. */
  #lastAttempt = -Infinity;
  #timer: TimerHandle | undefined;
  #closed = false;
  /** Whether the last cloud exchange failed (log transitions, not every request). */
  #failing = false;

  constructor(options: CloudRoutesOptions) {
    this.forwarder = options.forwarder;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger;
    this.#interval = options.refreshIntervalMs ?? 0;
    this.#missInterval = options.missRefreshMs ?? 10_000;
    this.#maxPerPeer = options.maxPerPeer ?? Infinity;
    this.#busyMaxAge = options.busyMaxAge ?? 1;
  }

  /** The registry as last fetched; undefined until a fetch succeeded. */
  get view(): RegistryView | undefined {
    return this.#view;
  }

  /** Fetches the registry (a failure is logged, not thrown) and starts the periodic refresh. */
  async start(): Promise<void> {
    await this.refresh(true);
    this.#schedule();
  }

  /**
   * Fetches the registry unless a fetch ran less than `missRefreshMs` ago (`force` skips that
   * check); joins a fetch in flight. Resolves with whether the view is now fresh. Never throws.
   */
  refresh(force = false): Promise<boolean> {
    if (this.#inFlight) return this.#inFlight;
    if (this.#closed) return Promise.resolve(false);
    if (!force && (this.#missInterval <= 0 || this.#clock.now() - this.#lastAttempt < this.#missInterval)) return Promise.resolve(false);
    this.#lastAttempt = this.#clock.now();
    this.stats.registryFetches++;
    const p = this.forwarder.fetchRegistry().then((r) => {
      if (r.ok) {
        const first = this.#view === undefined;
        this.#view = new RegistryView(r.registry);
        if (first) this.#log?.info({ resources: r.registry.resources.length }, "cloud registry loaded");
        return true;
      }
      this.stats.registryFailures++;
      this.#log?.warn({ kind: r.failure.kind, status: r.failure.status }, `cloud registry not fetched: ${r.failure.message}`);
      return false;
    });
    this.#inFlight = p;
    void p.finally(() => (this.#inFlight = undefined));
    return p;
  }

  /** The device's answer to `req`: from the registry (4.04/4.05) or from the cloud. Never throws. */
  async route(req: ForwardRequest): Promise<ForwardResult> {
    if (this.#view === undefined) {
      void this.refresh();
      return this.#forward(req, false);
    }
    let hit = this.#view.lookup(req.uriPath, req.method);
    if (hit.kind !== "found" && (await this.refresh())) hit = this.#view.lookup(req.uriPath, req.method);
    if (hit.kind === "not-found") {
      this.stats.notFound++;
      return { code: Code.NotFound, options: [], payload: utf8Encode(`no resource at /${req.uriPath.join("/")}`) };
    }
    if (hit.kind === "method-not-allowed") {
      this.stats.methodNotAllowed++;
      const name = methodName(req.method);
      return { code: Code.MethodNotAllowed, options: [], payload: name === undefined ? NO_PAYLOAD : utf8Encode(`${name} not allowed on ${hit.resource.path}`) };
    }
    return this.#forward(req, true);
  }

  /** RFC 6690 links of the registry's resources (fetching it first if there is none yet and the limit allows). */
  async links(): Promise<LinkDescription[]> {
    if (this.#view === undefined) await this.refresh();
    return this.#view?.links() ?? [];
  }

  /** Stops refreshing and closes the forwarder (in-flight requests get 5.03). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#timer?.cancel();
    await this.forwarder.close();
  }

  /** Cloud requests in flight for `peer`. */
  inFlightFor(peer: { readonly address: string; readonly port: number }): number {
    return this.#perPeer.get(`${peer.address}|${peer.port}`) ?? 0;
  }

  async #forward(req: ForwardRequest, listed: boolean): Promise<ForwardResult> {
    const key = `${req.peer.address}|${req.peer.port}`;
    const n = this.#perPeer.get(key) ?? 0;
    if (n >= this.#maxPerPeer) {
      this.outcomes.peerLimited++;
      this.outcomes.serviceUnavailable++;
      return { code: Code.ServiceUnavailable, options: [], payload: utf8Encode("too many requests in flight"), maxAge: this.#busyMaxAge };
    }
    this.#perPeer.set(key, n + 1);
    this.stats.forwarded++;
    let result: ForwardResult;
    try {
      result = await this.forwarder.forward(req);
    } finally {
      const left = (this.#perPeer.get(key) ?? 1) - 1;
      if (left > 0) this.#perPeer.set(key, left);
      else this.#perPeer.delete(key);
    }
    this.#countOutcome(result.code);
    if (result.failure) {
      this.stats.failures++;
      if (!this.#failing) this.#log?.warn({ kind: result.failure.kind, status: result.failure.status }, `cloud exchange failed: ${result.failure.message}`);
      else this.#log?.debug({ kind: result.failure.kind }, result.failure.message);
      this.#failing = true;
    } else {
      if (this.#failing) this.#log?.info({}, "cloud answers again");
      this.#failing = false;
      // The Worker no longer has what the registry listed: the registry is stale.
      if (listed && (result.code === Code.NotFound || result.code === Code.MethodNotAllowed)) void this.refresh();
    }
    return result;
  }

  #countOutcome(code: number): void {
    const o = this.outcomes;
    if (code === Code.ServiceUnavailable) o.serviceUnavailable++;
    else if (code === Code.GatewayTimeout) o.gatewayTimeout++;
    else if (code === Code.BadGateway) o.badGateway++;
    else if (code >> 5 === 2) o.ok++;
    else o.other++;
  }

  #schedule(): void {
    if (this.#interval <= 0 || this.#closed) return;
    this.#timer = this.#clock.setTimer(this.#interval, () => {
      void this.refresh(true).finally(() => this.#schedule());
    });
  }
}
