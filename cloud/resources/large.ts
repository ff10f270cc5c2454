/**
 * GET /large: 16 KiB of deterministic text, larger than any CoAP datagram, so the edge must
 * send it block-wise (RFC 7959 Block2). Numbered 64-byte lines make a missing or repeated
 * block visible at a glance.
 */
import { ContentFormat } from "@coaps-edge/shared";
import { defineResource } from "@coaps-edge/cloud/resource";

export const LARGE_BODY_BYTES = 16384;

/** The body: 256 lines of exactly 64 bytes ("line 0000 " + filler + "\n"). */
export function largeText(): string {
  let out = "";
  for (let i = 0; i < LARGE_BODY_BYTES / 64; i++) {
    const head = `line ${String(i).padStart(4, "0")} `;
    out += head + "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".slice(0, 63 - head.length) + "\n";
  }
  return out;
}

const body = largeText();

export default defineResource({
  title: "Large text",
  rt: "large",
  ct: ContentFormat.text,
  sz: LARGE_BODY_BYTES,
  get: { handler: () => ({ text: body }) },
});
