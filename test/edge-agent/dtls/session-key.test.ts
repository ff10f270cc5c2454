/**
 * DtlsServer's per-peer map key (dtls/session-key.ts): a number for an IPv4 peer, the
 * "address|port" string otherwise — equal exactly when address and port are equal.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { sessionKey } from "../../../edge-agent/src/dtls/session-key.js";
import type { PeerAddress } from "../../../edge-agent/src/transport/types.js";

const v4 = (address: string, port: number): PeerAddress => ({ address, family: "IPv4", port });
const v6 = (address: string, port: number): PeerAddress => ({ address, family: "IPv6", port });

test("an IPv4 peer's key is the number ipv4 × 65536 + port", () => {
  assert.equal(sessionKey(v4("127.0.0.1", 5684)), 0x7f000001 * 65536 + 5684);
  assert.equal(sessionKey(v4("0.0.0.0", 0)), 0);
  assert.equal(sessionKey(v4("255.255.255.255", 65535)), 2 ** 48 - 1);
  assert.equal(sessionKey(v4("10.20.30.40", 1)), sessionKey({ address: "10.20.30.40", family: "IPv4", port: 1 }));
});

test("anything but a canonical dotted quad keeps the address|port string", () => {
  for (const address of ["::1", "::ffff:127.0.0.1", "localhost", "256.0.0.1", "1.2.3", "1.2.3.4.5", "1..2.3", "01.2.3.4", "1.2.3.04", "1.2.3.4 ", " 1.2.3.4", "1.2.3.-4", "1.2.3.4a", "1234.1.1.1", ""]) {
    assert.equal(sessionKey(v6(address, 5684)), `${address}|5684`, address);
  }
  assert.equal(sessionKey(v4("0.0.0.10", 7)), 10 * 65536 + 7, "a lone zero is fine, a leading one is not");
});

test("different peers never share a key (neighbouring addresses and ports, both key kinds)", () => {
  const peers = [v4("10.0.0.1", 1), v4("10.0.0.1", 2), v4("10.0.0.2", 1), v4("10.0.1.0", 1), v4("0.0.0.1", 0), v4("0.0.0.0", 1), v6("::1", 1), v6("::ffff:10.0.0.1", 1)];
  const keys = new Set(peers.map(sessionKey));
  assert.equal(keys.size, peers.length);
});
