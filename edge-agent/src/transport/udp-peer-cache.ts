/**
 * PeerAddress objects for the native UDP engine, one per peer: repeated datagrams from a peer
 * carry the identical object, so the layers above can find their state by identity (DtlsServer's
 * `#byPeer` WeakMap) instead of building and hashing an "address|port" string per datagram.
 *
 * Keys are numbers, never strings:
 *   IPv4            ipv4 × 65536 + port                  (ipv4: the address word as the addon
 *                                                        stores it, unsigned; exact: < 2^48)
 *   v4-mapped IPv6  2^48 + ipv4 × 65536 + port           (a dual-stack socket's IPv4 peers, exact)
 *   other IPv6      hash(address words, scope) × 65536 + port, the entry's words compared on a hit
 * The cache is bounded (a TwoGenerationMap per kind: O(1) however full): a peer unused for half
 * the bound of new peers is forgotten (it then gets a fresh object, and the layers above fall
 * back to their keyed lookup — never a wrong answer).
 *
 * Each object's wire form (what native/udp/udp.c's metadata holds) is kept in a WeakMap, so a
 * reply to it is queued without parsing its address: for IPv4 and v4-mapped peers that is the
 * numeric key itself, for other IPv6 peers the cache entry. No typed array per peer: idle
 * sessions hold their peer object, and this adds only a WeakMap entry to it.
 */
import type { PeerAddress } from "./types.js";
import { TwoGenerationMap } from "../util/two-generation-map.js";
import { META_ADDRESS, META_FAMILY, META_PORT, META_SCOPE, type NativeUdp } from "./udp-native-addon.js";

/** Enough for every session a gateway holds in the common case; ≈ 100 bytes per entry. */
export const PEER_CACHE_LIMIT = 131_072;

const PORTS = 65536;
const V4_MAPPED_BASE = 2 ** 48;
/** The third address word of a v4-mapped address (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) in this machine's byte order. */
const V4_MAPPED_WORD = new Int32Array(Uint8Array.of(0, 0, 0xff, 0xff).buffer)[0]!;

/** An IPv6 peer (not v4-mapped): its address words, scope id and port. */
interface V6Wire {
  readonly peer: PeerAddress;
  readonly a0: number;
  readonly a1: number;
  readonly a2: number;
  readonly a3: number;
  readonly scope: number;
  readonly port: number;
}

/** How a peer goes into send metadata: an IPv4 / v4-mapped key (see the header), or an IPv6 entry. */
export type Wire = number | V6Wire;

export class PeerAddressCache {
  readonly #v4: TwoGenerationMap<number, PeerAddress>;
  readonly #v6: TwoGenerationMap<number, V6Wire>;
  readonly #wire = new WeakMap<PeerAddress, Wire>();
  readonly #scratch: Int32Array;

  constructor(
    private readonly addon: NativeUdp,
    private readonly limit = PEER_CACHE_LIMIT,
  ) {
    this.#scratch = new Int32Array(addon.META_INTS);
    this.#v4 = new TwoGenerationMap(limit);
    this.#v6 = new TwoGenerationMap(limit);
  }

  /** The peer whose metadata starts at meta[o] (a received datagram's sender). */
  from(meta: Int32Array, o: number): PeerAddress {
    const port = meta[o + META_PORT]!;
    const a0 = meta[o + META_ADDRESS]!;
    if (meta[o + META_FAMILY] === 4) return this.#ipv4(meta, o, (a0 >>> 0) * PORTS + port);
    const a1 = meta[o + META_ADDRESS + 1]!;
    const a2 = meta[o + META_ADDRESS + 2]!;
    const a3 = meta[o + META_ADDRESS + 3]!;
    if (a0 === 0 && a1 === 0 && a2 === V4_MAPPED_WORD) return this.#ipv4(meta, o, V4_MAPPED_BASE + (a3 >>> 0) * PORTS + port);
    const scope = meta[o + META_SCOPE]!;
    const key = (hashWords(a0, a1, a2, a3, scope) >>> 0) * PORTS + port;
    const hit = this.#v6.get(key);
    if (hit && hit.a0 === a0 && hit.a1 === a1 && hit.a2 === a2 && hit.a3 === a3 && hit.scope === scope) return hit.peer;
    const peer = this.#create(meta, o, "IPv6");
    const entry: V6Wire = { peer, a0, a1, a2, a3, scope, port };
    this.#wire.set(peer, entry);
    this.#v6.set(key, entry);
    return peer;
  }

