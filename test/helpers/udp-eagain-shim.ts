/**
 * Builds udp-eagain-shim.c (beside this file) into a shared object once per content, so a test
 * can make sendmmsg(2) on one UDP socket refuse with EAGAIN/ENOBUFS or take part of a batch, or
 * turn on IP_RECVERR so an ICMP error raises POLLERR (what loopback never does on its own; the C
 * file's header says how). Built by preload-shim.ts.
 */
import type { TestContext } from "node:test";
import { buildPreloadShim } from "./preload-shim.js";

/** Prefix of the shim's trace lines on stderr. */
export const SHIM_TRACE_PREFIX = "udp-eagain-shim: ";

/** The path of the built shim (compiled into the temp dir on first use), or undefined when skipped. */
export function eagainShim(t: TestContext): Promise<string | undefined> {
  return buildPreloadShim(t, "udp-eagain-shim.c", "udp-eagain-shim", "UDP EAGAIN shim", ["-Wextra", "-Werror"]);
}

/** The shim's trace lines (prefix removed) from a process's stderr. */
export function shimTrace(stderr: string): string[] {
  return stderr
    .split("\n")
    .filter((line) => line.startsWith(SHIM_TRACE_PREFIX))
    .map((line) => line.slice(SHIM_TRACE_PREFIX.length));
}
