/**
 * A small client for the OpenThread Border Router REST API that otbr-agent serves on the host
 * (default http://127.0.0.1:8081 when built with OTBR_REST=ON; ot-br-posix openapi.yaml).
 * Read-only: it GETs `/node` (or, when a build cannot answer that in one piece, `/node/state`,
 * `/node/network-name`, `/node/leader-data`, `/node/num-of-router`, `/node/rloc16`,
 * `/node/ext-address`) and `/diagnostics`.
 *
 * Every read has a short timeout and a size cap and resolves to a value: a status, or a typed
 * `OtbrUnavailable` saying why not. Nothing here throws; an absent OTBR is a normal condition.
 */
import {
  countDiagnostics,
  normaliseKeys,
  parseHex64,
  parseLeaderData,
  parseNode,
  parseRloc16,
  parseRole,
  type NodeFields,
} from "./parse.js";
import type {
  OtbrResult,
  OtbrUnavailable,
  OtbrUnavailableReason,
  ThreadLeaderData,
  ThreadNodeStatus,
  ThreadRole,
  ThreadStatus,
} from "./types.js";

/** Where otbr-agent's REST server listens by default (openapi.yaml `servers`: port 8081). */
export const OTBR_DEFAULT_URL = "http://127.0.0.1:8081";
/** Per-request timeout for the `/node` endpoints: the OTBR answers these from memory. */
export const OTBR_DEFAULT_TIMEOUT_MS = 1500;
/**
 * Timeout for `/diagnostics`: older otbr-agents send a network diagnostic query over the mesh
 * and collect answers before replying, which takes seconds.
 */
export const OTBR_DEFAULT_DIAGNOSTICS_TIMEOUT_MS = 5000;
/** Largest body read; a diagnostics answer of a large mesh is tens of KiB. */
export const OTBR_MAX_BODY_BYTES = 1 << 20;

export interface OtbrClientOptions {
  /** Base URL of the REST API (default {@link OTBR_DEFAULT_URL}); a path prefix is kept. */
  readonly baseUrl?: string;
  /** Timeout of each `/node*` request in ms (default {@link OTBR_DEFAULT_TIMEOUT_MS}). */
  readonly timeoutMs?: number;
  /** Also read `/diagnostics` for the neighbour count (default true). */
  readonly diagnostics?: boolean;
  /** Timeout of the `/diagnostics` request in ms (default {@link OTBR_DEFAULT_DIAGNOSTICS_TIMEOUT_MS}). */
  readonly diagnosticsTimeoutMs?: number;
  /** Body size cap in bytes (default {@link OTBR_MAX_BODY_BYTES}). */
  readonly maxBodyBytes?: number;
  /** The fetch to use (default the global one: Node's undici). */
  readonly fetch?: typeof globalThis.fetch;
}

/** Reads the border router's Thread state over the OTBR REST API. Methods never throw. */
export class OtbrClient {
  readonly baseUrl: string;
  readonly #timeoutMs: number;
  readonly #diagnostics: boolean;
  readonly #diagnosticsTimeoutMs: number;
  readonly #maxBodyBytes: number;
  readonly #fetch: typeof globalThis.fetch;

