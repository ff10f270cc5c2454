/**
 * `defineResource`: one CoAP resource per route file under cloud/resources/ (DESIGN.md §3).
 * The file's path is the resource's path (`resources/sensors/[id]/temperature.ts` serves
 * `/sensors/<id>/temperature`); the definition holds its RFC 6690 attributes and one spec per
 * method: optional zod schemas for the Uri-Query items and the payload, and the handler.
 *
 *     export default defineResource({
 *       title: "Temperature", rt: "temperature-c", ct: ContentFormat.json, params: ["id"],
 *       get: { handler: (req) => ({ json: { celsius: 21.5, sensor: req.params.id } }) },
 *       put: { payload: z.object({ celsius: z.number() }), handler: (req) => ({ code: "2.04" }) },
 *     });
 *
 * Schemas may be zod classic or zod/mini (both are `$ZodType`); the demo resources use mini to
 * keep the Worker bundle small.
 */
import type { CoapOption, EnvelopeMethod, Peer } from "@coaps-edge/shared";
import type { $ZodType, output } from "zod/v4/core";

/** A zod schema (classic or mini). */
export type Schema = $ZodType;

type Digit = "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9";
/** A response code as "c.dd" text: "2.05", "4.00", "5.03". */
export type ResponseCodeText = `${2 | 4 | 5}.${"0" | "1" | "2"}${Digit}` | `${2 | 4 | 5}.3${"0" | "1"}`;

/** What a handler sees of one CoAP request. */
export interface ResourceRequest<P extends string = string, Q = Readonly<Record<string, string>>, J = unknown> {
  readonly method: EnvelopeMethod;
  /** The Uri-Path segments. */
  readonly path: readonly string[];
  /** Values of the `[name]` segments of the resource's path. */
  readonly params: Readonly<Record<P, string>>;
  /** Uri-Query items as `key → value` (first occurrence wins; `flag` alone gives ""), validated by the `query` schema if any. */
  readonly query: Q;
  /** The raw Uri-Query items in order. */
  readonly queryItems: readonly string[];
  /**
   * The payload as data: with a `payload` schema, the parsed and validated value (JSON or CBOR);
   * without one, parsed on first access (a ResourceError 4.00/4.15 if it is not JSON or CBOR).
   */
  readonly json: J;
  /** The payload bytes, as sent (text and octet payloads pass through untouched). */
  readonly payload: Uint8Array;
  /** The payload decoded as UTF-8. */
  text(): string;
  readonly contentFormat: number | undefined;
  readonly accept: number | undefined;
  /** Options the edge forwarded besides Uri-Path, Uri-Query, Content-Format and Accept. */
  readonly options: readonly CoapOption[];
  /** The device: address, port, how its DTLS session authenticated, and as whom. */
  readonly peer: Peer;
  readonly gatewayId: string;
  readonly requestId: string;
  /** When the edge received the request, Unix milliseconds. */
  readonly receivedAt: number;
  /** The Worker environment (vars, secrets, bindings). */
  readonly env: Readonly<Record<string, unknown>>;
}

/**
 * A handler's answer. Exactly one of `json`, `text`, `payload` (or none, for an empty body).
 * `json` is sent as JSON (50) or, if the request's Accept asks for it, CBOR (60).
 */
export interface ResourceResult {
  /** Default: 2.05 for GET/FETCH, 2.02 for DELETE, 2.04 otherwise. */
  readonly code?: ResponseCodeText | number;
  readonly json?: unknown;
  readonly text?: string;
  readonly payload?: Uint8Array;
  /** Content-Format of `payload` (default: the resource's `ct` if it is a single number). */
  readonly contentFormat?: number;
  /** Max-Age in seconds (RFC 7252 §5.10.5). */
  readonly maxAge?: number;
  /** 1..8 bytes; a string is taken as UTF-8. */
  readonly etag?: Uint8Array | string;
  /** "/items/9" or ["items", "9"]. */
  readonly locationPath?: string | readonly string[];
  /** Other response options (not ETag, Location-Path, Content-Format, Max-Age). */
  readonly options?: readonly CoapOption[];
}

type QueryOf<Q> = Q extends Schema ? output<Q> : Readonly<Record<string, string>>;
type JsonOf<B> = B extends Schema ? output<B> : unknown;

/** One method of a resource. */
export interface MethodSpec<P extends string, Q extends Schema | undefined, B extends Schema | undefined> {
  /** Schema for the Uri-Query object; failure answers 4.00 with a diagnostic. */
  readonly query?: Q;
  /** Schema for the JSON/CBOR payload; failure answers 4.00 with a diagnostic. */
  readonly payload?: B;
  readonly handler: (
    req: ResourceRequest<P, QueryOf<Q>, JsonOf<B>>,
  ) => ResourceResult | void | Promise<ResourceResult | void>;
}

