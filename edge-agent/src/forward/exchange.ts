/**
 * The transport-independent half of forwarding, shared by the HTTP and the embedded forwarder:
 * ForwardRequest → request envelope, HTTP answer → ForwardResult, and the failure mapping of
 * DESIGN.md §3:
 *
 *     what happened                               CoAP answer to the device
 *     ------------------------------------------  ------------------------------------
 *     200 + valid response envelope               the envelope's code, options, payload
 *     no answer within the timeout                5.04 Gateway Timeout
 *     connection failed, 503, 429, queue full     5.03 Service Unavailable + Max-Age
 *     200 + invalid envelope, other 5xx           5.02 Bad Gateway
 *     400 / 401 / 403 (cloud refused the exchange) 5.02 Bad Gateway
 *     413 (envelope too large)                    4.13 Request Entity Too Large
 *     504 from a proxy in front of the Worker     5.04 Gateway Timeout
 *
 * Failure answers carry a short diagnostic payload (RFC 7252 §5.5.2).
 */
import {
  Code,
  ENVELOPE_VERSION,
  RegistrySchema,
  RequestEnvelopeSchema,
  ResponseEnvelopeSchema,
  decodeBase64,
  encodeBase64,
  methodName,
  parseCode,
  utf8Decode,
  utf8Encode,
  type EnvelopeMethod,
  type RequestEnvelope,
} from "@coaps-edge/shared";
import { randomUUID } from "node:crypto";
import type { ForwardFailure, ForwardFailureKind, ForwardRequest, ForwardResult, RegistryResult } from "./types.js";

/** Default Max-Age of a 5.03 answer when the cloud gave no Retry-After: retry in 10 s. */
export const DEFAULT_UNAVAILABLE_MAX_AGE_S = 10;

const CODE_FOR: Record<ForwardFailureKind, number> = {
  timeout: Code.GatewayTimeout,
  unreachable: Code.ServiceUnavailable,
  overloaded: Code.ServiceUnavailable,
  "invalid-response": Code.BadGateway,
  rejected: Code.BadGateway,
  "too-large": Code.RequestEntityTooLarge,
  "bad-request": Code.BadRequest,
};

/** The CoAP answer for a failed exchange. `maxAge` applies to 5.03. */
export function failureResult(failure: ForwardFailure, maxAge = DEFAULT_UNAVAILABLE_MAX_AGE_S, code = CODE_FOR[failure.kind]): ForwardResult {
  return {
    code,
    options: [],
    payload: utf8Encode(failure.message),
    ...(code === Code.ServiceUnavailable && { maxAge }),
    failure,
  };
}

/** The request envelope, or the local answer if the request cannot be forwarded (4.05 / 4.00). */
export function buildRequestEnvelope(req: ForwardRequest, gatewayId: string): { ok: true; envelope: RequestEnvelope } | { ok: false; result: ForwardResult } {
  const method = methodName(req.method) as EnvelopeMethod | undefined;
  if (method === undefined) {
    // RFC 7252 §5.8: an unrecognized method code gets 4.05.
    return { ok: false, result: failureResult({ kind: "bad-request", message: `method code ${req.method} not supported` }, 0, Code.MethodNotAllowed) };
  }
  const envelope: RequestEnvelope = {
    version: ENVELOPE_VERSION,
    requestId: req.requestId ?? randomUUID(),
    gatewayId,
    receivedAt: Math.floor(req.receivedAt ?? Date.now()),
    peer: {
      address: req.peer.address,
      port: req.peer.port,
      auth: req.identity.kind,
      ...(req.identity.identity !== undefined && { identity: req.identity.identity }),
      ...(req.identity.certificateSha256 !== undefined && { certificateSha256: req.identity.certificateSha256.toLowerCase() }),
    },
    method,
    uriPath: [...req.uriPath],
    uriQuery: [...req.uriQuery],
    options: req.options.map((o) => ({ number: o.number, value: encodeBase64(o.value) })),
    ...(req.contentFormat !== undefined && { contentFormat: req.contentFormat }),
    ...(req.accept !== undefined && { accept: req.accept }),
    payload: encodeBase64(req.payload),
  };
  // Catch here what the cloud would refuse with a 400 (a 256-byte segment, 65 options): it is
  // the device's request that is bad, so it gets 4.00 rather than a 5.02 after a round trip.
  const checked = RequestEnvelopeSchema.safeParse(envelope);
  if (!checked.success) {
    const why = checked.error.issues.slice(0, 3).map((i) => i.path.join(".")).join(", ");
    return { ok: false, result: failureResult({ kind: "bad-request", message: `request cannot be forwarded (${why})` }) };
  }
  return { ok: true, envelope };
}

