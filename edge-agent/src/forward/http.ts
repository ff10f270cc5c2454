/**
 * HttpCloudForwarder: the edge → Worker leg over HTTPS (DESIGN.md §3). One POST /v1/coap per
 * request with `Authorization: Bearer <gateway token>`; Node's fetch (undici) keeps connections
 * alive and reuses them, so steady traffic pays no TCP/TLS handshake per request.
 *
 * Bounded: at most `maxConcurrent` exchanges in flight, `maxQueued` waiting (beyond that: 5.03
 * at once, so a burst of devices cannot pile up memory). The timeout covers queueing too: a
 * device's request is answered within `timeoutMs` whatever happens.
 */
import { GatewayTokenSource } from "./token-source.js";
import { DEFAULT_UNAVAILABLE_MAX_AGE_S, buildRequestEnvelope, failureResult, interpretAnswer, interpretRegistryAnswer, type CloudAnswer } from "./exchange.js";
import type { CloudForwarder, ForwardFailure, ForwardRequest, ForwardResult, RegistryResult } from "./types.js";

export interface HttpCloudForwarderOptions {
  /** Base URL of the Worker, e.g. "https://coaps-edge-cloud.example.workers.dev". */
  readonly url: string;
  readonly gatewayId: string;
  /** The gateway's Ed25519 private key (base64url seed, or 32 bytes). */
  readonly gatewayKey: string | Uint8Array;
  /** Whole exchange, queueing included; default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Exchanges in flight at once; default 32. */
  readonly maxConcurrent?: number;
  /** Exchanges waiting for a slot; default 1024. */
  readonly maxQueued?: number;
  /** Max-Age of 5.03 answers without a Retry-After; default 10 s. */
  readonly unavailableMaxAge?: number;
  /** Larger answers are invalid (5.02); default 4 MiB. */
  readonly maxResponseBytes?: number;
  /** Token lifetime in seconds (≤ 300); default 300. */
  readonly tokenLifetimeSeconds?: number;
  /** Wall clock, Unix ms (token times); default Date.now. */
  readonly now?: () => number;
  /** The fetch to use; default the global one. */
  readonly fetch?: typeof fetch;
}

class Closed extends Error {}

export class HttpCloudForwarder implements CloudForwarder {
  readonly #base: string;
  #tokens: GatewayTokenSource;
  readonly #timeoutMs: number;
  readonly #maxConcurrent: number;
  readonly #maxQueued: number;
  readonly #maxAge: number;
  readonly #maxResponseBytes: number;
  readonly #fetch: typeof fetch;
  readonly #inFlight = new Set<AbortController>();
  readonly #queue: Array<{ go: () => void; fail: (e: Error) => void }> = [];
  #active = 0;
  #closed = false;