/** RFC 6690 attributes of a resource, as /.well-known/core lists them. */
export interface ResourceAttributes {
  readonly title?: string;
  /** Resource type(s), space separated. */
  readonly rt?: string;
  /** Interface description(s), space separated. */
  readonly if?: string;
  /** Content-Format(s) served. */
  readonly ct?: number | readonly number[];
  /** Size estimate in bytes. */
  readonly sz?: number;
  /** Observable (RFC 7641). */
  readonly obs?: boolean;
}

/** The erased method spec the dispatcher runs. */
export interface AnyMethodSpec {
  readonly query?: Schema;
  readonly payload?: Schema;
  readonly handler: (req: ResourceRequest<string, unknown, unknown>) => ResourceResult | void | Promise<ResourceResult | void>;
}

/** A defined resource: what a route file exports by default. */
export interface Resource {
  readonly kind: "coaps-edge/resource";
  readonly attributes: ResourceAttributes;
  /** The `[name]` segments the definition declared, if it declared them. */
  readonly params: readonly string[] | undefined;
  readonly methods: Readonly<Partial<Record<EnvelopeMethod, AnyMethodSpec>>>;
}

type M<P extends string, Q extends Schema | undefined, B extends Schema | undefined> = MethodSpec<P, Q, B>;

/** The argument of `defineResource`. */
export interface ResourceDefinition<
  P extends string,
  GQ extends Schema | undefined, GB extends Schema | undefined,
  PoQ extends Schema | undefined, PoB extends Schema | undefined,
  PuQ extends Schema | undefined, PuB extends Schema | undefined,
  DQ extends Schema | undefined, DB extends Schema | undefined,
  FQ extends Schema | undefined, FB extends Schema | undefined,
  PaQ extends Schema | undefined, PaB extends Schema | undefined,
  IQ extends Schema | undefined, IB extends Schema | undefined,
> extends ResourceAttributes {
  /**
   * The names of the `[name]` segments of this file's path. Declaring them types `req.params`
   * (`params: ["id"]` → `req.params.id: string`); the registry checks them against the path.
   */
  readonly params?: readonly P[];
  readonly get?: M<P, GQ, GB>;
  readonly post?: M<P, PoQ, PoB>;
  readonly put?: M<P, PuQ, PuB>;
  readonly delete?: M<P, DQ, DB>;
  readonly fetch?: M<P, FQ, FB>;
  readonly patch?: M<P, PaQ, PaB>;
  readonly ipatch?: M<P, IQ, IB>;
}

const METHOD_KEYS = [
  ["get", "GET"],
  ["post", "POST"],
  ["put", "PUT"],
  ["delete", "DELETE"],
  ["fetch", "FETCH"],
  ["patch", "PATCH"],
  ["ipatch", "iPATCH"],
] as const;

/**
 * Defines a resource (see the module comment). Types flow from the schemas: `req.query` and
 * `req.json` are the schemas' outputs, `req.params` has the declared names.
 */
export function defineResource<
  const P extends string = string,
  GQ extends Schema | undefined = undefined, GB extends Schema | undefined = undefined,
  PoQ extends Schema | undefined = undefined, PoB extends Schema | undefined = undefined,
  PuQ extends Schema | undefined = undefined, PuB extends Schema | undefined = undefined,
  DQ extends Schema | undefined = undefined, DB extends Schema | undefined = undefined,
  FQ extends Schema | undefined = undefined, FB extends Schema | undefined = undefined,
  PaQ extends Schema | undefined = undefined, PaB extends Schema | undefined = undefined,
  IQ extends Schema | undefined = undefined, IB extends Schema | undefined = undefined,
>(
  definition: ResourceDefinition<P, GQ, GB, PoQ, PoB, PuQ, PuB, DQ, DB, FQ, FB, PaQ, PaB, IQ, IB>,
): Resource {
  const methods: Partial<Record<EnvelopeMethod, AnyMethodSpec>> = {};
  for (const [key, method] of METHOD_KEYS) {
    const spec = definition[key];
    if (spec) methods[method] = spec as unknown as AnyMethodSpec;
  }
  if (Object.keys(methods).length === 0) throw new TypeError("defineResource: define at least one method handler");
  const { title, rt, if: iface, ct, sz, obs } = definition;
  const attributes: ResourceAttributes = Object.fromEntries(
    Object.entries({ title, rt, if: iface, ct, sz, obs }).filter(([, v]) => v !== undefined),
  );
  return { kind: "coaps-edge/resource", attributes, params: definition.params, methods };
}

/** True for what `defineResource` returns (the registry checks each route file's default export). */
export function isResource(value: unknown): value is Resource {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "coaps-edge/resource";
}
