/**
 * Per-socket UDP receive drops from the kernel: Linux counts, for each UDP socket, the datagrams
 * it dropped because the socket's receive buffer was full (the last column, "drops", of
 * /proc/net/udp and /proc/net/udp6). The system-wide sum is RcvbufErrors in /proc/net/snmp; the
 * per-socket one tells whether *our* listeners lost a burst before the agent could read it.
 * Read at scrape time only. Sockets are matched by local address and port (node:dgram does not
 * expose the socket's inode); on other systems, or without /proc, nothing is reported.
 */
import { readFileSync } from "node:fs";
import { isIPv6 } from "node:net";
import type { PeerAddress } from "../transport/types.js";

/** One row of /proc/net/udp{,6}: the local address as text, port and drop count. */
export interface UdpSocketRow {
  readonly address: string;
  readonly port: number;
  readonly drops: number;
}

/** The kernel writes each 32-bit word of the address in host byte order (little-endian here). */
function hexAddress(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => [w.slice(6, 8), w.slice(4, 6), w.slice(2, 4), w.slice(0, 2)].map((b) => parseInt(b, 16)));
  if (bytes.length === 4) return bytes.join(".");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return groups.join(":");
}

/** Parses the text of /proc/net/udp or /proc/net/udp6 (header line first). */
export function parseProcNetUdp(text: string): UdpSocketRow[] {
  const rows: UdpSocketRow[] = [];
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 13) continue;
    const [addr, port] = (f[1] ?? "").split(":");
    if (!addr || !port) continue;
    rows.push({ address: hexAddress(addr), port: parseInt(port, 16), drops: Number(f[f.length - 1]) });
  }
  return rows;
}

/** An address as hexAddress writes it: IPv4 dotted, IPv6 as eight hex groups without "::". */
function canonical(address: string): string {
  let a = address.split("%")[0] ?? address;
  if (!isIPv6(a)) return a;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (dotted) {
    const [b0, b1, b2, b3] = dotted.slice(1).map(Number) as [number, number, number, number];
    a = `${a.slice(0, dotted.index)}${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const [head = "", tail = ""] = a.split("::");
  const h = head === "" ? [] : head.split(":");
  const t = a.includes("::") && tail !== "" ? tail.split(":") : [];
  const groups = a.includes("::") ? [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t] : h;
  return groups.map((g) => parseInt(g, 16).toString(16)).join(":");
}

/** Drops of each socket in `sockets` ("address:port" → count); undefined where the kernel has no such file. */
export function udpSocketDrops(sockets: Iterable<PeerAddress>, read: (path: string) => string = (p) => readFileSync(p, "utf8")): Map<string, number> | undefined {
  let rows: UdpSocketRow[] = [];
  let found = false;
  for (const file of ["/proc/net/udp", "/proc/net/udp6"]) {
    try {
      rows = rows.concat(parseProcNetUdp(read(file)));
      found = true;
    } catch {
      // not Linux, or no IPv6
    }
  }
  if (!found) return undefined;
  const out = new Map<string, number>();
  for (const s of sockets) {
    const want = canonical(s.address);
    const row = rows.find((r) => r.port === s.port && r.address === want);
    if (row) out.set(`${s.family === "IPv6" ? `[${s.address}]` : s.address}:${s.port}`, row.drops);
  }
  return out;
}
