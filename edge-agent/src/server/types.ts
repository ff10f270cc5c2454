/**
 * What a resource handler sees and returns. A request is a read-only view of one complete
 * CoAP request (Block1 already reassembled); a response is a plain object the server renders
 * into a piggybacked, separate or NON message (and Block2 blocks when large).
 */
import type { CoapOption } from "@coaps-edge/shared";
import type { PeerAddress, PeerIdentity } from "../transport/types.js";

/** Method names as they appear in resource definitions and requests. */
export type MethodName = "GET" | "POST" | "PUT" | "DELETE" | "FETCH" | "PATCH" | "iPATCH";

/** One complete inbound request, as a handler sees it. */
export interface CoapRequest {
  readonly method: MethodName;
  /** Uri-Path segments, percent-decoded ("/sensors/t1" → ["sensors", "t1"]). */
  readonly path: readonly string[];
  /** Values of `{param}` segments of the matched resource path. */
  readonly params: Readonly<Record<string, string>>;
  /** Uri-Query items as sent ("a=1", "b"). */
  readonly query: readonly string[];
  /** Every option of the request (of its last block, for Block1 uploads). */
  readonly options: readonly CoapOption[];
  /** The whole request body. */
  readonly payload: Uint8Array;
  readonly contentFormat: number | undefined;
  readonly accept: number | undefined;
  readonly token: Uint8Array;
  /** True for a CON request, false for NON. */
  readonly confirmable: boolean;
  readonly peer: PeerAddress;
  /** Who the transport authenticated (kind "none" over plain UDP). */
  readonly identity: PeerIdentity;
  /** "coap" or "coaps": the endpoint the request came in on. */
  readonly scheme: "coap" | "coaps";
  /** The value of query item `name` ("a" of "a=1"): the last one wins, "" for a bare "a"; undefined if absent. */
  queryParam(name: string): string | undefined;
  /** The payload as UTF-8 text. */
  text(): string;
}

/** What a handler returns (or resolves to). */
export interface CoapResponse {
  /** Response code as a number (`Code.Content`) or dotted text ("2.05"). */
  readonly code: number | string;
  /** Body; a string is sent as UTF-8 and defaults the Content-Format to text/plain (0). */
  readonly payload?: Uint8Array | string;
  readonly contentFormat?: number;
  /** More options (Location-Query, custom ones …); the fields below add theirs. */
  readonly options?: readonly CoapOption[];
  /** Max-Age in seconds (RFC 7252 §5.10.5; absent means 60). */
  readonly maxAge?: number;
  readonly etag?: Uint8Array;
  /** Location-Path of a 2.01 Created: "/a/b" or ["a", "b"]. */
  readonly locationPath?: string | readonly string[];
}

/** A resource handler. Throw `CoapError` for a 4.xx/5.xx; any other throw becomes 5.00. */
export type Handler = (request: CoapRequest) => CoapResponse | Promise<CoapResponse>;

/** A resource: handlers per method plus the link-format metadata of /.well-known/core (RFC 6690). */
export interface ResourceDefinition {
  readonly get?: Handler;
  readonly post?: Handler;
  readonly put?: Handler;
  readonly delete?: Handler;
  readonly fetch?: Handler;
  readonly patch?: Handler;
  readonly ipatch?: Handler;
  /** Human-readable title. */
  readonly title?: string;
  /** Resource type(s), e.g. "temperature-c". */
  readonly rt?: string | readonly string[];
  /** Interface description(s), e.g. "core.s". */
  readonly if?: string | readonly string[];
  /** Content-Format(s) the resource serves. */
  readonly ct?: number | readonly number[];
  /** Maximum size estimate in bytes. */
  readonly sz?: number;
  /** Observable (RFC 7641). */
  readonly obs?: boolean;
  /** Leave out of /.well-known/core. */
  readonly hidden?: boolean;
}

/** Logging the server does (not per message at normal levels); pino loggers fit. */
export interface ServerLogger {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}
