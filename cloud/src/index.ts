/**
 * The Worker entry (infra/wrangler/wrangler.jsonc `main`): the cloud app over the route files
 * of cloud/resources/. Only the default export: workerd treats named exports of the entry
 * module as entrypoints. Library users import `@coaps-edge/cloud/lib`.
 */
import { createCloudApp } from "./app.js";
import { routes } from "./registry.gen.js";
import { createRegistry } from "./registry.js";

export default createCloudApp({ registry: createRegistry(routes) });
