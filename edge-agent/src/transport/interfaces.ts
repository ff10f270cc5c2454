/**
 * Listening on a named network interface (a border router's Thread interface, "wpan0"): the
 * addresses to bind, from `os.networkInterfaces()`. IPv6 first: a link-local address (fe80::/10,
 * RFC 4291 §2.5.6) is only meaningful with its zone, so it is returned as "fe80::1%wpan0"
 * (RFC 4007 §11) — node:dgram binds and sends with that scope. IPv4 only when asked for.
 */
import { networkInterfaces } from "node:os";

export interface InterfaceAddress {
  /** Bindable address: link-local ones carry "%ifname". */
  readonly address: string;
  readonly family: "IPv4" | "IPv6";
  readonly linkLocal: boolean;
}

/** True for fe80::/10. */
export function isLinkLocalV6(address: string): boolean {
  return /^fe[89ab][0-9a-f]:/i.test(address.split("%")[0] ?? "");
}

/** Appends the zone to a link-local IPv6 address that has none (others unchanged). */
export function withScope(address: string, ifname: string): string {
  return isLinkLocalV6(address) && !address.includes("%") ? `${address}%${ifname}` : address;
}

/** Whether an interface of that name exists on this host. */
export function interfaceExists(ifname: string, interfaces = networkInterfaces()): boolean {
  return interfaces[ifname] !== undefined;
}

/**
 * The addresses of `ifname` to bind, IPv6 first (global/ULA, then link-local), then IPv4 when
 * `ipv4`. Empty when the interface does not exist or has no usable address.
 */
export function interfaceAddresses(ifname: string, options: { ipv4?: boolean } = {}, interfaces = networkInterfaces()): InterfaceAddress[] {
  const out: InterfaceAddress[] = [];
  for (const a of interfaces[ifname] ?? []) {
    if (a.family === "IPv6") {
      const linkLocal = isLinkLocalV6(a.address);
      out.push({ address: linkLocal ? withScope(a.address, ifname) : a.address, family: "IPv6", linkLocal });
    } else if (options.ipv4 && a.family === "IPv4") {
      out.push({ address: a.address, family: "IPv4", linkLocal: a.address.startsWith("169.254.") });
    }
  }
  const rank = (a: InterfaceAddress): number => (a.family === "IPv6" ? (a.linkLocal ? 1 : 0) : 2);
  return out.sort((a, b) => rank(a) - rank(b));
}
