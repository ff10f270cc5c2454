/**
 * Gateway tokens (DESIGN.md §3): a short-lived bearer token that proves an HTTPS request comes
 * from a gateway holding its Ed25519 key. The edge signs one every few minutes and sends it on
 * every request; the Worker verifies it against the gateway's public key and caches the result
 * until expiry. Why not a signature per request: noble Ed25519 verifies ~500/s per core, ~2 ms of
 * Worker CPU each — a cache hit is a Map lookup. HTTPS already protects the body in transit.
 *
 * The token is a JWT (RFC 7519) in JWS compact serialization (RFC 7515 §7.1) with the EdDSA
 * algorithm (RFC 8037 §3.1), so standard tools can read and check it:
 *
 *     base64url({"alg":"EdDSA","typ":"JWT"}) "." base64url({"sub":"gw-1","iat":…,"exp":…}) "." base64url(sig)
 *
 * `sub` is the gateway id, `iat`/`exp` NumericDates (seconds), `exp - iat` at most 300 s.
 * Keys: base64url (unpadded) 32-byte Ed25519 seed / public key (RFC 8032 §5.1.5).
 * The same code runs in Node and in the Worker: @noble/curves, no node: imports.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import * as z from "zod/mini";
import { utf8Decode, utf8Encode } from "./coap/utf8.js";
import { decodeBase64Url, encodeBase64Url } from "./schemas/base64.js";
import { GatewayIdSchema } from "./schemas/gateway-key.js";

/** DESIGN.md §3: a token lives at most five minutes. */
export const GATEWAY_TOKEN_MAX_LIFETIME_S = 300;
/** Default tolerance between the gateway's clock and the Worker's. */
export const GATEWAY_TOKEN_CLOCK_SKEW_S = 30;
/** Tokens longer than this are malformed without further parsing. */
const MAX_TOKEN_LENGTH = 1024;

const HEADER_B64 = encodeBase64Url(utf8Encode(JSON.stringify({ alg: "EdDSA", typ: "JWT" })));

const HeaderSchema = z.object({ alg: z.literal("EdDSA"), typ: z.optional(z.literal("JWT")), crit: z.optional(z.never()) });
const ClaimsSchema = z.object({
  sub: GatewayIdSchema,
  iat: z.number().check(z.int(), z.minimum(0)),
  exp: z.number().check(z.int(), z.minimum(0)),
});

/** A gateway's key pair, both halves base64url. */
export interface GatewayKeyPair {
  readonly privateKey: string;
  readonly publicKey: string;
}

/** Public keys by gateway id (the Worker's GATEWAY_KEYS), or a lookup function. */
export type GatewayKeyLookup = Readonly<Record<string, string>> | ((gatewayId: string) => string | undefined);

/** Why a token was refused. Every one of them is an HTTP 401 and never reaches a handler. */
export type GatewayTokenError =
  /** not three base64url parts, bad JSON, wrong alg, bad claims, lifetime not in 1..300 s */
  | "malformed"
  /** no public key (or an unusable one) for the token's gateway id */
  | "unknown-key"
  /** the signature does not verify under that gateway's key */
  | "bad-signature"
  /** `exp` is past (beyond the clock skew) */
  | "expired"
  /** `iat` is in the future (beyond the clock skew) */
  | "future";

/** Outcome of `verifyGatewayToken`. Times in seconds since the Unix epoch. */
export type GatewayTokenResult =
  | { readonly ok: true; readonly gatewayId: string; readonly issuedAt: number; readonly expiresAt: number }
  | { readonly ok: false; readonly error: GatewayTokenError; readonly message: string };

export interface CreateGatewayTokenOptions {
  readonly gatewayId: string;
  /** Base64url Ed25519 seed (or its 32 bytes). */
  readonly privateKey: string | Uint8Array;
  /** Current time, Unix milliseconds. */
  readonly nowMs: number;
  /** 1..300 seconds; default 300. */
  readonly lifetimeSeconds?: number;
}

export interface VerifyGatewayTokenOptions {
  /** Seconds of clock difference tolerated on `iat` and `exp`; default 30. */
  readonly clockSkewSeconds?: number;
}

/** A fresh random key pair (crypto.getRandomValues). */
export function generateGatewayKeyPair(): GatewayKeyPair {
  const { secretKey, publicKey } = ed25519.keygen();
  return { privateKey: encodeBase64Url(secretKey), publicKey: encodeBase64Url(publicKey) };
}

