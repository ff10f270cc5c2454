/**
 * Base64 (RFC 4648 §4, padded) and base64url (RFC 4648 §5, unpadded) for the envelope payloads
 * and the gateway keys and tokens. Written out here because shared/ runs in the Worker and in
 * Node alike: no Buffer, and `atob`/`btoa` work on binary strings, not bytes.
 *
 * Decoding is strict (canonical alphabet, length and padding, zero trailing bits): two texts
 * never decode to the same bytes, so a value can be compared as text.
 */

const STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function reverse(alphabet: string): Int16Array {
  const table = new Int16Array(128).fill(-1);
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
}
const STD_REV = reverse(STD);
const URL_REV = reverse(URL);

function encode(bytes: Uint8Array, alphabet: string, pad: boolean): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += alphabet[n >>> 18]! + alphabet[(n >>> 12) & 63]! + alphabet[(n >>> 6) & 63]! + alphabet[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += alphabet[n >>> 18]! + alphabet[(n >>> 12) & 63]! + (pad ? "==" : "");
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += alphabet[n >>> 18]! + alphabet[(n >>> 12) & 63]! + alphabet[(n >>> 6) & 63]! + (pad ? "=" : "");
  }
  return out;
}

function decode(text: string, table: Int16Array, padded: boolean): Uint8Array | undefined {
  let len = text.length;
  if (padded) {
    if (len % 4 !== 0) return undefined;
    if (text.endsWith("==")) len -= 2;
    else if (text.endsWith("=")) len -= 1;
  }
  // RFC 4648 §4: a final quantum of one character cannot encode a whole byte.
  if (len % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((len * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? table[c]! : -1;
    if (v < 0) return undefined;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  // RFC 4648 §3.5: the pad bits of the last character must be zero (canonical encoding).
  if (bits > 0 && (acc & ((1 << bits) - 1)) !== 0) return undefined;
  return out;
}

/** Padded standard base64 of `bytes` (RFC 4648 §4). */
export function encodeBase64(bytes: Uint8Array): string {
  return encode(bytes, STD, true);
}

/** Bytes of padded standard base64 text, or undefined if it is not canonical base64. */
export function decodeBase64(text: string): Uint8Array | undefined {
  return decode(text, STD_REV, true);
}

/** Unpadded base64url of `bytes` (RFC 4648 §5, as JOSE uses it). */
export function encodeBase64Url(bytes: Uint8Array): string {
  return encode(bytes, URL, false);
}

/** Bytes of unpadded base64url text, or undefined if it is not canonical base64url. */
export function decodeBase64Url(text: string): Uint8Array | undefined {
  return decode(text, URL_REV, false);
}
