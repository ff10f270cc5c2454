/**
 * CoAP options (RFC 7252 §5.4, §5.10, §12.2; IANA "CoAP Option Numbers"): the registry with each
 * option's format and length bounds, the number-encoded properties, value formats, and small
 * readers/writers over messages. Options are kept as raw bytes in `CoapOption`; formats apply here.
 */
import { CoapDecodeError } from "./errors.js";
import { EMPTY_BYTES, type CoapMessage, type CoapOption } from "./message.js";
import { utf8Decode, utf8Encode } from "./utf8.js";

/** Registered option numbers. */
export const OptionNumber = {
  IfMatch: 1, // RFC 7252
  UriHost: 3, // RFC 7252
  ETag: 4, // RFC 7252
  IfNoneMatch: 5, // RFC 7252
  Observe: 6, // RFC 7641
  UriPort: 7, // RFC 7252
  LocationPath: 8, // RFC 7252
  OSCORE: 9, // RFC 8613 (opaque here: OSCORE itself is not implemented)
  UriPath: 11, // RFC 7252
  ContentFormat: 12, // RFC 7252
  MaxAge: 14, // RFC 7252
  UriQuery: 15, // RFC 7252
  HopLimit: 16, // RFC 8768
  Accept: 17, // RFC 7252
  QBlock1: 19, // RFC 9177
  LocationQuery: 20, // RFC 7252
  EDHOC: 21, // RFC 9668
  Block2: 23, // RFC 7959
  Block1: 27, // RFC 7959
  Size2: 28, // RFC 7959
  QBlock2: 31, // RFC 9177
  ProxyUri: 35, // RFC 7252
  ProxyScheme: 39, // RFC 7252
  Size1: 60, // RFC 7252
  Echo: 252, // RFC 9175
  NoResponse: 258, // RFC 7967
  RequestTag: 292, // RFC 9175
} as const;
export type OptionNumber = (typeof OptionNumber)[keyof typeof OptionNumber];

/** Option value formats, RFC 7252 §3.2. */
export type OptionFormat = "empty" | "opaque" | "uint" | "string";

/** What the registry says about one option. */
export interface OptionInfo {
  readonly number: number;
  /** The registered name, e.g. "Uri-Path". */
  readonly name: string;
  readonly format: OptionFormat;
  /** Value length bounds in bytes (RFC 7252 §5.10 table). */
  readonly minLength: number;
  readonly maxLength: number;
  readonly repeatable: boolean;
}

function info(number: number, name: string, format: OptionFormat, min: number, max: number, repeatable = false): OptionInfo {
  return { number, name, format, minLength: min, maxLength: max, repeatable };
}

/** RFC 7252 §5.10 table and the extension RFCs' tables. */
const REGISTRY: ReadonlyMap<number, OptionInfo> = new Map(
  [
    info(1, "If-Match", "opaque", 0, 8, true),
    info(3, "Uri-Host", "string", 1, 255),
    info(4, "ETag", "opaque", 1, 8, true), // repeatable in requests (RFC 7252 §5.10.6)
    info(5, "If-None-Match", "empty", 0, 0),
    info(6, "Observe", "uint", 0, 3),
    info(7, "Uri-Port", "uint", 0, 2),
    info(8, "Location-Path", "string", 0, 255, true),
    info(9, "OSCORE", "opaque", 0, 255),
    info(11, "Uri-Path", "string", 0, 255, true),
    info(12, "Content-Format", "uint", 0, 2),
    info(14, "Max-Age", "uint", 0, 4),
    info(15, "Uri-Query", "string", 0, 255, true),
    info(16, "Hop-Limit", "uint", 1, 1),
    info(17, "Accept", "uint", 0, 2),
    info(19, "Q-Block1", "uint", 0, 3),
    info(20, "Location-Query", "string", 0, 255, true),
    info(21, "EDHOC", "empty", 0, 0),
    info(23, "Block2", "uint", 0, 3),
    info(27, "Block1", "uint", 0, 3),
    info(28, "Size2", "uint", 0, 4),
    info(31, "Q-Block2", "uint", 0, 3),
    info(35, "Proxy-Uri", "string", 1, 1034),
    info(39, "Proxy-Scheme", "string", 1, 255),
    info(60, "Size1", "uint", 0, 4),
    info(252, "Echo", "opaque", 1, 40),
    info(258, "No-Response", "uint", 0, 1),
    info(292, "Request-Tag", "opaque", 0, 8, true),
  ].map((i) => [i.number, i] as const),
);

