/**
 * Gateway health (issue 10): each edge agent POSTs a health report on a schedule; the Worker
 * keeps the last one per gateway and shows them to operators.
 *
 *     POST /v1/health     gateway token (as /v1/coap) → 204; body: GatewayHealthReport JSON
 *     GET  /v1/gateways   operator token → {gateways: [{gatewayId, receivedAt, ageSeconds, report}]}
 *
 * Operator auth: `Authorization: Bearer <OPERATOR_TOKEN>`, the token a Worker secret
 * (`wrangler secret put OPERATOR_TOKEN`) or `GatewayRoutesOptions.operatorToken`. Without one
 * configured, GET /v1/gateways is refused (403): gateway tokens never read other gateways' data.
 *
 * Storage: the KV namespace bound as GATEWAY_HEALTH when there is one (key "health:<gatewayId>",
 * last write wins — exactly "the last report"), else an in-memory store per app instance
 * (embedded mode, tests; in a Worker without the binding it lasts as long as the isolate).
 */
import { GatewayHealthReportSchema, MAX_HEALTH_REPORT_BYTES, type GatewayHealthReport } from "@coaps-edge/shared";
import type { Context, Hono, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { gatewayAuth, httpError, type CloudEnv, type GatewayAuthOptions } from "./auth.js";
import { readJsonBody } from "./json-body.js";

/** One stored report. */
export interface GatewayHealthRecord {
  readonly gatewayId: string;
  /** When the Worker received it (ISO 8601). */
  readonly receivedAt: string;
  readonly report: GatewayHealthReport;
}

/** Where the last report per gateway is kept. */
export interface GatewayHealthStore {
  put(record: GatewayHealthRecord): Promise<void>;
  list(): Promise<GatewayHealthRecord[]>;
}

/** In process: a Map, last write wins. */
export class MemoryHealthStore implements GatewayHealthStore {
  readonly #records = new Map<string, GatewayHealthRecord>();
  async put(record: GatewayHealthRecord): Promise<void> {
    this.#records.set(record.gatewayId, record);
  }
  async list(): Promise<GatewayHealthRecord[]> {
    return [...this.#records.values()];
  }
}

/** The part of a Workers KV namespace this uses. */
export interface KvLike {
  get(key: string, type: "json"): Promise<unknown>;
  put(key: string, value: string): Promise<void>;
  list(options: { prefix: string; cursor?: string }): Promise<{ keys: { name: string }[]; list_complete: boolean; cursor?: string }>;
}

const KV_PREFIX = "health:";

/** Workers KV: one key per gateway. */
export class KvHealthStore implements GatewayHealthStore {
  constructor(private readonly kv: KvLike) {}
  async put(record: GatewayHealthRecord): Promise<void> {
    await this.kv.put(KV_PREFIX + record.gatewayId, JSON.stringify(record));
  }
  async list(): Promise<GatewayHealthRecord[]> {
    const names: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.kv.list({ prefix: KV_PREFIX, ...(cursor !== undefined && { cursor }) });
      names.push(...page.keys.map((k) => k.name));
      cursor = page.list_complete ? undefined : page.cursor;
    } while (cursor !== undefined);
    const values = await Promise.all(names.map((n) => this.kv.get(n, "json")));
    return values.filter((v): v is GatewayHealthRecord => v !== null && typeof v === "object" && "gatewayId" in v);
  }
}

export interface GatewayRoutesOptions {
  /** Store to use; default the GATEWAY_HEALTH KV binding, else in memory. */
  readonly store?: GatewayHealthStore;
  /** Operator bearer token; default env OPERATOR_TOKEN. */
  readonly operatorToken?: string;
  /** Wall clock, Unix ms; default Date.now. */
  readonly now?: () => number;
}

function isKv(v: unknown): v is KvLike {
  return v !== null && typeof v === "object" && typeof (v as KvLike).put === "function" && typeof (v as KvLike).list === "function";
}

/** Equal-time comparison, so the token cannot be guessed byte by byte from response times. */
function sameToken(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ (y[i % Math.max(1, y.length)] ?? 0);
  return diff === 0;
}

function operatorAuth(options: GatewayRoutesOptions): MiddlewareHandler<CloudEnv> {
  return async (c, next) => {
    const env = c.env?.OPERATOR_TOKEN;
    const expected = options.operatorToken ?? (typeof env === "string" && env !== "" ? env : undefined);
    if (expected === undefined) throw httpError(403, "operator-token-unset", "no OPERATOR_TOKEN is configured: GET /v1/gateways is disabled");
    const m = /^Bearer +(\S+)$/i.exec(c.req.header("authorization") ?? "");
    if (!m || !sameToken(m[1]!, expected)) {
      throw httpError(401, "bad-operator-token", "Authorization: Bearer <operator token> required", { "www-authenticate": 'Bearer realm="coaps-edge-operators"' });
    }
    await next();
  };
}

/**
 * Registers POST /v1/health and GET /v1/gateways. Call before `app.use("/v1/*", gatewayAuth)`:
 * these routes bring their own auth (GET /v1/gateways takes an operator token, not a gateway's).
 */
export function registerGatewayRoutes(app: Hono<CloudEnv>, options: GatewayRoutesOptions & { auth?: GatewayAuthOptions } = {}): void {
  const memory = new MemoryHealthStore();
  const now = options.now ?? Date.now;
  const storeOf = (c: Context<CloudEnv>): GatewayHealthStore => {
    if (options.store) return options.store;
    const kv = c.env?.GATEWAY_HEALTH;
    return isKv(kv) ? new KvHealthStore(kv) : memory;
  };

  app.post(
    "/v1/health",
    gatewayAuth(options.auth),
    bodyLimit({ maxSize: MAX_HEALTH_REPORT_BYTES, onError: () => httpError(413, "too-large", `health report larger than ${MAX_HEALTH_REPORT_BYTES} bytes`).getResponse() }),
    async (c) => {
      const report = await readJsonBody(c, GatewayHealthReportSchema, "bad-report");
      await storeOf(c).put({ gatewayId: c.var.gatewayId, receivedAt: new Date(now()).toISOString(), report });
      return c.body(null, 204);
    },
  );

  app.get("/v1/gateways", operatorAuth(options), async (c) => {
    const t = now();
    const records = (await storeOf(c).list()).sort((a, b) => a.gatewayId.localeCompare(b.gatewayId));
    return c.json({
      gateways: records.map((r) => ({ ...r, ageSeconds: Math.max(0, Math.round((t - Date.parse(r.receivedAt)) / 1000)) })),
    });
  });
}