  /** `peer`'s wire form, or undefined when its address is not an IP literal (a host name). */
  wireOf(peer: PeerAddress): Wire | undefined {
    const known = this.#wire.get(peer);
    if (known !== undefined) return known;
    const m = this.#scratch;
    if (this.addon.encodeAddress(peer.address, peer.port, m, 0) !== 0) return undefined;
    const [a0, a1, a2, a3] = [m[META_ADDRESS]!, m[META_ADDRESS + 1]!, m[META_ADDRESS + 2]!, m[META_ADDRESS + 3]!];
    let wire: Wire;
    if (m[META_FAMILY] === 4) wire = (a0 >>> 0) * PORTS + peer.port;
    else if (a0 === 0 && a1 === 0 && a2 === V4_MAPPED_WORD) wire = V4_MAPPED_BASE + (a3 >>> 0) * PORTS + peer.port;
    else wire = { peer, a0, a1, a2, a3, scope: m[META_SCOPE]!, port: peer.port };
    this.#wire.set(peer, wire);
    return wire;
  }

  #ipv4(meta: Int32Array, o: number, key: number): PeerAddress {
    const hit = this.#v4.get(key);
    if (hit) return hit;
    // A v4-mapped peer on a dual-stack socket is "IPv6" with "::ffff:a.b.c.d", as node:dgram says.
    const peer = this.#create(meta, o, meta[o + META_FAMILY] === 4 ? "IPv4" : "IPv6");
    this.#wire.set(peer, key);
    this.#v4.set(key, peer);
    return peer;
  }

  #create(meta: Int32Array, o: number, family: "IPv4" | "IPv6"): PeerAddress {
    // The same shape as node:dgram's rinfo minus `size`: one hidden class for every peer.
    return { address: this.addon.formatAddress(meta, o), family, port: meta[o + META_PORT]! };
  }
}

/** Writes `wire` as send metadata at meta[o] (family, port, scope, address words). */
export function writeWire(wire: Wire, meta: Int32Array, o: number): void {
  if (typeof wire === "number") {
    const mapped = wire >= V4_MAPPED_BASE;
    const v4 = mapped ? wire - V4_MAPPED_BASE : wire;
    const address = Math.floor(v4 / PORTS) | 0; // the IPv4 word back as int32
    meta[o + META_PORT] = v4 % PORTS;
    meta[o + META_SCOPE] = 0;
    if (mapped) {
      meta[o + META_FAMILY] = 6;
      meta[o + META_ADDRESS] = 0;
      meta[o + META_ADDRESS + 1] = 0;
      meta[o + META_ADDRESS + 2] = V4_MAPPED_WORD;
      meta[o + META_ADDRESS + 3] = address;
    } else {
      meta[o + META_FAMILY] = 4;
      meta[o + META_ADDRESS] = address;
    }
    return;
  }
  meta[o + META_FAMILY] = 6;
  meta[o + META_PORT] = wire.port;
  meta[o + META_SCOPE] = wire.scope;
  meta[o + META_ADDRESS] = wire.a0;
  meta[o + META_ADDRESS + 1] = wire.a1;
  meta[o + META_ADDRESS + 2] = wire.a2;
  meta[o + META_ADDRESS + 3] = wire.a3;
}

/** FNV-1a-style mix of the address words and scope id: the hash only has to spread, hits are verified. */
function hashWords(a0: number, a1: number, a2: number, a3: number, scope: number): number {
  let h = 0x811c9dc5;
  h = Math.imul(h ^ a0, 0x01000193);
  h = Math.imul(h ^ a1, 0x01000193);
  h = Math.imul(h ^ a2, 0x01000193);
  h = Math.imul(h ^ a3, 0x01000193);
  return Math.imul(h ^ scope, 0x01000193);
}
