/**
 * The native UDP engine's peer cache (transport/udp-peer-cache.ts): one PeerAddress object per
 * sender, numeric keys, a bound, and the wire form written back for sends equal to what the
 * addon itself encodes for the address string.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { META_ADDRESS, META_FAMILY, META_PORT, META_SCOPE, nativeUdp } from "../../../edge-agent/src/transport/udp-native-addon.js";
import { PeerAddressCache, writeWire } from "../../../edge-agent/src/transport/udp-peer-cache.js";

describe("PeerAddressCache", { skip: nativeUdp ? false : "native UDP addon not built" }, () => {
  const addon = nativeUdp!;
  /** Metadata for one received datagram from `address`:`port`, as the addon writes it. */
  const metaOf = (address: string, port: number): Int32Array => {
    const m = new Int32Array(addon.META_INTS);
    assert.equal(addon.encodeAddress(address, port, m, 0), 0, address);
    return m;
  };
  /** The words the addon reads for a send: one address word for IPv4, four for IPv6. */
  const fields = (m: Int32Array): number[] => [m[META_FAMILY]!, m[META_PORT]!, m[META_SCOPE]!, ...m.subarray(META_ADDRESS, META_ADDRESS + (m[META_FAMILY] === 4 ? 1 : 4))];

  test("the same sender gives the same object; address strings as node:dgram writes them", () => {
    const cache = new PeerAddressCache(addon);
    const cases = [
      ["10.1.2.3", 5683, "10.1.2.3", "IPv4"],
      ["255.255.255.254", 65535, "255.255.255.254", "IPv4"],
      ["::ffff:127.0.0.1", 40000, "::ffff:127.0.0.1", "IPv6"],
      ["2001:db8::1", 5684, "2001:db8::1", "IPv6"],
      ["fe80::1%lo", 5684, "fe80::1%lo", "IPv6"],
    ] as const;
    for (const [address, port, text, family] of cases) {
      const a = cache.from(metaOf(address, port), 0);
      assert.deepEqual(a, { address: text, family, port });
      assert.equal(cache.from(metaOf(address, port), 0), a, `${address}: identical object`);
      assert.notEqual(cache.from(metaOf(address, port ^ 1), 0), a, `${address}: another port, another object`);
    }
    assert.notEqual(cache.from(metaOf("fe80::1", 5684), 0), cache.from(metaOf("fe80::1%lo", 5684), 0), "the scope is part of the peer");
  });

  test("the wire form written for a send equals the addon's encoding, for cached and foreign peer objects", () => {
    const cache = new PeerAddressCache(addon);
    for (const [address, port] of [
      ["192.168.1.200", 1],
      // IPv4 wire forms are read back from the dotted quad: every octet position and both port bytes.
      ["255.254.1.7", 65534],
      ["1.2.3.4", 256],
      ["0.0.0.0", 0],
      ["::ffff:10.0.0.1", 65535],
      ["2001:db8:0:1::ff", 5683],
      ["fe80::abcd%lo", 5684],
    ] as const) {
      const expected = metaOf(address, port);
      const cached = cache.from(expected, 0);
      const foreign = { address, port, family: address.includes(":") ? "IPv6" : "IPv4" } as const;
      for (const peer of [cached, foreign]) {
        const out = new Int32Array(addon.META_INTS).fill(-7);
        writeWire(cache.wireOf(peer)!, out, 0);
        assert.deepEqual(fields(out), fields(expected), `${address} (${peer === cached ? "cached" : "foreign"})`);
      }
    }
    assert.equal(cache.wireOf({ address: "localhost", port: 1, family: "IPv4" }), undefined, "a host name has no wire form");
  });

  test("bounded: past the limit the oldest peer is dropped and comes back as a new object", () => {
    const cache = new PeerAddressCache(addon, 2);
    const a = cache.from(metaOf("10.0.0.1", 1), 0);
    const b = cache.from(metaOf("10.0.0.2", 1), 0);
    cache.from(metaOf("10.0.0.3", 1), 0); // evicts a
    assert.equal(cache.from(metaOf("10.0.0.2", 1), 0), b);
    const again = cache.from(metaOf("10.0.0.1", 1), 0);
    assert.notEqual(again, a);
    assert.deepEqual(again, a);
  });
});
