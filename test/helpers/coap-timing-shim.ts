/**
 * Builds coap-timing-shim.c (beside this file) into a shared object once per content, so a test
 * can run the real libcoap `coap-client-*` binaries with other CoAP transmission parameters
 * (RFC 7252 §4.8: ACK_TIMEOUT, MAX_RETRANSMIT) than the ones coap-client hard-codes. Why and how
 * the shim works is in the C file's header. Needs a C compiler (`cc`, Debian's gcc): missing, it
 * fails the test under CI=true and skips it otherwise, like a missing libcoap binary.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile, rename, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { findBinary } from "./libcoap.js";

const SOURCE = fileURLToPath(new URL("./coap-timing-shim.c", import.meta.url));

/** CoAP transmission parameters for the libcoap client sessions. */
export interface CoapTiming {
  /** ACK_TIMEOUT in ms (libcoap: 2000). */
  readonly ackTimeoutMs: number;
  /** MAX_RETRANSMIT (libcoap: 4). */
  readonly maxRetransmit: number;
}

/** The path of the built shim (compiled into the temp dir on first use), or undefined when skipped. */
export async function timingShim(t: TestContext): Promise<string | undefined> {
  const cc = findBinary("cc") ?? findBinary("gcc");
  if (!cc) {
    if (process.env.CI === "true") throw new Error("no C compiler (cc) to build the libcoap timing shim: apt-get install gcc");
    t.skip("no C compiler (cc) to build the libcoap timing shim");
    return undefined;
  }
  const source = await readFile(SOURCE);
  const out = join(tmpdir(), `coaps-edge-timing-shim-${createHash("sha256").update(source).digest("hex").slice(0, 16)}.so`);
  if (await stat(out).then(() => true, () => false)) return out;
  // Build under a unique name, then rename: parallel test files may build at the same time.
  const partial = `${out}.${process.pid}.tmp`;
  await promisify(execFile)(cc, ["-O2", "-Wall", "-shared", "-fPIC", "-o", partial, SOURCE, "-ldl"]);
  await rename(partial, out);
  return out;
}

/** The environment that makes a libcoap client use `timing` (the shim preloaded). */
export function timingEnv(shim: string, timing: CoapTiming): NodeJS.ProcessEnv {
  return {
    ...process.env,
    LD_PRELOAD: shim,
    COAP_SHIM_ACK_TIMEOUT_MS: String(timing.ackTimeoutMs),
    COAP_SHIM_MAX_RETRANSMIT: String(timing.maxRetransmit),
  };
}

/** The line the shim prints once per session with the values in force. */
export function timingLine(timing: CoapTiming): string {
  const s = Math.floor(timing.ackTimeoutMs / 1000);
  const ms = String(timing.ackTimeoutMs % 1000).padStart(3, "0");
  return `coap-timing-shim: ack_timeout=${s}.${ms} max_retransmit=${timing.maxRetransmit}`;
}