/** The registry entry of an option number, or undefined when it is not registered. */
export function optionInfo(n: number): OptionInfo | undefined {
  return REGISTRY.get(n);
}

/** Every registered option, ascending by number. */
export function registeredOptions(): readonly OptionInfo[] {
  return [...REGISTRY.values()];
}

/** Critical options (odd numbers) must be understood by the recipient (RFC 7252 §5.4.1). */
export function isCritical(n: number): boolean {
  return (n & 1) === 1;
}

/** Unsafe-to-forward options (bit 2 set) must be understood by a proxy (RFC 7252 §5.4.2). */
export function isUnsafe(n: number): boolean {
  return (n & 2) === 2;
}

/** NoCacheKey options (RFC 7252 §5.4.6): only meaningful for safe-to-forward options. */
export function isNoCacheKey(n: number): boolean {
  return (n & 0x1e) === 0x1c;
}

/**
 * Minimal big-endian bytes of a uint option value (RFC 7252 §3.2: no leading zero bytes, so 0 is
 * the empty value). Throws RangeError unless 0 <= n <= 2^32 - 1 and an integer.
 */
export function encodeUint(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`uint option value out of range: ${n}`);
  // Shortest big-endian form (§3.2); filled by hand: Uint8Array.of goes through the generic builtin.
  // 0 is the empty value; V8 makes a zero-length typed array on a slow path (~20× a 1-byte one),
  // and an empty array has nothing to mutate, so one shared instance serves.
  if (n === 0) return EMPTY_BYTES;
  const length = n <= 0xff ? 1 : n <= 0xffff ? 2 : n <= 0xffffff ? 3 : 4;
  const out = new Uint8Array(length);
  if (length === 4) out[0] = n >>> 24;
  if (length >= 3) out[length - 3] = (n >>> 16) & 0xff;
  if (length >= 2) out[length - 2] = (n >>> 8) & 0xff;
  out[length - 1] = n & 0xff;
  return out;
}

/**
 * The value of a uint option (big-endian; leading zero bytes are tolerated as RFC 7252 §3.2
 * asks of receivers). Throws `CoapDecodeError("bad-option-length")` when longer than 4 bytes:
 * no registered uint option is, and a number past 2^32 is not useful here.
 */
export function decodeUint(bytes: Uint8Array): number {
  if (bytes.length > 4) throw new CoapDecodeError("bad-option-length", `uint option value of ${bytes.length} bytes (max 4)`);
  let v = 0;
  for (let i = 0; i < bytes.length; i++) v = v * 256 + (bytes[i] as number);
  return v;
}

/** A uint-format option. */
export function uintOption(number: number, value: number): CoapOption {
  return { number, value: encodeUint(value) };
}

/** A string-format option (UTF-8). */
export function stringOption(number: number, s: string): CoapOption {
  return { number, value: utf8Encode(s) };
}

/** An opaque-format option (the bytes are copied). */
export function opaqueOption(number: number, bytes: Uint8Array): CoapOption {
  return { number, value: new Uint8Array(bytes) };
}

/** An empty-format option (e.g. If-None-Match). */
export function emptyOption(number: number): CoapOption {
  return { number, value: EMPTY_BYTES };
}

/** The first instance of option `n`, or undefined. */
export function getOption(msg: CoapMessage, n: number): CoapOption | undefined {
  for (const o of msg.options) if (o.number === n) return o;
  return undefined;
}

/** Every instance of option `n`, in message order. */
export function getOptions(msg: CoapMessage, n: number): CoapOption[] {
  const out: CoapOption[] = [];
  for (const o of msg.options) if (o.number === n) out.push(o);
  return out;
}

/** True when the message carries option `n`. */
export function hasOption(msg: CoapMessage, n: number): boolean {
  return getOption(msg, n) !== undefined;
}

/**
 * The first instance of option `n` as a uint. Undefined when absent, and also when the value is
 * longer than 4 bytes: RFC 7252 §5.4.3 treats a value of the wrong length like an unrecognized
 * option (a critical one is caught by `unknownCriticalOptions`, an elective one is ignored).
 */
export function getUintOption(msg: CoapMessage, n: number): number | undefined {
  const o = getOption(msg, n);
  if (o === undefined || o.value.length > 4) return undefined;
  return decodeUint(o.value);
}