  constructor(options: OtbrClientOptions = {}) {
    this.baseUrl = (options.baseUrl ?? OTBR_DEFAULT_URL).replace(/\/+$/, "");
    this.#timeoutMs = options.timeoutMs ?? OTBR_DEFAULT_TIMEOUT_MS;
    this.#diagnostics = options.diagnostics ?? true;
    this.#diagnosticsTimeoutMs = options.diagnosticsTimeoutMs ?? OTBR_DEFAULT_DIAGNOSTICS_TIMEOUT_MS;
    this.#maxBodyBytes = options.maxBodyBytes ?? OTBR_MAX_BODY_BYTES;
    // Called through a wrapper: a bare reference to the global fetch would run with `this` set to the client.
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /**
   * The Thread status of this border router: `/node` (falling back to the per-field endpoints
   * when `/node` answers with an error status or an unexpected shape), then `/diagnostics` for
   * the neighbour count if enabled. A failed `/diagnostics` only leaves the counts out.
   */
  async readStatus(): Promise<ThreadStatus> {
    let fields: NodeFields;
    let source: ThreadNodeStatus["source"] = "node";
    const node = await this.getNode();
    if (node.ok) {
      fields = node.value;
    } else if (node.error.reason === "http-error" || node.error.reason === "malformed") {
      const fallback = await this.#readNodeFields();
      if (!fallback.ok) return fallback.error;
      fields = fallback.value;
      source = "node-fields";
    } else {
      return node.error;
    }
    let status: ThreadNodeStatus = { available: true, ...fields, source };
    if (fields.leaderData) status = { ...status, partitionId: fields.leaderData.partitionId };
    if (this.#diagnostics) {
      const diag = await this.getJson("/diagnostics", this.#diagnosticsTimeoutMs);
      const counts = diag.ok ? countDiagnostics(normaliseKeys(diag.value), fields) : undefined;
      if (counts) status = { ...status, ...counts };
    }
    return status;
  }

  /** `GET /node`: the node's role, network name, leader data, addresses in one object. */
  async getNode(): Promise<OtbrResult<NodeFields>> {
    return this.#decoded("/node", (body) => parseNode(normaliseKeys(body)), "a node object with a state/role");
  }

  /** `GET /node/state`: the Thread role. */
  async getState(): Promise<OtbrResult<ThreadRole | "unknown">> {
    return this.#decoded("/node/state", parseRole, 'a role string such as "leader"');
  }

  /** `GET /node/network-name`. */
  async getNetworkName(): Promise<OtbrResult<string>> {
    return this.#decoded("/node/network-name", (b) => (typeof b === "string" ? b : undefined), "a JSON string");
  }

  /** `GET /node/leader-data`. */
  async getLeaderData(): Promise<OtbrResult<ThreadLeaderData>> {
    return this.#decoded("/node/leader-data", (b) => parseLeaderData(normaliseKeys(b)), "a LeaderData object");
  }

  /** `GET /node/num-of-router`. */
  async getRouterCount(): Promise<OtbrResult<number>> {
    const isCount = (b: unknown) => (typeof b === "number" && Number.isInteger(b) && b >= 0 ? b : undefined);
    return this.#decoded("/node/num-of-router", isCount, "a number");
  }

  /** One GET returning the parsed JSON body of a 200 answer, or why not. */
  async getJson(path: string, timeoutMs = this.#timeoutMs): Promise<OtbrResult<unknown>> {
    let url: URL;
    try {
      url = new URL(this.baseUrl + path);
    } catch {
      return fail("bad-url", path, `"${this.baseUrl}" is not a URL`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      return fail("bad-url", path, `"${this.baseUrl}" is not an http(s) URL`);
    }
    const signal = AbortSignal.timeout(timeoutMs);
    let text: string;
    let status: number;
    try {
      const response = await this.#fetch(url, { signal, headers: { accept: "application/json" } });
      status = response.status;
      const body = await readCapped(response, this.#maxBodyBytes);
      if (body === undefined) return fail("malformed", path, `answer larger than ${this.#maxBodyBytes} bytes`);
      text = body;
    } catch (error) {
      return fromFetchError(error, path, url, timeoutMs);
    }
    if (status !== 200) return fail("http-error", path, `HTTP ${status} from ${url.href}`, status);
    try {
      return { ok: true, value: JSON.parse(text) as unknown };
    } catch {
      return fail("malformed", path, `answer from ${url.href} is not JSON`);
    }
  }

  async #decoded<T>(path: string, decode: (body: unknown) => T | undefined, what: string): Promise<OtbrResult<T>> {
    const got = await this.getJson(path);
    if (!got.ok) return got;
    const value = decode(got.value);
    return value === undefined ? fail("malformed", path, `expected ${what} from ${path}`) : { ok: true, value };
  }

  /** The `/node` fields from their own endpoints; only the role is required. */
  async #readNodeFields(): Promise<OtbrResult<NodeFields>> {
    const [state, name, leader, routers, rloc16, extAddress] = await Promise.all([
      this.getState(),
      this.getNetworkName(),
      this.getLeaderData(),
      this.getRouterCount(),
      this.#decoded("/node/rloc16", parseRloc16, "a number"),
      this.#decoded("/node/ext-address", parseHex64, "16 hex digits"),
    ]);
    if (!state.ok) return state;
    return {
      ok: true,
      value: {
        role: state.value,
        ...(name.ok ? { networkName: name.value } : {}),
        ...(leader.ok ? { leaderData: leader.value } : {}),
        ...(routers.ok ? { routerCount: routers.value } : {}),
        ...(rloc16.ok ? { rloc16: rloc16.value } : {}),
        ...(extAddress.ok ? { extAddress: extAddress.value } : {}),
      },
    };
  }
}

/** Reads the Thread status once with a fresh client (see {@link OtbrClient.readStatus}). */
export function readThreadStatus(options: OtbrClientOptions = {}): Promise<ThreadStatus> {
  return new OtbrClient(options).readStatus();
}

function fail(reason: OtbrUnavailableReason, path: string, detail: string, status?: number): { ok: false; error: OtbrUnavailable } {
  const error: OtbrUnavailable =
    status === undefined ? { available: false, reason, path, detail } : { available: false, reason, path, detail, status };
  return { ok: false, error };
}

/** The body as text, or undefined past `max` bytes (the rest is not read). */
async function readCapped(response: Response, max: number): Promise<string | undefined> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Timeouts and aborts are "timeout"; every other fetch failure means nothing usable listens there. */
function fromFetchError(error: unknown, path: string, url: URL, timeoutMs: number): { ok: false; error: OtbrUnavailable } {
  const name = error instanceof Error || error instanceof DOMException ? error.name : "";
  if (name === "TimeoutError" || name === "AbortError") {
    return fail("timeout", path, `no answer from ${url.href} within ${timeoutMs} ms`);
  }
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  const why = typeof cause?.code === "string" ? cause.code : typeof cause?.message === "string" ? cause.message : String(error);
  return fail("unreachable", path, `cannot reach the OTBR REST API at ${url.origin} (${why}); is otbr-agent running with OTBR_REST?`);
}
