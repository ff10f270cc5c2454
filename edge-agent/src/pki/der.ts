/**
 * The smallest DER (ITU-T X.690) reader and writer the PKI needs: node's X509Certificate gives
 * no basicConstraints path length, no keyUsage bits, no raw subject Name (for CertificateRequest
 * certificate_authorities) and cannot create certificates, so we read and write just those
 * X.509 structures (RFC 5280 §4.1) ourselves. Single-byte tags only (all X.509 tags are), definite
 * lengths only (DER forbids the indefinite form, X.690 §10.1).
 */

/** Why DER bytes were rejected. */
export type DerErrorCode = "truncated" | "bad-length" | "bad-tag" | "trailing-bytes" | "bad-value";

/** Thrown by the reader; callers at a trust boundary (certificate parsing) catch it and map it. */
export class DerError extends Error {
  override readonly name = "DerError";
  readonly code: DerErrorCode;
  constructor(code: DerErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export const Tag = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  t61String: 0x14,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  bmpString: 0x1e,
  sequence: 0x30,
  set: 0x31,
} as const;

/** One tag-length-value element: `raw` is the whole element, `content` its value (views, not copies). */
export interface Tlv {
  readonly tag: number;
  readonly raw: Uint8Array;
  readonly content: Uint8Array;
}

/**
 * Reads the element starting at `pos`. Lengths: X.690 §8.1.3 (short form < 128, else 0x80|n then
 * n big-endian bytes); DER requires the shortest form, which we enforce (§10.1).
 */
export function readTlv(bytes: Uint8Array, pos = 0): Tlv & { readonly end: number } {
  const tag = bytes[pos];
  const first = bytes[pos + 1];
  if (tag === undefined || first === undefined) throw new DerError("truncated", "truncated DER header");
  if ((tag & 0x1f) === 0x1f) throw new DerError("bad-tag", "multi-byte DER tags are not used in X.509");
  let len = first;
  let header = 2;
  if (first & 0x80) {
    const n = first & 0x7f;
    if (n === 0) throw new DerError("bad-length", "indefinite length is not DER");
    if (n > 4) throw new DerError("bad-length", "DER length too large");
    if (pos + 2 + n > bytes.length) throw new DerError("truncated", "truncated DER length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (bytes[pos + 2 + i] as number);
    if (len < 128 || (n > 1 && bytes[pos + 2] === 0)) throw new DerError("bad-length", "non-minimal DER length");
    header += n;
  }
  const start = pos + header;
  const end = start + len;
  if (end > bytes.length) throw new DerError("truncated", `DER element needs ${len} bytes, has ${bytes.length - start}`);
  return { tag, raw: bytes.subarray(pos, end), content: bytes.subarray(start, end), end };
}

/** Reads exactly one element spanning all of `bytes`. */
export function readSingle(bytes: Uint8Array, tag?: number, what = "element"): Tlv {
  const tlv = readTlv(bytes, 0);
  if (tlv.end !== bytes.length) throw new DerError("trailing-bytes", `bytes after the ${what}`);
  if (tag !== undefined) expectTag(tlv, tag, what);
  return tlv;
}

/** The elements inside a constructed value (SEQUENCE, SET, explicit tag). */
export function children(content: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  let pos = 0;
  while (pos < content.length) {
    const tlv = readTlv(content, pos);
    out.push(tlv);
    pos = tlv.end;
  }
  return out;
}

export function expectTag(tlv: Tlv | undefined, tag: number, what: string): Tlv {
  if (!tlv) throw new DerError("truncated", `missing ${what}`);
  if (tlv.tag !== tag) {
    throw new DerError("bad-tag", `${what}: expected tag 0x${tag.toString(16)}, got 0x${tlv.tag.toString(16)}`);
  }
  return tlv;
}

/** OBJECT IDENTIFIER content to dotted form (X.690 §8.19). */
export function decodeOid(content: Uint8Array): string {
  if (content.length === 0) throw new DerError("bad-value", "empty OID");
  const arcs: number[] = [];
  let v = 0;
  for (let i = 0; i < content.length; i++) {
    const b = content[i] as number;
    if (v === 0 && b === 0x80) throw new DerError("bad-value", "non-minimal OID arc");
    v = v * 128 + (b & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER / 128) throw new DerError("bad-value", "OID arc too large");
    if (!(b & 0x80)) {
      arcs.push(v);
      v = 0;
    } else if (i === content.length - 1) {
      throw new DerError("truncated", "truncated OID arc");
    }
  }
  const head = arcs[0] as number;
  const first = head < 40 ? 0 : head < 80 ? 1 : 2;
  return [first, head - first * 40, ...arcs.slice(1)].join(".");
}

/** A non-negative INTEGER that fits a JS number (path lengths, versions). */
export function decodeSmallUint(content: Uint8Array): number {
  if (content.length === 0 || content.length > 6 || ((content[0] as number) & 0x80)) {
    throw new DerError("bad-value", "INTEGER is negative, empty or too large");
  }
  let v = 0;
  for (const b of content) v = v * 256 + b;
  return v;
}

/** UTCTime / GeneralizedTime as RFC 5280 §4.1.2.5 profiles them (`Z`, seconds, no fractions). */
export function decodeTime(tlv: Tlv): number {
  const s = latin1(tlv.content);
  const m =
    tlv.tag === Tag.utcTime
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s)
      : tlv.tag === Tag.generalizedTime
        ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s)
        : null;
  if (!m) throw new DerError("bad-value", `bad time ${JSON.stringify(s)}`);
  let year = Number(m[1]);
  // RFC 5280 §4.1.2.5.1: UTCTime YY >= 50 is 19YY, else 20YY.
  if (tlv.tag === Tag.utcTime) year += year >= 50 ? 1900 : 2000;
  return Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

/** The directory-string types X.509 names use, to a JS string. */
export function decodeString(tlv: Tlv): string {
  switch (tlv.tag) {
    case Tag.utf8String:
      return new TextDecoder("utf-8", { fatal: false }).decode(tlv.content);
    case Tag.bmpString: {
      let s = "";
      for (let i = 0; i + 1 < tlv.content.length; i += 2) {
        s += String.fromCharCode(((tlv.content[i] as number) << 8) | (tlv.content[i + 1] as number));
      }
      return s;
    }
    default:
      return latin1(tlv.content);
  }
}

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Writer: each function returns one complete element; build bottom-up.

function lengthBytes(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return [0x80 | out.length, ...out];
}

/** One element with the given tag around `content`. */
export function tlv(tag: number, content: Uint8Array): Uint8Array {
  const len = lengthBytes(content.length);
  const out = new Uint8Array(1 + len.length + content.length);
  out[0] = tag;
  out.set(len, 1);
  out.set(content, 1 + len.length);
  return out;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

export const seq = (...parts: Uint8Array[]): Uint8Array => tlv(Tag.sequence, concat(parts));
export const set = (...parts: Uint8Array[]): Uint8Array => tlv(Tag.set, concat(parts));
export const octetString = (b: Uint8Array): Uint8Array => tlv(Tag.octetString, b);
export const utf8String = (s: string): Uint8Array => tlv(Tag.utf8String, new TextEncoder().encode(s));
export const ia5String = (s: string): Uint8Array => tlv(Tag.ia5String, new TextEncoder().encode(s));
export const boolean = (b: boolean): Uint8Array => tlv(Tag.boolean, Uint8Array.of(b ? 0xff : 0x00));
/** `[n] EXPLICIT` around one element. */
export const explicit = (n: number, inner: Uint8Array): Uint8Array => tlv(0xa0 | n, inner);
/** `[n] IMPLICIT` of a primitive type (GeneralName dNSName [2], iPAddress [7], keyIdentifier [0]). */
export const implicitPrimitive = (n: number, content: Uint8Array): Uint8Array => tlv(0x80 | n, content);

/** BIT STRING with `unusedBits` padding bits in the last byte (X.690 §8.6). */
export function bitString(bytes: Uint8Array, unusedBits = 0): Uint8Array {
  const content = new Uint8Array(bytes.length + 1);
  content[0] = unusedBits;
  content.set(bytes, 1);
  return tlv(Tag.bitString, content);
}

/** Unsigned big-endian magnitude (or a small number) as a minimal, non-negative INTEGER. */
export function integer(v: number | Uint8Array): Uint8Array {
  let bytes: Uint8Array;
  if (typeof v === "number") {
    const arr: number[] = [];
    for (let x = v; x > 0; x = Math.floor(x / 256)) arr.unshift(x & 0xff);
    bytes = Uint8Array.from(arr);
  } else {
    bytes = v;
  }
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  bytes = bytes.subarray(i);
  if (bytes.length === 0) bytes = Uint8Array.of(0);
  if ((bytes[0] as number) & 0x80) bytes = concat([Uint8Array.of(0), bytes]);
  return tlv(Tag.integer, bytes);
}

/** Dotted OID to an OBJECT IDENTIFIER element. */
export function oid(dotted: string): Uint8Array {
  const arcs = dotted.split(".").map(Number);
  const [a = 0, b = 0, ...rest] = arcs;
  const out: number[] = [];
  for (const arc of [a * 40 + b, ...rest]) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(Tag.oid, Uint8Array.from(out));
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; always UTC, whole seconds. */
export function time(date: Date): Uint8Array {
  const y = date.getUTCFullYear();
  const p2 = (n: number): string => String(n).padStart(2, "0");
  const rest = `${p2(date.getUTCMonth() + 1)}${p2(date.getUTCDate())}${p2(date.getUTCHours())}${p2(date.getUTCMinutes())}${p2(date.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return tlv(Tag.utcTime, new TextEncoder().encode(`${p2(y % 100)}${rest}`));
  return tlv(Tag.generalizedTime, new TextEncoder().encode(`${String(y).padStart(4, "0")}${rest}`));
}
