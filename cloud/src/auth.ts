/**
 * Gateway authentication (DESIGN.md §3) as Hono middleware, in hono's own style
 * (src/middleware/cors): `gatewayAuth(options)` resolves its options once and returns the
 * handler. Every request to /v1/* must carry `Authorization: Bearer <gateway token>`; the token
 * is verified against the gateway public keys (env GATEWAY_KEYS) through a cache of verified
 * tokens. Anything wrong → 401 and the request goes no further: no envelope parsing, no handler.
 */
import { GatewayKeysSchema, GatewayTokenVerifier, type GatewayKeyLookup, type GatewayKeys } from "@coaps-edge/shared";
import type { Context, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";

/** The Worker environment the cloud app reads. */
export interface CloudBindings {
  /**
   * Gateway public keys: JSON text `{"<gateway id>": "<Ed25519 public key, base64url>"}` (a
   * wrangler var or secret), or the same as an object (wrangler JSON vars arrive parsed).
   */
  GATEWAY_KEYS?: string | Record<string, string>;
  [binding: string]: unknown;
}

/** Hono generics of the cloud app: bindings plus the authenticated gateway id. */
export interface CloudEnv {
  Bindings: CloudBindings;
  Variables: { gatewayId: string };
}

export interface GatewayAuthOptions {
  /** Keys to check against; default: parsed from `c.env.GATEWAY_KEYS` on each request (cached by value). */
  readonly keys?: GatewayKeyLookup;
  /** Shares a cache between apps; default: one verifier per middleware instance. */
  readonly verifier?: GatewayTokenVerifier;
  /** Wall clock in Unix ms; default Date.now. */
  readonly now?: () => number;
  /** Seconds of clock skew tolerated; default 30. */
  readonly clockSkewSeconds?: number;
}

/** JSON error answer used for every HTTP-level failure of the app. */
export function httpError(status: 400 | 401 | 403 | 404 | 413 | 500, error: string, message: string, headers: Record<string, string> = {}): HTTPException {
  const res = new Response(JSON.stringify({ error, message }), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
  return new HTTPException(status, { res, message });
}

/** Middleware: authenticates the gateway token and sets `c.var.gatewayId`. */
export function gatewayAuth(options: GatewayAuthOptions = {}): MiddlewareHandler<CloudEnv> {
  const verifier = options.verifier ?? new GatewayTokenVerifier({ clockSkewSeconds: options.clockSkewSeconds ?? 30 });
  const now = options.now ?? Date.now;
  const fixedKeys = options.keys;
  const envKeys = envKeyParser();

  return async function gatewayAuthMiddleware(c, next) {
    const header = c.req.header("authorization") ?? "";
    const m = /^Bearer +([A-Za-z0-9._-]+)$/i.exec(header); // RFC 9110 §11.1: the scheme is case-insensitive
    // RFC 6750 §3: tell the client which scheme, and that the token (not the request) was bad.
    const challenge = { "www-authenticate": 'Bearer realm="coaps-edge", error="invalid_token"' };
    if (!m) throw httpError(401, "missing-token", "Authorization: Bearer <gateway token> required", { "www-authenticate": 'Bearer realm="coaps-edge"' });
    const keys = fixedKeys ?? envKeys(c);
    const result = verifier.verify(m[1]!, keys, now());
    if (!result.ok) throw httpError(401, result.error, result.message, challenge);
    c.set("gatewayId", result.gatewayId);
    await next();
  };
}

/** Parses GATEWAY_KEYS once per distinct value; a broken value is a 500 (misconfiguration), not a 401. */
function envKeyParser(): (c: Context<CloudEnv>) => GatewayKeys {
  let lastRaw: unknown = Symbol("none");
  let lastKeys: GatewayKeys = {};
  return (c) => {
    const raw = c.env?.GATEWAY_KEYS;
    if (raw === lastRaw) return lastKeys;
    if (raw === undefined || raw === "") {
      lastRaw = raw;
      lastKeys = {};
      return lastKeys;
    }
    let value: unknown = raw;
    if (typeof raw === "string") {
      try {
        value = JSON.parse(raw);
      } catch {
        throw httpError(500, "bad-config", "GATEWAY_KEYS is not JSON");
      }
    }
    const parsed = GatewayKeysSchema.safeParse(value);
    if (!parsed.success) throw httpError(500, "bad-config", 'GATEWAY_KEYS must be {"<gateway id>": "<base64url Ed25519 public key>"}');
    lastRaw = raw;
    lastKeys = parsed.data;
    return lastKeys;
  };
}
