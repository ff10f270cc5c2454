/**
 * The run-time registry: route files (listed by the generated registry.gen.ts, because Workers
 * cannot glob at run time) turned into matchable routes. Built once per isolate; every mistake a
 * route file can make — a bad path, two files for one path, declared `params` that differ from
 * the path's `[name]` segments, a default export that is not a resource — throws here, so it
 * fails the first test and the first request instead of routing wrongly.
 */
import {
  REGISTRY_VERSION,
  compareTemplates,
  findRoute,
  parsePathTemplate,
  routeKey,
  type EnvelopeMethod,
  type Registry,
  type TemplateSegment,
} from "@coaps-edge/shared";
import { isResource, type Resource } from "./define-resource.js";

/** One route file as the generator lists it. */
export interface RouteModule {
  /** Path template, e.g. "/sensors/[id]/temperature". */
  readonly path: string;
  /** Source file relative to cloud/resources/ (for error messages). */
  readonly file?: string;
  /** The route file's default export. */
  readonly resource: unknown;
}

export interface Route {
  readonly path: string;
  readonly file: string | undefined;
  readonly segments: readonly TemplateSegment[];
  readonly resource: Resource;
}

export interface CloudRegistry {
  /** Routes, most specific first. */
  readonly routes: readonly Route[];
  /** The matching route and its parameter values, or undefined (→ 4.04). */
  find(uriPath: readonly string[]): { route: Route; params: Record<string, string> } | undefined;
  /** What GET /v1/registry serves: paths, methods, RFC 6690 attributes. */
  metadata(): Registry;
}

/** Validates and indexes route modules. Throws Error naming the offending file(s). */
export function createRegistry(modules: readonly RouteModule[]): CloudRegistry {
  const byKey = new Map<string, Route>();
  for (const m of modules) {
    const where = m.file ? ` (${m.file})` : "";
    const segments = parsePathTemplate(m.path);
    if (!segments) throw new Error(`registry: invalid path template ${JSON.stringify(m.path)}${where}`);
    if (!isResource(m.resource)) throw new Error(`registry: ${m.path}${where} does not export default defineResource(...)`);
    const declared = m.resource.params;
    if (declared) {
      const actual = segments.flatMap((s) => (s.kind === "param" ? [s.name] : []));
      if ([...declared].sort().join(",") !== [...actual].sort().join(",")) {
        throw new Error(`registry: ${m.path}${where} declares params [${declared.join(", ")}] but its path has [${actual.join(", ")}]`);
      }
    }
    const key = routeKey(segments);
    const other = byKey.get(key);
    if (other) throw new Error(`registry: ${other.path}${other.file ? ` (${other.file})` : ""} and ${m.path}${where} claim the same route`);
    byKey.set(key, { path: m.path, file: m.file, segments, resource: m.resource });
  }
  const routes = [...byKey.values()].sort((a, b) => compareTemplates(a.segments, b.segments) || (a.path < b.path ? -1 : 1));
  const meta: Registry = {
    version: REGISTRY_VERSION,
    resources: [...routes]
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
      .map((r) => ({
        path: r.path,
        methods: Object.keys(r.resource.methods) as EnvelopeMethod[],
        ...r.resource.attributes,
        ...(Array.isArray(r.resource.attributes.ct) ? { ct: [...r.resource.attributes.ct] } : {}),
      })) as Registry["resources"],
  };
  return {
    routes,
    find(uriPath) {
      const hit = findRoute(routes, uriPath);
      return hit && { route: hit.entry, params: hit.params };
    },
    metadata: () => meta,
  };
}
