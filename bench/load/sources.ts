/**
 * Source addresses for generator sessions. Each new session binds its own loopback address in
 * 127.<net>.0.0/16 (Linux routes all of 127/8 to lo), one per simulated device, so what a
 * server does per source address — our agent's per-address handshake rate limit (issue 8), a
 * kernel's per-address state — applies as it would to a network of devices rather than to one
 * host opening thousands of sessions. Each worker gets its own /16 (`net`); a /16 holds 65,024
 * usable addresses (x.y.0 and x.y.255 skipped), reused round-robin.
 */
import type { PeerAddress } from "../../edge-agent/src/transport/types.js";

export class SourceAddresses {
  #i = 0;

  constructor(readonly net: number) {
    if (!(Number.isInteger(net) && net >= 1 && net <= 254)) throw new RangeError("source net must be 1..254");
  }

  /** The next address (IPv4 targets); IPv6 targets use ::1. */
  next(family: PeerAddress["family"] = "IPv4"): string {
    if (family === "IPv6") return "::1";
    const i = this.#i++ % (256 * 254);
    return `127.${this.net}.${Math.floor(i / 254)}.${(i % 254) + 1}`;
  }
}
