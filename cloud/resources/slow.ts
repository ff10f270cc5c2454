/**
 * GET /slow?ms=3000: answers after a delay (capped at 10 s), for testing separate responses
 * (RFC 7252 §5.2.2: the edge sends an empty ACK when the cloud is slow) and forwarder timeouts.
 */
import { ContentFormat } from "@coaps-edge/shared";
import { defineResource } from "@coaps-edge/cloud/resource";
import * as z from "zod/mini";

export const SLOW_MAX_MS = 10_000;

export default defineResource({
  title: "Slow",
  rt: "test.slow",
  ct: ContentFormat.text,
  get: {
    query: z.object({ ms: z.optional(z.coerce.number().check(z.int(), z.minimum(0))) }),
    handler: async (req) => {
      const ms = Math.min(req.query.ms ?? 3000, SLOW_MAX_MS);
      await new Promise((resolve) => setTimeout(resolve, ms));
      return { text: `slept ${ms} ms` };
    },
  },
});
