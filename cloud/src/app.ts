/**
 * The cloud app (DESIGN.md §3), one Hono app for the Worker and for the edge's embedded mode:
 *
 *     GET  /health        liveness, no auth
 *     GET  /v1/registry   resource paths, methods and RFC 6690 attributes (gateway token)
 *     POST /v1/coap       request envelope → response envelope (gateway token)
 *     POST /v1/health     gateway health report (gateway token); GET /v1/gateways (operator token) — gateways.ts
 *
 * POST /v1/coap, in order: gateway token (401, before the body is read) → body size (413) →
 * JSON + envelope schema (400) → envelope gateway id = token's (403) → dispatch → 200 with the
 * response envelope. CoAP outcomes, errors included, are always a 200 carrying the CoAP code;
 * HTTP error statuses mean the exchange itself failed (the edge maps those, DESIGN.md §3).
 */
import { RequestEnvelopeSchema } from "@coaps-edge/shared";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { gatewayAuth, httpError, type CloudEnv, type GatewayAuthOptions } from "./auth.js";
import { dispatch } from "./dispatch.js";
import { readJsonBody } from "./json-body.js";
import { registerGatewayRoutes, type GatewayRoutesOptions } from "./gateways.js";
import type { CloudRegistry } from "./registry.js";

/** Default cap on an envelope: 1 MiB of JSON (a 700 KiB CoAP body after base64). */
export const DEFAULT_MAX_ENVELOPE_BYTES = 1024 * 1024;

export interface CloudAppOptions extends GatewayAuthOptions {
  readonly registry: CloudRegistry;
  /** Largest request body accepted on POST /v1/coap; default 1 MiB. */
  readonly maxEnvelopeBytes?: number;
  /** Health reports and the operators' gateway list (POST /v1/health, GET /v1/gateways). */
  readonly gateways?: GatewayRoutesOptions;
}

/** Builds the app. `app.fetch(request, env)` is the Worker's fetch handler. */
export function createCloudApp(options: CloudAppOptions): Hono<CloudEnv> {
  const { registry } = options;
  const maxSize = options.maxEnvelopeBytes ?? DEFAULT_MAX_ENVELOPE_BYTES;
  const app = new Hono<CloudEnv>();

  app.get("/health", (c) => c.json({ status: "ok", resources: registry.routes.length }));

  // Before the /v1/* gateway auth: GET /v1/gateways takes an operator token (gateways.ts).
  registerGatewayRoutes(app, { ...options.gateways, auth: options });

  app.use("/v1/*", gatewayAuth(options));

  app.get("/v1/registry", (c) => c.json(registry.metadata()));

  app.post(
    "/v1/coap",
    bodyLimit({
      maxSize,
      onError: () => httpError(413, "too-large", `envelope larger than ${maxSize} bytes`).getResponse(),
    }),
    async (c) => {
      const envelope = await readJsonBody(c, RequestEnvelopeSchema, "bad-envelope");
      if (envelope.gatewayId !== c.var.gatewayId) {
        throw httpError(403, "gateway-mismatch", `token is for ${c.var.gatewayId}, envelope says ${envelope.gatewayId}`);
      }
      return c.json(await dispatch(envelope, registry, c.env ?? {}));
    },
  );

  app.notFound(() => httpError(404, "not-found", "no such endpoint").getResponse());

  app.onError((err, c) => {
    if (err instanceof HTTPException) return err.getResponse();
    console.error("cloud app error", err);
    return c.json({ error: "internal", message: "internal error" }, 500);
  });

  return app;
}
