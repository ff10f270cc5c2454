/**
 * A JSON request body checked against a zod schema, for the POST routes (/v1/coap, /v1/health).
 * The order of refusals is the edge↔cloud contract's (DESIGN §3): the size limit runs before this
 * (hono bodyLimit → 413), then "not JSON" → 400 bad-json, then "not the schema" → 400 with the
 * route's error code and the zod issues as one line.
 */
import type { Context } from "hono";
import type * as z from "zod/mini";
import { httpError } from "./auth.js";
import { ENGLISH, formatIssues } from "./issues.js";

export async function readJsonBody<S extends z.ZodMiniType>(c: Context, schema: S, invalidError: string): Promise<z.output<S>> {
  let body: unknown;
  try {
    body = JSON.parse(await c.req.text());
  } catch {
    throw httpError(400, "bad-json", "body is not JSON");
  }
  const parsed = schema.safeParse(body, ENGLISH);
  if (!parsed.success) throw httpError(400, invalidError, formatIssues(parsed.error.issues));
  return parsed.data;
}
