/**
 * Runs one request envelope through the registry and returns the response envelope. Pure with
 * respect to HTTP: the Hono app (and through it the embedded forwarder) calls this after the
 * gateway is authenticated and the envelope validated.
 *
 * Outcomes (DESIGN.md §3): unknown path → 4.04; no handler for the method → 4.05; query or
 * payload failing its schema, or an unparsable JSON/CBOR payload → 4.00 with a diagnostic
 * payload; a payload schema on a content format other than JSON/CBOR → 4.15; a ResourceError →
 * its code; any other throw → 5.00; a json answer the Accept option rules out → 4.06.
 */
import {
  Code,
  ContentFormat,
  ENVELOPE_VERSION,
  ResponseEnvelopeSchema,
  codeClass,
  codeToString,
  decodeBase64,
  encodeBase64,
  parseCode,
  type CoapOption,
  type RequestEnvelope,
  type ResponseEnvelope,
} from "@coaps-edge/shared";
import { decode as cborDecode, encode as cborEncode } from "cborg";
import * as z from "zod/mini";
import type { AnyMethodSpec, ResourceRequest, ResourceResult, Schema } from "./define-resource.js";
import { ResourceError } from "./errors.js";
import { ENGLISH, formatIssues } from "./issues.js";
import type { CloudRegistry } from "./registry.js";

/** Diagnostic payloads are for humans and small devices: cap them. */
const MAX_DIAGNOSTIC = 512;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Dispatches `envelope`; never throws (handler failures become 5.00). */
export async function dispatch(
  envelope: RequestEnvelope,
  registry: CloudRegistry,
  env: Readonly<Record<string, unknown>> = {},
): Promise<ResponseEnvelope> {
  try {
    return await run(envelope, registry, env);
  } catch (err) {
    if (err instanceof ResourceError) return diagnostic(err.code, err.message);
    console.error("resource handler failed", envelope.method, "/" + envelope.uriPath.join("/"), err);
    return diagnostic(Code.InternalServerError, "internal server error");
  }
}

async function run(envelope: RequestEnvelope, registry: CloudRegistry, env: Readonly<Record<string, unknown>>): Promise<ResponseEnvelope> {
  const hit = registry.find(envelope.uriPath);
  if (!hit) return diagnostic(Code.NotFound, `no resource at /${envelope.uriPath.join("/")}`);
  const spec = hit.route.resource.methods[envelope.method];
  if (!spec) return diagnostic(Code.MethodNotAllowed, `${envelope.method} not allowed on ${hit.route.path}`);

  const queryItems = envelope.uriQuery;
  const rawQuery = queryObject(queryItems);
  const query = spec.query ? await validate(spec.query, rawQuery, "query") : rawQuery;
  const payload = decodeBase64(envelope.payload) ?? new Uint8Array(0); // the schema already checked it
  const json = spec.payload ? await validate(spec.payload, parsePayload(payload, envelope.contentFormat), "payload") : undefined;

  const req = makeRequest(envelope, hit.params, query, queryItems, payload, env);
  if (spec.payload) Object.defineProperty(req, "json", { value: json, enumerable: true });
  const result = (await (spec as AnyMethodSpec).handler(req)) ?? {};
  return toEnvelope(result, envelope, hit.route.resource.attributes.ct);
}

function makeRequest(
  e: RequestEnvelope,
  params: Record<string, string>,
  query: unknown,
  queryItems: readonly string[],
  payload: Uint8Array,
  env: Readonly<Record<string, unknown>>,
): ResourceRequest<string, unknown, unknown> {
  let parsed: { value: unknown } | undefined;
  const req = {
    method: e.method,
    path: e.uriPath,
    params,
    query,
    queryItems,
    payload,
    text: () => decoder.decode(payload),
    contentFormat: e.contentFormat,
    accept: e.accept,
    options: e.options.map((o) => ({ number: o.number, value: decodeBase64(o.value) ?? new Uint8Array(0) })),
    peer: e.peer,
    gatewayId: e.gatewayId,
    requestId: e.requestId,
    receivedAt: e.receivedAt,
    env,
  };
  // Without a payload schema, `json` parses on first access: /echo never pays for it.
  Object.defineProperty(req, "json", {
    configurable: true,
    enumerable: true,
    get: () => (parsed ??= { value: parsePayload(payload, e.contentFormat) }).value,
  });
  return req as typeof req & { json: unknown };
}

/** Uri-Query items as an object: `a=1` → a: "1", `flag` → flag: ""; the first occurrence wins. */
function queryObject(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const item of items) {
    const eq = item.indexOf("=");
    const key = eq < 0 ? item : item.slice(0, eq);
    if (!Object.hasOwn(out, key)) out[key] = eq < 0 ? "" : item.slice(eq + 1);
  }
  return { ...out };
}

