/**
 * /.well-known/core (RFC 6690 §4): the link-format description of the registered resources,
 * generated from their metadata (title, rt, if, ct, sz, obs). Resources with `{param}`
 * segments are templates, not links, and are left out, as are `hidden` ones.
 *
 * Query filtering (§4.1): one `name=value` item selects links whose attribute `name` (or the
 * href for "href") equals value, or starts with it when value ends in "*"; for space-separated
 * attributes (rt, if) and lists (ct) any one entry may match.
 */
import { formatLinkFormat, type LinkDescription } from "@coaps-edge/shared";
import type { ResourceDefinition } from "./types.js";

/** The Uri-Path of the discovery resource. */
export const WELL_KNOWN_CORE = [".well-known", "core"] as const;

/** True when `path` is /.well-known/core. */
export function isWellKnownCore(path: readonly string[]): boolean {
  return path.length === 2 && path[0] === WELL_KNOWN_CORE[0] && path[1] === WELL_KNOWN_CORE[1];
}

/** The link description of one resource. */
export function describeResource(href: string, r: ResourceDefinition): LinkDescription {
  const attributes: NonNullable<LinkDescription["attributes"]> = {};
  if (r.rt !== undefined) attributes["rt"] = typeof r.rt === "string" ? r.rt : [...r.rt];
  if (r.if !== undefined) attributes["if"] = typeof r.if === "string" ? r.if : [...r.if];
  if (r.ct !== undefined) attributes["ct"] = typeof r.ct === "number" ? r.ct : [...r.ct];
  if (r.sz !== undefined) attributes["sz"] = r.sz;
  if (r.title !== undefined) attributes["title"] = r.title;
  if (r.obs) attributes["obs"] = true;
  return { href, attributes };
}

/** The links of registered resources (templates and hidden ones left out), in registration order. */
export function resourceLinks(entries: Iterable<[string, ResourceDefinition]>): LinkDescription[] {
  const links: LinkDescription[] = [];
  for (const [template, r] of entries) {
    if (r.hidden || template.includes("{")) continue;
    links.push(describeResource(template, r));
  }
  return links;
}

/** The links that pass the RFC 6690 §4.1 query filter (the first Uri-Query item; none → all). */
export function filterLinks(links: readonly LinkDescription[], query: readonly string[]): LinkDescription[] {
  const item = query[0];
  if (item === undefined || item === "") return [...links];
  const eq = item.indexOf("=");
  const name = eq < 0 ? item : item.slice(0, eq);
  const want = eq < 0 ? "" : item.slice(eq + 1);
  const prefix = want.endsWith("*");
  const target = prefix ? want.slice(0, -1) : want;
  const matches = (v: string): boolean => (prefix ? v.startsWith(target) : v === target);
  return links.filter((l) => {
    if (name === "href") return matches(l.href);
    const v = l.attributes?.[name];
    if (v === undefined || v === false) return false;
    if (v === true) return eq < 0 || target === "";
    const values = Array.isArray(v) ? v.map(String) : typeof v === "string" ? v.split(" ") : [String(v)];
    return values.some(matches);
  });
}

/** The /.well-known/core document for a query. */
export function wellKnownCore(entries: Iterable<[string, ResourceDefinition]>, query: readonly string[]): string {
  return formatLinkFormat(filterLinks(resourceLinks(entries), query));
}