/** The base64url public key of a base64url private key. Throws RangeError if it is not 32 bytes. */
export function gatewayPublicKey(privateKey: string | Uint8Array): string {
  return encodeBase64Url(ed25519.getPublicKey(privateKeyBytes(privateKey)));
}

/** Signs a token for `gatewayId`. Throws RangeError on a bad id, key or lifetime (caller bugs). */
export function createGatewayToken(options: CreateGatewayTokenOptions): string {
  const lifetime = options.lifetimeSeconds ?? GATEWAY_TOKEN_MAX_LIFETIME_S;
  if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > GATEWAY_TOKEN_MAX_LIFETIME_S) {
    throw new RangeError(`token lifetime must be 1..${GATEWAY_TOKEN_MAX_LIFETIME_S} s, got ${lifetime}`);
  }
  if (!GatewayIdSchema.safeParse(options.gatewayId).success) {
    throw new RangeError(`invalid gateway id ${JSON.stringify(options.gatewayId)}`);
  }
  const iat = Math.floor(options.nowMs / 1000);
  const claims = { sub: options.gatewayId, iat, exp: iat + lifetime };
  const signingInput = `${HEADER_B64}.${encodeBase64Url(utf8Encode(JSON.stringify(claims)))}`;
  const signature = ed25519.sign(utf8Encode(signingInput), privateKeyBytes(options.privateKey));
  return `${signingInput}.${encodeBase64Url(signature)}`;
}

/**
 * Checks a token: structure, the gateway's key, the signature (strict RFC 8032, no ZIP-215
 * leniency), then the times. Never throws. `nowMs` is Unix milliseconds.
 */
export function verifyGatewayToken(
  token: string,
  keys: GatewayKeyLookup,
  nowMs: number,
  options: VerifyGatewayTokenOptions = {},
): GatewayTokenResult {
  const parsed = parseToken(token);
  if (!parsed.ok) return parsed;
  const { claims, signingInput, signature } = parsed;
  const publicKeyText = lookupKey(keys, claims.sub);
  const publicKey = publicKeyText === undefined ? undefined : decodeBase64Url(publicKeyText);
  if (!publicKey || publicKey.length !== 32) {
    return fail("unknown-key", `no usable public key for gateway ${JSON.stringify(claims.sub)}`);
  }
  let valid = false;
  try {
    valid = ed25519.verify(signature, utf8Encode(signingInput), publicKey, { zip215: false });
  } catch {
    valid = false; // a public key that is not a curve point
  }
  if (!valid) return fail("bad-signature", `signature does not verify for gateway ${JSON.stringify(claims.sub)}`);
  return checkTimes(claims, nowMs, options.clockSkewSeconds ?? GATEWAY_TOKEN_CLOCK_SKEW_S);
}

export interface GatewayTokenVerifierOptions extends VerifyGatewayTokenOptions {
  /** Most tokens kept; default 1024 (a gateway renews every few minutes: one or two each). */
  readonly maxEntries?: number;
}

interface CacheEntry {
  readonly gatewayId: string;
  readonly publicKey: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
}

/**
 * `verifyGatewayToken` with a cache of verified tokens keyed by the token string, kept until
 * they expire: the signature is checked once per token, not once per request (DESIGN.md §3).
 * A cached token stays valid only while its gateway's public key is unchanged, so removing or
 * rotating a key in GATEWAY_KEYS revokes its tokens at once. Failures are not cached.
 */
export class GatewayTokenVerifier {
  readonly #cache = new Map<string, CacheEntry>();
  readonly #maxEntries: number;
  readonly #skew: number;
  #hits = 0;
  #misses = 0;

  constructor(options: GatewayTokenVerifierOptions = {}) {
    this.#maxEntries = Math.max(1, options.maxEntries ?? 1024);
    this.#skew = options.clockSkewSeconds ?? GATEWAY_TOKEN_CLOCK_SKEW_S;
  }

