// Addresses of a named interface to bind (transport/interfaces.ts), from a recorded
// os.networkInterfaces() of a border router: IPv6 first, link-local ones with their zone.
import assert from "node:assert/strict";
import type { NetworkInterfaceInfo } from "node:os";
import { it } from "node:test";
import { interfaceAddresses, interfaceExists, isLinkLocalV6, withScope } from "../../edge-agent/src/transport/interfaces.js";

const v6 = (address: string, scopeid = 0): NetworkInterfaceInfo => ({ address, netmask: "ffff:ffff:ffff:ffff::", family: "IPv6", mac: "00:00:00:00:00:00", internal: false, cidr: `${address}/64`, scopeid });
const v4 = (address: string): NetworkInterfaceInfo => ({ address, netmask: "255.255.255.0", family: "IPv4", mac: "00:00:00:00:00:00", internal: false, cidr: `${address}/24` });
const HOST = {
  wpan0: [v6("fe80::a8bb:ccff:fedd:eeff", 5), v6("fdde:ad00:beef:0:0:ff:fe00:fc00"), v6("fd11:22::1")],
  eth0: [v4("192.168.1.10"), v6("fe80::1", 2), v6("2001:db8::10")],
};

it("binds the interface's IPv6 addresses, global/ULA first, link-local with %ifname; IPv4 only when asked", () => {
  assert.deepEqual(
    interfaceAddresses("wpan0", {}, HOST).map((a) => a.address),
    ["fdde:ad00:beef:0:0:ff:fe00:fc00", "fd11:22::1", "fe80::a8bb:ccff:fedd:eeff%wpan0"],
  );
  assert.deepEqual(interfaceAddresses("eth0", {}, HOST).map((a) => a.address), ["2001:db8::10", "fe80::1%eth0"]);
  assert.deepEqual(interfaceAddresses("eth0", { ipv4: true }, HOST).map((a) => a.address), ["2001:db8::10", "fe80::1%eth0", "192.168.1.10"]);
  assert.deepEqual(interfaceAddresses("wpan9", {}, HOST), []);
  assert.equal(interfaceExists("wpan0", HOST), true);
  assert.equal(interfaceExists("wpan9", HOST), false);
});

it("recognises fe80::/10 and adds a zone only where one is missing", () => {
  assert.equal(isLinkLocalV6("fe80::1"), true);
  assert.equal(isLinkLocalV6("febf::1%wpan0"), true);
  assert.equal(isLinkLocalV6("fec0::1"), false);
  assert.equal(isLinkLocalV6("fd00::1"), false);
  assert.equal(withScope("fe80::1", "wpan0"), "fe80::1%wpan0");
  assert.equal(withScope("fe80::1%eth0", "wpan0"), "fe80::1%eth0");
  assert.equal(withScope("fd00::1", "wpan0"), "fd00::1");
});