  /** Throws RangeError/TypeError on a bad URL, gateway id or key (configuration errors). */
  constructor(options: HttpCloudForwarderOptions) {
    const base = new URL(options.url);
    if (base.protocol !== "https:" && base.protocol !== "http:") throw new TypeError(`cloud url must be http(s): ${options.url}`);
    this.#base = base.href.replace(/\/+$/, "");
    this.#tokens = new GatewayTokenSource({
      gatewayId: options.gatewayId,
      gatewayKey: options.gatewayKey,
      ...(options.tokenLifetimeSeconds !== undefined && { lifetimeSeconds: options.tokenLifetimeSeconds }),
      ...(options.now !== undefined && { now: options.now }),
    });
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#maxConcurrent = Math.max(1, options.maxConcurrent ?? 32);
    this.#maxQueued = Math.max(0, options.maxQueued ?? 1024);
    this.#maxAge = options.unavailableMaxAge ?? DEFAULT_UNAVAILABLE_MAX_AGE_S;
    this.#maxResponseBytes = options.maxResponseBytes ?? 4 * 1024 * 1024;
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  /** The gateway's public key (base64url): what GATEWAY_KEYS in the Worker must list. */
  get publicKey(): string {
    return this.#tokens.publicKey;
  }

  /**
   * Signs from now on with a new gateway key (SIGHUP reload of cloud.keyFile); requests in
   * flight keep the token they left with. Throws RangeError on a bad id or key (the old key stays).
   */
  updateGatewayKey(gatewayId: string, gatewayKey: string): void {
    this.#tokens = new GatewayTokenSource({ gatewayId, gatewayKey });
  }

  /** Exchanges in flight and waiting. */
  get load(): { active: number; queued: number } {
    return { active: this.#active, queued: this.#queue.length };
  }

  async forward(request: ForwardRequest): Promise<ForwardResult> {
    const built = buildRequestEnvelope(request, this.#tokens.gatewayId);
    if (!built.ok) return built.result;
    const outcome = await this.#exchange("POST", "/v1/coap", JSON.stringify(built.envelope), request.signal);
    return outcome.ok ? interpretAnswer(outcome.answer, this.#maxAge) : failureResult(outcome.failure, this.#maxAge);
  }

  async fetchRegistry(): Promise<RegistryResult> {
    const outcome = await this.#exchange("GET", "/v1/registry", undefined, undefined);
    return outcome.ok ? interpretRegistryAnswer(outcome.answer) : { ok: false, failure: outcome.failure };
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const waiter of this.#queue.splice(0)) waiter.fail(new Closed());
    for (const ctrl of this.#inFlight) ctrl.abort(new Closed());
  }

  async #exchange(method: "GET" | "POST", path: string, body: string | undefined, signal: AbortSignal | undefined): Promise<Outcome> {
    if (this.#closed) return fail("overloaded", "forwarder closed");
    const ctrl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ctrl.abort();
    }, this.#timeoutMs);
    const onAbort = () => ctrl.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    let acquired = false;
    try {
      if (signal?.aborted) ctrl.abort();
      await this.#acquire(ctrl.signal);
      acquired = true;
      this.#inFlight.add(ctrl);
      const res = await this.#fetch(this.#base + path, {
        method,
        headers: {
          authorization: `Bearer ${this.#tokens.current()}`,
          accept: "application/json",
          ...(body !== undefined && { "content-type": "application/json" }),
        },
        ...(body !== undefined && { body }),
        signal: ctrl.signal,
      });
      const bytes = await readCapped(res, this.#maxResponseBytes);
      if (bytes === undefined) return fail("invalid-response", `cloud answer larger than ${this.#maxResponseBytes} bytes`, res.status);
      return { ok: true, answer: { status: res.status, headers: res.headers, body: bytes } };
    } catch (err) {
      if (err instanceof Closed || ctrl.signal.reason instanceof Closed || this.#closed) {
        return fail("overloaded", "forwarder closed");
      }
      if (err instanceof QueueFull) return fail("overloaded", "too many requests waiting for the cloud");
      if (timedOut || signal?.aborted) return fail("timeout", `cloud did not answer within ${this.#timeoutMs} ms`);
      return fail("unreachable", `cloud unreachable: ${describe(err)}`);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      this.#inFlight.delete(ctrl);
      if (acquired) this.#release();
    }
  }

  #acquire(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(new Error("aborted"));
    if (this.#active < this.#maxConcurrent) {
      this.#active++;
      return Promise.resolve();
    }
    if (this.#queue.length >= this.#maxQueued) return Promise.reject(new QueueFull());
    return new Promise((resolve, reject) => {
      const waiter = {
        go: () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        },
        fail: (e: Error) => {
          signal.removeEventListener("abort", onAbort);
          reject(e);
        },
      };
      const onAbort = () => {
        const i = this.#queue.indexOf(waiter);
        if (i >= 0) this.#queue.splice(i, 1);
        reject(new Error("aborted"));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  #release(): void {
    const next = this.#queue.shift();
    if (next) next.go(); // the slot passes on: #active unchanged
    else this.#active--;
  }
}

class QueueFull extends Error {}

type Outcome = { ok: true; answer: CloudAnswer } | { ok: false; failure: ForwardFailure };

function fail(kind: ForwardFailure["kind"], message: string, status?: number): Outcome {
  return { ok: false, failure: { kind, message, ...(status !== undefined && { status }) } };
}

/** The body, or undefined if it exceeds `max` bytes (the rest is not read). */
async function readCapped(res: Response, max: number): Promise<Uint8Array | undefined> {
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (declared > max) {
    await res.body?.cancel();
    return undefined;
  }
  if (!res.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > max) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** "ECONNREFUSED", "ENOTFOUND", ...: undici hides the socket error in `cause`. */
function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (cause && typeof cause.code === "string") return cause.code;
  if (cause && typeof cause.message === "string") return cause.message;
  return err instanceof Error ? err.message : String(err);
}
