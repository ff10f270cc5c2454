/**
 * The cloud registry (GET /v1/registry) as the edge uses it: answer 4.04 and 4.05 locally,
 * without a round trip, and list the resources in /.well-known/core. Matching is the shared
 * template matcher, the same one the Worker dispatches with, so both sides agree on every path.
 */
import {
  compareTemplates,
  findRoute,
  methodName,
  parsePathTemplate,
  type LinkDescription,
  type Registry,
  type RegistryResource,
  type TemplateSegment,
} from "@coaps-edge/shared";

export type RegistryLookup =
  | { readonly kind: "found"; readonly resource: RegistryResource; readonly params: Record<string, string> }
  /** no resource at this path: answer 4.04 */
  | { readonly kind: "not-found" }
  /** the resource exists without this method: answer 4.05 */
  | { readonly kind: "method-not-allowed"; readonly resource: RegistryResource };

export class RegistryView {
  readonly registry: Registry;
  readonly #entries: { resource: RegistryResource; segments: readonly TemplateSegment[] }[];

  constructor(registry: Registry) {
    this.registry = registry;
    this.#entries = registry.resources
      .flatMap((resource) => {
        const segments = parsePathTemplate(resource.path);
        return segments ? [{ resource, segments }] : [];
      })
      .sort((a, b) => compareTemplates(a.segments, b.segments));
  }

  /** Where a request for `uriPath` with method code `method` goes. */
  lookup(uriPath: readonly string[], method: number): RegistryLookup {
    const hit = findRoute(this.#entries, uriPath);
    if (!hit) return { kind: "not-found" };
    const name = methodName(method);
    if (name === undefined || !(hit.entry.resource.methods as readonly string[]).includes(name)) {
      return { kind: "method-not-allowed", resource: hit.entry.resource };
    }
    return { kind: "found", resource: hit.entry.resource, params: hit.params };
  }

  /** RFC 6690 links for /.well-known/core (see `registryLinks`). */
  links(): LinkDescription[] {
    return registryLinks(this.registry);
  }
}

/**
 * One link per concrete (parameter-free) resource, with title, rt, if, ct, sz, obs. Template
 * paths (`/sensors/[id]/temperature`) are left out: `[` and `]` are not allowed in a URI path
 * (RFC 3986 §3.3), and a device cannot fill in a template it was never told about.
 */
export function registryLinks(registry: Registry): LinkDescription[] {
  const links: LinkDescription[] = [];
  for (const r of registry.resources) {
    if (r.path.includes("[")) continue;
    const attributes: NonNullable<LinkDescription["attributes"]> = {};
    if (r.title !== undefined) attributes.title = r.title;
    if (r.rt !== undefined) attributes.rt = r.rt;
    if (r.if !== undefined) attributes.if = r.if;
    if (r.ct !== undefined) attributes.ct = r.ct;
    if (r.sz !== undefined) attributes.sz = r.sz;
    if (r.obs) attributes.obs = true;
    links.push({ href: r.path, attributes });
  }
  return links;
}
