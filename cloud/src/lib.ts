/**
 * The cloud side as a library (`@coaps-edge/cloud/lib`): the app factory, the registry, and the
 * generated route list — what the edge agent needs to run the same app in process (embedded
 * mode, DESIGN.md §3) and what tests build apps from.
 */
import { createCloudApp, type CloudAppOptions } from "./app.js";
import type { Hono } from "hono";
import type { CloudEnv } from "./auth.js";
import { routes } from "./registry.gen.js";
import { createRegistry, type CloudRegistry } from "./registry.js";

export { createCloudApp, DEFAULT_MAX_ENVELOPE_BYTES, type CloudAppOptions } from "./app.js";
export { gatewayAuth, httpError, type CloudBindings, type CloudEnv, type GatewayAuthOptions } from "./auth.js";
export { dispatch, diagnostic } from "./dispatch.js";
export { createRegistry, type CloudRegistry, type Route, type RouteModule } from "./registry.js";
export { routes } from "./registry.gen.js";
export * from "./resource.js";

let defaultRegistry: CloudRegistry | undefined;

/** The registry of the route files under cloud/resources/ (built once). */
export function getDefaultRegistry(): CloudRegistry {
  return (defaultRegistry ??= createRegistry(routes));
}

/** The app over the default registry: what the Worker serves. */
export function createDefaultCloudApp(options: Omit<CloudAppOptions, "registry"> = {}): Hono<CloudEnv> {
  return createCloudApp({ ...options, registry: getDefaultRegistry() });
}
