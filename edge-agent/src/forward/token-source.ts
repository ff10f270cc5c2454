/**
 * The edge's current gateway token (DESIGN.md §3): signed once, sent on every request, and
 * replaced a minute before it expires, so a request never leaves with a token that could
 * expire in flight. Signing costs ~1 ms with noble; this does it once every four minutes.
 */
import { GATEWAY_TOKEN_MAX_LIFETIME_S, createGatewayToken, gatewayPublicKey } from "@coaps-edge/shared";

export interface GatewayTokenSourceOptions {
  readonly gatewayId: string;
  /** Base64url Ed25519 seed (or its 32 bytes). */
  readonly gatewayKey: string | Uint8Array;
  /** Seconds; default (and at most) 300. */
  readonly lifetimeSeconds?: number;
  /** Renew this many seconds before expiry; default 60. */
  readonly renewBeforeSeconds?: number;
  /** Wall clock, Unix ms; default Date.now. */
  readonly now?: () => number;
}

export class GatewayTokenSource {
  readonly gatewayId: string;
  /** The gateway's public key, base64url (what the cloud's GATEWAY_KEYS must hold). */
  readonly publicKey: string;
  readonly #key: string | Uint8Array;
  readonly #lifetime: number;
  readonly #renewBefore: number;
  readonly #now: () => number;
  #token: string | undefined;
  #renewAt = 0;
  #issued = 0;

  /** Throws RangeError on a bad gateway id, key or lifetime. */
  constructor(options: GatewayTokenSourceOptions) {
    this.gatewayId = options.gatewayId;
    this.#key = options.gatewayKey;
    this.publicKey = gatewayPublicKey(options.gatewayKey);
    this.#lifetime = options.lifetimeSeconds ?? GATEWAY_TOKEN_MAX_LIFETIME_S;
    this.#renewBefore = Math.min(options.renewBeforeSeconds ?? 60, this.#lifetime / 2);
    this.#now = options.now ?? Date.now;
    this.current(); // fail fast on a bad id or key
  }

  /** A token valid for at least `renewBeforeSeconds` more. */
  current(): string {
    const now = this.#now();
    if (this.#token === undefined || now >= this.#renewAt) {
      this.#token = createGatewayToken({ gatewayId: this.gatewayId, privateKey: this.#key, nowMs: now, lifetimeSeconds: this.#lifetime });
      const iatMs = Math.floor(now / 1000) * 1000;
      this.#renewAt = iatMs + (this.#lifetime - this.#renewBefore) * 1000;
      this.#issued++;
    }
    return this.#token;
  }

  /** How many tokens were signed so far. */
  get issued(): number {
    return this.#issued;
  }
}
