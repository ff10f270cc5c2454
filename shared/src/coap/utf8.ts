/**
 * UTF-8 helpers for string-format option values (RFC 7252 §3.2: "string" is UTF-8 in Net-Unicode
 * form). TextEncoder/TextDecoder exist in Node, Workers and browsers; they are declared locally
 * because shared/ compiles without DOM or Node type libraries.
 */
declare const TextEncoder: { new (): { encode(s: string): Uint8Array } };
declare const TextDecoder: { new (label?: string): { decode(b: Uint8Array): string } };

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8");

/** UTF-8 bytes of `s`. */
export function utf8Encode(s: string): Uint8Array {
  return encoder.encode(s);
}

/** `b` decoded as UTF-8 (invalid sequences become U+FFFD, never an exception). */
export function utf8Decode(b: Uint8Array): string {
  return decoder.decode(b);
}
