/**
 * Two hosts on one IPv6-only link, built from Linux network namespaces (`ip netns`) and a veth
 * pair, for tests of what crosses a real network stack: the "gateway" (a border router whose
 * Thread interface is `wpan-t0`) and a "device" (`wpan-d0`), fd00::1/64 and fd00::2/64.
 *
 *     netns coaps-gw-…                      netns coaps-dev-…
 *     lo  ::1                               lo  ::1
 *     wpan-t0  fd00::1/64, fe80::…  ══veth══  wpan-d0  fd00::2/64, fe80::…
 *
 * No IPv4 address is configured. Duplicate address detection is off on both interfaces
 * (`nodad` on the fd00:: addresses, `accept_dad=0` for the link-local ones) so every address is
 * usable at once instead of "tentative" for a second (RFC 4862 §5.4). The veth ends are created
 * directly inside their namespaces, so parallel tests never collide on names in the root one.
 *
 * Teardown kills whatever still runs in the namespaces and deletes them; it also runs on
 * process exit, so a failed test leaves nothing behind. Needs root (CAP_NET_ADMIN + CAP_SYS_ADMIN):
 * `netnsSupport()` says why not, for a skip message.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess, type SpawnOptions } from "node:child_process";
import { randomBytes } from "node:crypto";

export const GATEWAY_IF = "wpan-t0";
export const DEVICE_IF = "wpan-d0";
export const GATEWAY_ADDR = "fd00::1";
export const DEVICE_ADDR = "fd00::2";

export interface ThreadLink {
  /** Namespace names (unique per link). */
  readonly gateway: string;
  readonly device: string;
  readonly gatewayIf: typeof GATEWAY_IF;
  readonly deviceIf: typeof DEVICE_IF;
  readonly gatewayAddr: typeof GATEWAY_ADDR;
  readonly deviceAddr: typeof DEVICE_ADDR;
  /** Kills processes left in both namespaces and deletes them (idempotent). */
  destroy(): void;
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

let cachedSupport: { ok: true } | { ok: false; reason: string } | undefined;

/** Whether namespaces can be made here; `reason` is a skip message when not. Probed once. */
export function netnsSupport(): { ok: true } | { ok: false; reason: string } {
  if (cachedSupport) return cachedSupport;
  const ip = spawnSync("ip", ["-V"], { encoding: "utf8" });
  if (ip.error) return (cachedSupport = { ok: false, reason: "`ip` (iproute2) is not installed" });
  if (process.getuid?.() !== 0) return (cachedSupport = { ok: false, reason: "network namespaces need root (CAP_NET_ADMIN)" });
  const probe = `coaps-probe-${process.pid}-${randomBytes(3).toString("hex")}`;
  const add = spawnSync("ip", ["netns", "add", probe], { encoding: "utf8" });
  if (add.status !== 0) {
    return (cachedSupport = { ok: false, reason: `cannot create a network namespace: ${add.stderr.trim() || `ip exited ${add.status}`}` });
  }
  spawnSync("ip", ["netns", "del", probe]);
  return (cachedSupport = { ok: true });
}

const live = new Set<ThreadLink>();
process.on("exit", () => {
  for (const link of live) link.destroy();
});

function ip(args: readonly string[]): void {
  const r = spawnSync("ip", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ip ${args.join(" ")} failed: ${r.stderr.trim() || `exit ${r.status}`}`);
}

/** Writes an IPv6 sysctl of one interface inside a namespace (no `sysctl` binary needed). */
function setIpv6Conf(ns: string, ifname: string, key: string, value: string): void {
  execFileSync("ip", ["netns", "exec", ns, "sh", "-c", `echo ${value} > /proc/sys/net/ipv6/conf/${ifname}/${key}`]);
}

/** Kills every process in a namespace (`ip netns pids`), then deletes it; errors are ignored. */
function removeNamespace(ns: string): void {
  const pids = spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8" });
  for (const pid of (pids.stdout ?? "").split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // already gone
    }
  }
  spawnSync("ip", ["netns", "del", ns]);
}

/**
 * Builds the two-host link and waits until both interfaces are up with their addresses usable.
 * Throws (after removing what it made) if a step fails; call `netnsSupport()` first to skip.
 */
export async function createThreadLink(): Promise<ThreadLink> {
  const tag = `${process.pid}-${randomBytes(3).toString("hex")}`;
  const gateway = `coaps-gw-${tag}`;
  const device = `coaps-dev-${tag}`;
  let destroyed = false;
  const link: ThreadLink = {
    gateway,
    device,
    gatewayIf: GATEWAY_IF,
    deviceIf: DEVICE_IF,
    gatewayAddr: GATEWAY_ADDR,
    deviceAddr: DEVICE_ADDR,
    destroy() {
      if (destroyed) return;
      destroyed = true;
      live.delete(link);
      removeNamespace(gateway);
      removeNamespace(device);
    },
  };
  live.add(link);
  try {
    ip(["netns", "add", gateway]);
    ip(["netns", "add", device]);
    ip(["link", "add", GATEWAY_IF, "netns", gateway, "type", "veth", "peer", "name", DEVICE_IF, "netns", device]);
    for (const [ns, ifname, addr] of [
      [gateway, GATEWAY_IF, GATEWAY_ADDR],
      [device, DEVICE_IF, DEVICE_ADDR],
    ] as const) {
      setIpv6Conf(ns, ifname, "disable_ipv6", "0");
      setIpv6Conf(ns, ifname, "accept_dad", "0");
      ip(["-n", ns, "link", "set", "lo", "up"]);
      ip(["-n", ns, "-6", "addr", "add", `${addr}/64`, "dev", ifname, "nodad"]);
      ip(["-n", ns, "link", "set", ifname, "up"]);
    }
    await waitFor(() => linkReady(gateway, GATEWAY_IF) && linkReady(device, DEVICE_IF), 5000, "veth link up with usable IPv6 addresses");
  } catch (e) {
    link.destroy();
    throw e;
  }
  return link;
}

/** Up with carrier (LOWER_UP), a link-local address, and no tentative address left. */
function linkReady(ns: string, ifname: string): boolean {
  const show = spawnSync("ip", ["-n", ns, "-6", "addr", "show", "dev", ifname], { encoding: "utf8" }).stdout ?? "";
  return show.includes("LOWER_UP") && /inet6 fe80::/.test(show) && !show.includes("tentative");
}

/** Polls `ready` every 50 ms until it holds, or throws after `timeoutMs`. */
export async function waitFor(ready: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs a command inside a namespace to completion (`ip netns exec`), killed after `timeoutMs`. */
export function run(ns: string, cmd: string, args: readonly string[], timeoutMs = 15_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("ip", ["netns", "exec", ns, cmd, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Starts a long-running command inside a namespace; the caller (or `destroy`) ends it. */
export function spawnIn(ns: string, cmd: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  return spawn("ip", ["netns", "exec", ns, cmd, ...args], { stdio: ["ignore", "pipe", "pipe"], ...options });
}

/** True once something in `ns` has a UDP socket bound to `port` on any address (`ss -Hnlu`). */
export function udpListening(ns: string, port: number): boolean {
  const out = spawnSync("ip", ["netns", "exec", ns, "ss", "-Hnlu"], { encoding: "utf8" }).stdout ?? "";
  // Columns: State Recv-Q Send-Q Local-Address:Port Peer-Address:Port ("[fd00::1]:5683", "*:5683").
  return out.split("\n").some((line) => (line.trim().split(/\s+/)[3] ?? "").endsWith(`:${port}`));
}
