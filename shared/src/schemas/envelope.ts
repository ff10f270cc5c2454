/**
 * The edge ↔ cloud envelopes (DESIGN.md §3): one CoAP request, decrypted and reassembled by the
 * edge agent, travels to the cloud as a JSON request envelope; the handler's answer comes back as
 * a JSON response envelope that the edge turns into a CoAP response.
 *
 * Written with `zod/mini`: the same schemas run in the Worker, and a schema of this shape costs
 * 183 KiB of bundle with zod classic against 44 KiB with mini (esbuild, unminified; 89 vs 21 KiB
 * minified). Resource schemas may still use classic: the dispatcher accepts either.
 *
 * Request envelope (HTTP POST /v1/coap body):
 *
 *     { "version": 1, "requestId": "…", "gatewayId": "gw-1", "receivedAt": 1767225600000,
 *       "peer": { "address": "fd00::1", "port": 49152, "auth": "psk", "identity": "demo" },
 *       "method": "PUT", "uriPath": ["sensors", "7", "temperature"], "uriQuery": ["unit=c"],
 *       "options": [{ "number": 2049, "value": "AQ==" }], "contentFormat": 50, "accept": 50,
 *       "payload": "eyJjZWxzaXVzIjoyMn0=" }
 *
 * Response envelope (HTTP 200 body; the CoAP outcome, errors included, is in `code`):
 *
 *     { "version": 1, "code": "2.05", "options": [], "contentFormat": 0, "maxAge": 60,
 *       "etag": "q83v", "locationPath": ["items", "9"], "payload": "aGVsbG8=" }
 *
 * Options the envelope names (Uri-Path, Uri-Query, Content-Format, Accept; in responses also
 * Max-Age, ETag, Location-Path) travel in their own fields, not in `options`.
 */
import * as z from "zod/mini";
import { decodeBase64 } from "./base64.js";

/** Envelope format version; a receiver rejects any other. */
export const ENVELOPE_VERSION = 1;

/** The request methods an envelope carries (RFC 7252 §5.8, RFC 8132). */
export const ENVELOPE_METHODS = ["GET", "POST", "PUT", "DELETE", "FETCH", "PATCH", "iPATCH"] as const;
export type EnvelopeMethod = (typeof ENVELOPE_METHODS)[number];

/** How the device authenticated its DTLS session. */
export const PEER_AUTH_KINDS = ["psk", "x509", "rpk", "none"] as const;
export type PeerAuthKind = (typeof PEER_AUTH_KINDS)[number];

const uint = (max: number) => z.number().check(z.int(), z.minimum(0), z.maximum(max));

/** Canonical padded base64 (RFC 4648 §4), the empty string included. */
export const Base64Schema = z.string().check(
  z.refine((s) => decodeBase64(s) !== undefined, "not canonical padded base64"),
);

/** RFC 7252 §5.10: option values are 0..1034 bytes; base64 of 1034 bytes is 1380 characters. */
export const EnvelopeOptionSchema = z.object({
  number: uint(0xffff),
  value: z.string().check(
    z.maxLength(1380),
    z.refine((s) => decodeBase64(s) !== undefined, "not canonical padded base64"),
  ),
});
export type EnvelopeOption = z.infer<typeof EnvelopeOptionSchema>;

/** A Uri-Path / Location-Path segment or a Uri-Query item: 0..255 bytes (RFC 7252 §5.10). */
const Segment = z.string().check(z.maxLength(255));

export const PeerSchema = z.object({
  /** IP address as text (IPv6 without brackets). */
  address: z.string().check(z.minLength(1), z.maxLength(64)),
  port: uint(0xffff),
  auth: z.enum(PEER_AUTH_KINDS),
  /** PSK identity, or the subject CN of the client certificate. */
  identity: z.optional(z.string().check(z.maxLength(512))),
  /** SHA-256 of the client certificate (DER), lowercase hex. */
  certificateSha256: z.optional(z.string().check(z.regex(/^[0-9a-f]{64}$/))),
});
export type Peer = z.infer<typeof PeerSchema>;

export const RequestEnvelopeSchema = z.object({
  version: z.literal(ENVELOPE_VERSION),
  /** Unique per request (the edge uses a UUID); for logs and tracing. */
  requestId: z.string().check(z.minLength(1), z.maxLength(128)),
  gatewayId: z.string().check(z.minLength(1), z.maxLength(128)),
  /** When the edge received the complete request: Unix time in milliseconds. */
  receivedAt: z.number().check(z.int(), z.minimum(0)),
  peer: PeerSchema,
  method: z.enum(ENVELOPE_METHODS),
  uriPath: z.array(Segment).check(z.maxLength(64)),
  uriQuery: z.array(Segment).check(z.maxLength(64)),
  options: z.array(EnvelopeOptionSchema).check(z.maxLength(64)),
  contentFormat: z.optional(uint(0xffff)),
  accept: z.optional(uint(0xffff)),
  payload: Base64Schema,
});
export type RequestEnvelope = z.infer<typeof RequestEnvelopeSchema>;

/** "c.dd" with class 2, 4 or 5: the response codes (RFC 7252 §5.9). */
export const ResponseCodeTextSchema = z.string().check(
  z.regex(/^[245]\.(?:[0-2][0-9]|3[01])$/, 'a response code "2.xx", "4.xx" or "5.xx"'),
);

/** Options a response envelope carries in named fields, never in `options`. */
const NAMED_RESPONSE_OPTIONS: ReadonlySet<number> = new Set([4, 8, 12, 14]); // ETag, Location-Path, Content-Format, Max-Age

export const ResponseEnvelopeSchema = z.object({
  version: z.literal(ENVELOPE_VERSION),
  code: ResponseCodeTextSchema,
  options: z.array(EnvelopeOptionSchema).check(
    z.maxLength(64),
    z.refine(
      (opts) => opts.every((o) => !NAMED_RESPONSE_OPTIONS.has(o.number)),
      "ETag, Location-Path, Content-Format and Max-Age go in their own fields",
    ),
  ),
  contentFormat: z.optional(uint(0xffff)),
  /** Seconds (RFC 7252 §5.10.5: uint up to 4 bytes). */
  maxAge: z.optional(uint(0xffffffff)),
  /** 1..8 bytes (RFC 7252 §5.10.6), base64. */
  etag: z.optional(
    z.string().check(
      z.refine((s) => {
        const b = decodeBase64(s);
        return b !== undefined && b.length >= 1 && b.length <= 8;
      }, "1 to 8 bytes of padded base64"),
    ),
  ),
  locationPath: z.optional(z.array(Segment).check(z.maxLength(64))),
  payload: Base64Schema,
});
export type ResponseEnvelope = z.infer<typeof ResponseEnvelopeSchema>;

/** Body of an HTTP error from the cloud app (401, 400, 413, 500): never a CoAP outcome. */
export const CloudErrorBodySchema = z.object({
  error: z.string(),
  message: z.optional(z.string()),
});
export type CloudErrorBody = z.infer<typeof CloudErrorBodySchema>;
