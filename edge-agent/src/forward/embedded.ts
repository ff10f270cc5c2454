/**
 * EmbeddedCloudForwarder: the cloud app run in process (DESIGN.md §3, embedded mode, the default
 * of `npm start`). No network, but the same code path from the envelope on: a real Request with
 * a signed gateway token goes through `app.fetch`, i.e. through the app's auth, body limit,
 * envelope schema and dispatch, and the answer is read exactly as the HTTP forwarder reads it.
 *
 * The forward module does not import the cloud package (dependency direction, DESIGN.md §1):
 * the caller passes the app (`createDefaultCloudApp()` from `@coaps-edge/cloud/lib`).
 */
import { utf8Encode } from "@coaps-edge/shared";
import { GatewayTokenSource } from "./token-source.js";
import { buildRequestEnvelope, failureResult, interpretAnswer, interpretRegistryAnswer, type CloudAnswer } from "./exchange.js";
import type { CloudForwarder, ForwardFailure, ForwardRequest, ForwardResult, RegistryResult } from "./types.js";

/** What the forwarder needs of the app: Hono's `app.fetch(request, env)` fits. */
export interface FetchApp {
  fetch(request: Request, env?: Record<string, unknown>): Response | Promise<Response>;
}

export interface EmbeddedCloudForwarderOptions {
  readonly app: FetchApp;
  readonly gatewayId: string;
  /** The gateway's Ed25519 private key (base64url seed, or 32 bytes). An ephemeral one is fine. */
  readonly gatewayKey: string | Uint8Array;
  /**
   * The Worker environment for the app. Default: `{GATEWAY_KEYS: {"<gatewayId>": "<public key>"}}`
   * derived from `gatewayKey`. When given, its GATEWAY_KEYS must list this gateway.
   */
  readonly env?: Record<string, unknown>;
  /** A handler slower than this is answered 5.04; default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Wall clock, Unix ms (token times); default Date.now. */
  readonly now?: () => number;
}

/** Base URL of the in-process requests (never resolved). */
const ORIGIN = "http://embedded.coaps-edge.invalid";

export class EmbeddedCloudForwarder implements CloudForwarder {
  readonly #app: FetchApp;
  readonly #tokens: GatewayTokenSource;
  readonly #env: Record<string, unknown>;
  readonly #timeoutMs: number;
  #closed = false;

  constructor(options: EmbeddedCloudForwarderOptions) {
    this.#app = options.app;
    this.#tokens = new GatewayTokenSource({
      gatewayId: options.gatewayId,
      gatewayKey: options.gatewayKey,
      ...(options.now !== undefined && { now: options.now }),
    });
    this.#env = options.env ?? { GATEWAY_KEYS: JSON.stringify({ [options.gatewayId]: this.#tokens.publicKey }) };
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** The gateway's public key (base64url). */
  get publicKey(): string {
    return this.#tokens.publicKey;
  }

  async forward(request: ForwardRequest): Promise<ForwardResult> {
    const built = buildRequestEnvelope(request, this.#tokens.gatewayId);
    if (!built.ok) return built.result;
    const outcome = await this.#call("POST", "/v1/coap", JSON.stringify(built.envelope), request.signal);
    return outcome.ok ? interpretAnswer(outcome.answer) : failureResult(outcome.failure);
  }

  async fetchRegistry(): Promise<RegistryResult> {
    const outcome = await this.#call("GET", "/v1/registry", undefined, undefined);
    return outcome.ok ? interpretRegistryAnswer(outcome.answer) : { ok: false, failure: outcome.failure };
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  async #call(
    method: "GET" | "POST",
    path: string,
    body: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ ok: true; answer: CloudAnswer } | { ok: false; failure: ForwardFailure }> {
    if (this.#closed) return { ok: false, failure: { kind: "overloaded", message: "forwarder closed" } };
    const request = new Request(ORIGIN + path, {
      method,
      headers: {
        authorization: `Bearer ${this.#tokens.current()}`,
        ...(body !== undefined && { "content-type": "application/json", "content-length": String(utf8Encode(body).length) }),
      },
      ...(body !== undefined && { body }),
    });
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), this.#timeoutMs);
      onAbort = () => resolve("timeout");
      if (signal?.aborted) resolve("timeout");
      signal?.addEventListener("abort", onAbort, { once: true });
    });
    try {
      const run = (async () => {
        const res = await this.#app.fetch(request, this.#env);
        return { status: res.status, headers: res.headers, body: new Uint8Array(await res.arrayBuffer()) } satisfies CloudAnswer;
      })();
      const answer = await Promise.race([run, timeout]);
      if (answer === "timeout") {
        run.catch(() => undefined); // the handler may still finish or fail later: nobody listens
        return { ok: false, failure: { kind: "timeout", message: `cloud handler did not answer within ${this.#timeoutMs} ms` } };
      }
      return { ok: true, answer };
    } catch (err) {
      // Hono turns handler errors into responses; reaching here means the app itself broke.
      return { ok: false, failure: { kind: "invalid-response", message: `embedded app failed: ${err instanceof Error ? err.message : String(err)}` } };
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
    }
  }
}
