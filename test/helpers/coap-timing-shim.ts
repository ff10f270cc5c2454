/**
 * Builds coap-timing-shim.c (beside this file) into a shared object once per content, so a test
 * can run the real libcoap `coap-client-*` binaries with other CoAP transmission parameters
 * (RFC 7252 §4.8: ACK_TIMEOUT, MAX_RETRANSMIT) than the ones coap-client hard-codes. Why and how
 * the shim works is in the C file's header. Built by preload-shim.ts.
 */
import type { TestContext } from "node:test";
import { buildPreloadShim } from "./preload-shim.js";

/** CoAP transmission parameters for the libcoap client sessions. */
export interface CoapTiming {
  /** ACK_TIMEOUT in ms (libcoap: 2000). */
  readonly ackTimeoutMs: number;
  /** MAX_RETRANSMIT (libcoap: 4). */
  readonly maxRetransmit: number;
}

/** The path of the built shim (compiled into the temp dir on first use), or undefined when skipped. */
export function timingShim(t: TestContext): Promise<string | undefined> {
  return buildPreloadShim(t, "coap-timing-shim.c", "timing-shim", "libcoap timing shim");
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