/** The first instance of option `n` as a UTF-8 string, or undefined. */
export function getStringOption(msg: CoapMessage, n: number): string | undefined {
  const o = getOption(msg, n);
  return o === undefined ? undefined : utf8Decode(o.value);
}

/** The Uri-Path segments (each one option, RFC 7252 §6.5), e.g. ["sensors", "t1"]. */
export function getUriPath(msg: CoapMessage): string[] {
  return getOptions(msg, OptionNumber.UriPath).map((o) => utf8Decode(o.value));
}

/** The Uri-Query items, e.g. ["a=1", "b"]. */
export function getUriQuery(msg: CoapMessage): string[] {
  return getOptions(msg, OptionNumber.UriQuery).map((o) => utf8Decode(o.value));
}

/** The Location-Path segments of a 2.01 Created response. */
export function getLocationPath(msg: CoapMessage): string[] {
  return getOptions(msg, OptionNumber.LocationPath).map((o) => utf8Decode(o.value));
}

/**
 * Uri-Path options for a path: "/a/b" → ["a", "b"]. Segments are percent-decoded (RFC 7252
 * §6.4 step 8); "/" or "" yields no option (the root). Throws URIError on a bad % escape.
 */
export function uriPathOptions(path: string): CoapOption[] {
  const p = path.startsWith("/") ? path.slice(1) : path;
  if (p === "") return [];
  return p.split("/").map((seg) => stringOption(OptionNumber.UriPath, decodeURIComponent(seg)));
}

/** Uri-Query options for a query string: "a=1&b" → ["a=1", "b"] (leading "?" ignored). */
export function uriQueryOptions(query: string): CoapOption[] {
  const q = query.startsWith("?") ? query.slice(1) : query;
  if (q === "") return [];
  return q.split("&").map((item) => stringOption(OptionNumber.UriQuery, decodeURIComponent(item)));
}

/** A copy of `msg` with `options` appended (the encoder orders them by number). */
export function withOptions(msg: CoapMessage, ...options: CoapOption[]): CoapMessage {
  return { ...msg, options: [...msg.options, ...options] };
}

/** A copy of `msg` without any instance of option `n`. */
export function withoutOption(msg: CoapMessage, n: number): CoapMessage {
  return { ...msg, options: msg.options.filter((o) => o.number !== n) };
}

/** A copy of `msg` whose option `n` is replaced by `options` (all of number `n`). */
export function replaceOption(msg: CoapMessage, n: number, ...options: CoapOption[]): CoapMessage {
  return { ...msg, options: [...msg.options.filter((o) => o.number !== n), ...options] };
}

/**
 * Numbers of the critical options this endpoint must treat as unrecognized (RFC 7252 §5.4.1):
 * unregistered critical numbers, and registered critical options whose value length is outside
 * the registered bounds (§5.4.3) or that repeat when not repeatable (§5.4.5). A server answers
 * a CON request carrying any with 4.02 Bad Option (a NON one is rejected). Each number once,
 * ascending.
 */
export function unknownCriticalOptions(msg: CoapMessage): number[] {
  // Fast path, no allocation: decoded options are in ascending order, so a repeat is adjacent.
  // Anything unusual (unsorted, or a candidate) takes the full check below.
  let prev = -1;
  for (const o of msg.options) {
    const n = o.number;
    if (n < prev) return collectUnknownCritical(msg);
    if (isCritical(n)) {
      const i = REGISTRY.get(n);
      if (i === undefined || o.value.length < i.minLength || o.value.length > i.maxLength || (!i.repeatable && n === prev)) {
        return collectUnknownCritical(msg);
      }
    }
    prev = n;
  }
  return [];
}

function collectUnknownCritical(msg: CoapMessage): number[] {
  const bad = new Set<number>();
  const seen = new Set<number>();
  for (const o of msg.options) {
    if (!isCritical(o.number)) continue;
    const i = REGISTRY.get(o.number);
    if (
      i === undefined ||
      o.value.length < i.minLength ||
      o.value.length > i.maxLength ||
      (!i.repeatable && seen.has(o.number))
    ) {
      bad.add(o.number);
    }
    seen.add(o.number);
  }
  return [...bad].sort((a, b) => a - b);
}

/** "Uri-Path" for 11, or "Option-<n>" for an unregistered number (for logs and diagnostics). */
export function optionName(n: number): string {
  return REGISTRY.get(n)?.name ?? `Option-${n}`;
}