/** JSON (50) and CBOR (60) payloads as data; no Content-Format is read as JSON. */
function parsePayload(payload: Uint8Array, contentFormat: number | undefined): unknown {
  if (contentFormat === undefined || contentFormat === ContentFormat.json) {
    if (payload.length === 0) return undefined;
    try {
      return JSON.parse(decoder.decode(payload));
    } catch (err) {
      throw new ResourceError(Code.BadRequest, `payload is not valid JSON: ${(err as Error).message}`);
    }
  }
  if (contentFormat === ContentFormat.cbor) {
    if (payload.length === 0) return undefined;
    try {
      return cborDecode(payload);
    } catch (err) {
      throw new ResourceError(Code.BadRequest, `payload is not valid CBOR: ${(err as Error).message}`);
    }
  }
  throw new ResourceError(Code.UnsupportedContentFormat, `Content-Format ${contentFormat} is not JSON (50) or CBOR (60)`);
}

async function validate(schema: Schema, value: unknown, what: "query" | "payload"): Promise<unknown> {
  const r = await z.safeParseAsync(schema, value, ENGLISH);
  if (r.success) return r.data;
  throw new ResourceError(Code.BadRequest, `invalid ${what}: ${formatIssues(r.error.issues, what)}`);
}

function defaultCode(method: RequestEnvelope["method"]): number {
  if (method === "GET" || method === "FETCH") return Code.Content;
  if (method === "DELETE") return Code.Deleted;
  return Code.Changed;
}

function toEnvelope(result: ResourceResult, req: RequestEnvelope, resourceCt: number | readonly number[] | undefined): ResponseEnvelope {
  const code = result.code === undefined ? defaultCode(req.method) : typeof result.code === "number" ? result.code : safeParseCode(result.code);
  const cls = codeClass(code);
  if (!Number.isInteger(code) || code < 0 || code > 0xff || (cls !== 2 && cls !== 4 && cls !== 5)) {
    return invalidResult(`code ${String(result.code)} is not a response code`);
  }

  let body: Uint8Array = new Uint8Array(0);
  let contentFormat = result.contentFormat;
  const bodies = [result.json !== undefined, result.text !== undefined, result.payload !== undefined].filter(Boolean).length;
  if (bodies > 1) return invalidResult("more than one of json, text, payload");
  if (result.json !== undefined) {
    // RFC 7252 §5.10.4: answer in the format Accept asks for, or 4.06.
    const want = result.contentFormat ?? (req.accept === ContentFormat.cbor ? ContentFormat.cbor : ContentFormat.json);
    if (want === ContentFormat.cbor) body = cborEncode(result.json);
    else if (want === ContentFormat.json) body = encoder.encode(JSON.stringify(result.json));
    else return invalidResult(`json result with Content-Format ${want}`);
    contentFormat = want;
  } else if (result.text !== undefined) {
    body = encoder.encode(result.text);
    contentFormat ??= ContentFormat.text;
  } else if (result.payload !== undefined) {
    body = result.payload;
    if (contentFormat === undefined && typeof resourceCt === "number") contentFormat = resourceCt;
  }
  if (cls === 2 && req.accept !== undefined && contentFormat !== undefined && contentFormat !== req.accept) {
    return diagnostic(Code.NotAcceptable, `cannot answer in Content-Format ${req.accept}`);
  }

  const etag = typeof result.etag === "string" ? encoder.encode(result.etag) : result.etag;
  const locationPath = typeof result.locationPath === "string" ? result.locationPath.split("/").filter((s) => s !== "") : result.locationPath;
  const out: ResponseEnvelope = {
    version: ENVELOPE_VERSION,
    code: codeToString(code),
    options: (result.options ?? []).map((o: CoapOption) => ({ number: o.number, value: encodeBase64(o.value) })),
    ...(contentFormat !== undefined && { contentFormat }),
    ...(result.maxAge !== undefined && { maxAge: result.maxAge }),
    ...(etag !== undefined && { etag: encodeBase64(etag) }),
    ...(locationPath !== undefined && { locationPath: [...locationPath] }),
    payload: encodeBase64(body),
  };
  // Check our own output against the contract: a bad handler answer is a 5.00 here, not a 5.02 at the edge.
  const checked = ResponseEnvelopeSchema.safeParse(out, ENGLISH);
  if (!checked.success) return invalidResult(formatIssues(checked.error.issues));
  return out;
}

function safeParseCode(text: string): number {
  try {
    return parseCode(text);
  } catch {
    return -1;
  }
}

function invalidResult(why: string): ResponseEnvelope {
  console.error("resource handler returned an invalid result:", why);
  return diagnostic(Code.InternalServerError, "handler returned an invalid response");
}

/** An error response with a UTF-8 diagnostic payload (RFC 7252 §5.5.2: no Content-Format). */
export function diagnostic(code: number, message: string): ResponseEnvelope {
  let bytes = encoder.encode(message);
  if (bytes.length > MAX_DIAGNOSTIC) bytes = encoder.encode(message.slice(0, MAX_DIAGNOSTIC - 3) + "...").subarray(0, MAX_DIAGNOSTIC);
  return { version: ENVELOPE_VERSION, code: codeToString(code), options: [], payload: encodeBase64(bytes) };
}