/** What came back over HTTP (or from app.fetch). */
export interface CloudAnswer {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  readonly body: Uint8Array;
}

/** Maps an HTTP answer to the device's CoAP response (table in the module comment). */
export function interpretAnswer(answer: CloudAnswer, unavailableMaxAge = DEFAULT_UNAVAILABLE_MAX_AGE_S): ForwardResult {
  const { status } = answer;
  if (status === 200) return interpretEnvelope(answer.body);
  const detail = errorDetail(answer.body);
  const message = `cloud answered HTTP ${status}${detail ? ` (${detail})` : ""}`;
  if (status === 503 || status === 429) {
    return failureResult({ kind: "unreachable", message, status }, retryAfter(answer.headers.get("retry-after")) ?? unavailableMaxAge);
  }
  if (status === 504) return failureResult({ kind: "timeout", message, status });
  if (status === 413) return failureResult({ kind: "too-large", message, status });
  if (status === 400 || status === 401 || status === 403) return failureResult({ kind: "rejected", message, status });
  return failureResult({ kind: "invalid-response", message, status });
}

function interpretEnvelope(body: Uint8Array): ForwardResult {
  let json: unknown;
  try {
    json = JSON.parse(utf8Decode(body));
  } catch {
    return failureResult({ kind: "invalid-response", message: "cloud answer is not JSON", status: 200 });
  }
  const parsed = ResponseEnvelopeSchema.safeParse(json);
  if (!parsed.success) {
    const why = parsed.error.issues.slice(0, 3).map((i) => i.path.join(".") || "(root)").join(", ");
    return failureResult({ kind: "invalid-response", message: `cloud answer is not a response envelope (${why})`, status: 200 });
  }
  const e = parsed.data;
  // The schema checked every base64 field, so the decodes below cannot fail.
  return {
    code: parseCode(e.code),
    options: e.options.map((o) => ({ number: o.number, value: decodeBase64(o.value)! })),
    payload: decodeBase64(e.payload)!,
    ...(e.contentFormat !== undefined && { contentFormat: e.contentFormat }),
    ...(e.maxAge !== undefined && { maxAge: e.maxAge }),
    ...(e.etag !== undefined && { etag: decodeBase64(e.etag)! }),
    ...(e.locationPath !== undefined && { locationPath: e.locationPath }),
  };
}

/** Maps a GET /v1/registry answer. */
export function interpretRegistryAnswer(answer: CloudAnswer): RegistryResult {
  if (answer.status !== 200) {
    const detail = errorDetail(answer.body);
    const result = interpretAnswer(answer);
    return { ok: false, failure: result.failure ?? { kind: "invalid-response", message: `HTTP ${answer.status}${detail ? ` (${detail})` : ""}`, status: answer.status } };
  }
  let json: unknown;
  try {
    json = JSON.parse(utf8Decode(answer.body));
  } catch {
    return { ok: false, failure: { kind: "invalid-response", message: "registry is not JSON", status: 200 } };
  }
  const parsed = RegistrySchema.safeParse(json);
  if (!parsed.success) return { ok: false, failure: { kind: "invalid-response", message: "registry does not match its schema", status: 200 } };
  return { ok: true, registry: parsed.data };
}

/** RFC 9110 §10.2.3 Retry-After as seconds (delay-seconds only; dates are ignored). */
function retryAfter(value: string | null): number | undefined {
  if (value === null || !/^\d{1,9}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

/** The `error` field of the app's JSON error body, for the diagnostic. */
function errorDetail(body: Uint8Array): string | undefined {
  if (body.length === 0 || body.length > 4096) return undefined;
  try {
    const j = JSON.parse(utf8Decode(body)) as { error?: unknown };
    return typeof j.error === "string" ? j.error.slice(0, 64) : undefined;
  } catch {
    return undefined;
  }
}
