/**
 * Strict dotted-quad IPv4 parsing (RFC 791 addresses as node:dgram and the native engine print
 * them): four decimal parts 0..255, no leading zeros, nothing else — one spelling per address,
 * so the number can stand for the address as a map key or a wire form.
 */

const DOT = 0x2e;
const ZERO = 0x30;

/** The address as an unsigned 32-bit number (first part most significant), or -1 when it is not exactly a dotted quad. */
export function parseIpv4(s: string): number {
  const n = s.length;
  if (n < 7 || n > 15) return -1;
  let value = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? s.charCodeAt(i) : DOT;
    if (c === DOT) {
      if (digits === 0 || part > 255) return -1;
      value = value * 256 + part;
      parts++;
      part = 0;
      digits = 0;
    } else {
      const d = c - ZERO;
      // No leading zeros ("010" is octal to inet_aton).
      if (d < 0 || d > 9 || digits === 3 || (digits > 0 && part === 0)) return -1;
      part = part * 10 + d;
      digits++;
    }
  }
  return parts === 4 ? value : -1;
}