  /** Verifies `token` (or finds it in the cache). Never throws. */
  verify(token: string, keys: GatewayKeyLookup, nowMs: number): GatewayTokenResult {
    const cached = this.#cache.get(token);
    if (cached) {
      if (lookupKey(keys, cached.gatewayId) === cached.publicKey) {
        const times = checkTimes({ sub: cached.gatewayId, iat: cached.issuedAt, exp: cached.expiresAt }, nowMs, this.#skew);
        if (times.ok) {
          this.#hits++;
          return times;
        }
      }
      this.#cache.delete(token);
    }
    this.#misses++;
    const result = verifyGatewayToken(token, keys, nowMs, { clockSkewSeconds: this.#skew });
    if (result.ok) {
      this.#insert(token, {
        gatewayId: result.gatewayId,
        publicKey: lookupKey(keys, result.gatewayId)!,
        issuedAt: result.issuedAt,
        expiresAt: result.expiresAt,
      }, nowMs);
    }
    return result;
  }

  /** Cache statistics: hits, full verifications, entries held. */
  get stats(): { hits: number; misses: number; size: number } {
    return { hits: this.#hits, misses: this.#misses, size: this.#cache.size };
  }

  #insert(token: string, entry: CacheEntry, nowMs: number): void {
    if (this.#cache.size >= this.#maxEntries) {
      const nowS = nowMs / 1000;
      for (const [k, e] of this.#cache) if (e.expiresAt + this.#skew <= nowS) this.#cache.delete(k);
      // Still full: drop the oldest insertion (Map iterates in insertion order).
      while (this.#cache.size >= this.#maxEntries) {
        const first = this.#cache.keys().next();
        if (first.done) break;
        this.#cache.delete(first.value);
      }
    }
    this.#cache.set(token, entry);
  }
}

type Claims = z.infer<typeof ClaimsSchema>;

function parseToken(
  token: string,
): { ok: true; claims: Claims; signingInput: string; signature: Uint8Array } | { ok: false; error: "malformed"; message: string } {
  if (typeof token !== "string" || token.length > MAX_TOKEN_LENGTH) return fail("malformed", "token missing or too long");
  const parts = token.split(".");
  if (parts.length !== 3) return fail("malformed", "not three dot-separated parts");
  const [h, p, s] = parts as [string, string, string];
  const header = parseJsonPart(h);
  if (!HeaderSchema.safeParse(header).success) return fail("malformed", 'header is not {"alg":"EdDSA"}');
  const claims = ClaimsSchema.safeParse(parseJsonPart(p));
  if (!claims.success) return fail("malformed", "claims are not {sub, iat, exp}");
  const lifetime = claims.data.exp - claims.data.iat;
  if (lifetime < 1 || lifetime > GATEWAY_TOKEN_MAX_LIFETIME_S) {
    return fail("malformed", `lifetime ${lifetime} s is outside 1..${GATEWAY_TOKEN_MAX_LIFETIME_S} s`);
  }
  const signature = decodeBase64Url(s);
  if (!signature || signature.length !== 64) return fail("malformed", "signature is not 64 bytes of base64url");
  return { ok: true, claims: claims.data, signingInput: `${h}.${p}`, signature };
}

function parseJsonPart(part: string): unknown {
  const bytes = decodeBase64Url(part);
  if (!bytes) return undefined;
  try {
    return JSON.parse(utf8Decode(bytes));
  } catch {
    return undefined;
  }
}

function checkTimes(claims: Claims, nowMs: number, skew: number): GatewayTokenResult {
  const now = nowMs / 1000;
  if (claims.iat > now + skew) return fail("future", `issued ${Math.round(claims.iat - now)} s in the future`);
  if (claims.exp + skew <= now) return fail("expired", `expired ${Math.round(now - claims.exp)} s ago`);
  return { ok: true, gatewayId: claims.sub, issuedAt: claims.iat, expiresAt: claims.exp };
}

function lookupKey(keys: GatewayKeyLookup, gatewayId: string): string | undefined {
  if (typeof keys === "function") return keys(gatewayId);
  // Own properties only: a gateway named "constructor" must not find Object.prototype's.
  if (!Object.hasOwn(keys, gatewayId)) return undefined;
  const value = keys[gatewayId];
  return typeof value === "string" ? value : undefined;
}

function privateKeyBytes(privateKey: string | Uint8Array): Uint8Array {
  const bytes = typeof privateKey === "string" ? decodeBase64Url(privateKey) : privateKey;
  if (!bytes || bytes.length !== 32) throw new RangeError("gateway private key must be 32 bytes (base64url)");
  return bytes;
}

function fail<E extends GatewayTokenError>(error: E, message: string): { ok: false; error: E; message: string } {
  return { ok: false, error, message };
}
