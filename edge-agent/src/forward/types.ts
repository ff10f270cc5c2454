/**
 * The forward seam (DESIGN.md §1, §3): a complete, decrypted, reassembled CoAP request goes to
 * the cloud and a CoAP-level answer comes back. `forward` never throws: every failure of the
 * cloud exchange is already mapped to the CoAP response the device should get.
 */
import type { CoapOption, Registry } from "@coaps-edge/shared";
import type { PeerIdentity } from "../transport/types.js";

/** One request as the CoAP layer hands it over. */
export interface ForwardRequest {
  /** The method code (Method.GET = 1 ... Method.iPATCH = 7). */
  readonly method: number;
  readonly uriPath: readonly string[];
  readonly uriQuery: readonly string[];
  /** Options other than Uri-Path, Uri-Query, Content-Format and Accept, that the cloud should see. */
  readonly options: readonly CoapOption[];
  readonly contentFormat?: number;
  readonly accept?: number;
  /** The whole body (after Block1 reassembly). */
  readonly payload: Uint8Array;
  readonly peer: { readonly address: string; readonly port: number };
  /** How the DTLS session authenticated the device (transport's PeerIdentity fits). */
  readonly identity: Pick<PeerIdentity, "kind" | "identity" | "certificateSha256">;
  /** When the request was complete, Unix ms; default now. */
  readonly receivedAt?: number;
  /** For logs and tracing; default a random UUID. */
  readonly requestId?: string;
  /** Aborts the exchange (answered as a timeout, 5.04). */
  readonly signal?: AbortSignal;
}

/** Why the edge answered on the cloud's behalf. */
export type ForwardFailureKind =
  /** no answer within the timeout (→ 5.04) */
  | "timeout"
  /** connection refused/reset, DNS, TLS, or the cloud said 503/429 (→ 5.03 + Max-Age) */
  | "unreachable"
  /** the local queue of the forwarder is full, or it is closed (→ 5.03 + Max-Age) */
  | "overloaded"
  /** an answer that is not a valid response envelope, or a 5xx (→ 5.02) */
  | "invalid-response"
  /** the cloud refused the exchange: 400 (envelope), 401 (token), 403 (→ 5.02) */
  | "rejected"
  /** the cloud refused the body size: 413 (→ 4.13) */
  | "too-large"
  /** the request cannot be put in an envelope (unknown method → 4.05, oversized fields → 4.00) */
  | "bad-request";

export interface ForwardFailure {
  readonly kind: ForwardFailureKind;
  readonly message: string;
  /** HTTP status, when there was one. */
  readonly status?: number;
}

/** A CoAP-level response. */
export interface ForwardResult {
  /** The 8-bit response code (0x45 = 2.05). */
  readonly code: number;
  /** Options besides Content-Format, Max-Age, ETag and Location-Path. */
  readonly options: readonly CoapOption[];
  readonly payload: Uint8Array;
  readonly contentFormat?: number;
  readonly maxAge?: number;
  readonly etag?: Uint8Array;
  readonly locationPath?: readonly string[];
  /** Set when the edge made this answer because the cloud exchange failed (for logs/metrics). */
  readonly failure?: ForwardFailure;
}

export type RegistryResult = { readonly ok: true; readonly registry: Registry } | { readonly ok: false; readonly failure: ForwardFailure };

/** The edge's view of the cloud. */
export interface CloudForwarder {
  /** Sends one request; never throws (failures come back as mapped CoAP responses). */
  forward(request: ForwardRequest): Promise<ForwardResult>;
  /** The cloud's resource list, for /.well-known/core and local 4.04/4.05. Never throws. */
  fetchRegistry(): Promise<RegistryResult>;
  /** Aborts what is in flight (answered 5.03) and refuses new requests. */
  close(): Promise<void>;
  /** Signs with a new gateway key from now on (SIGHUP); forwarders that cannot (embedded) leave it out. */
  updateGatewayKey?(gatewayId: string, gatewayKey: string): void;
}
