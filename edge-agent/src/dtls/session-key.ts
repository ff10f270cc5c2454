/**
 * The key of DtlsServer's per-peer map: a DTLS association is its peer's address and port
 * (RFC 6347 §4.2.8 on a new ClientHello from the same ones). An IPv4 peer's key is a number,
 * ipv4 × 65536 + port (exact: < 2^48), so an idle session's map entry holds a 16-byte heap
 * number instead of an "address|port" string (a cons string and its flat copy, ~70 bytes;
 * issue 7). Other addresses (IPv6, v4-mapped, host names) keep the string: rare here, and a
 * string is always a correct key.
 *
 * Two peers get the same key only when their address and port are equal: dotted quads are
 * parsed strictly (transport/ipv4.ts: one spelling per address), anything else never becomes a
 * number, and numbers and strings are distinct Map keys.
 */
import { parseIpv4 } from "../transport/ipv4.js";
import { peerKey, type PeerAddress } from "../transport/types.js";

export type SessionKey = number | string;

export function sessionKey(peer: PeerAddress): SessionKey {
  const v4 = parseIpv4(peer.address);
  return v4 < 0 ? peerKey(peer) : v4 * 65536 + peer.port;
}
