/**
 * UTF-8 helpers for string-format option values (RFC 7252 §3.2: "string" is UTF-8 in Net-Unicode
 * form). TextEncoder/TextDecoder exist in Node, Workers and browsers; they are declared locally
 * because shared/ compiles without DOM or Node type libraries.
 */
declare const TextEncoder: { new (): { encode(s: string): Uint8Array } };
declare const TextDecoder: { new (label?: string): { decode(b: Uint8Array): string } };

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8");

/**
 * Up to this length, ASCII text is converted in JS: path segments, short payloads and option
 * values are that short, and a call into the native encoder costs more than the loop.
 */
const SHORT_ASCII = 64;

/** UTF-8 bytes of `s`. */
export function utf8Encode(s: string): Uint8Array {
  const n = s.length;
  if (n > SHORT_ASCII) return encoder.encode(s);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return encoder.encode(s);
    out[i] = c;
  }
  return out;
}

/** `b` decoded as UTF-8 (invalid sequences become U+FFFD, never an exception). */
export function utf8Decode(b: Uint8Array): string {
  const n = b.length;
  if (n > SHORT_ASCII) return decoder.decode(b);
  for (let i = 0; i < n; i++) if (b[i]! >= 0x80) return decoder.decode(b);
  return String.fromCharCode.apply(null, b as unknown as number[]);
}
