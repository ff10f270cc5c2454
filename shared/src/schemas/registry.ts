/**
 * The cloud resource registry as the edge sees it (GET /v1/registry): which paths exist, which
 * methods each accepts, and the RFC 6690 attributes for /.well-known/core. The edge answers 4.04
 * and 4.05 locally from it, without a round trip to the cloud.
 *
 * Paths are templates: `/sensors/[id]/temperature` has one parameter segment `id` that matches
 * any single Uri-Path segment. Matching lives here so that the edge and the Worker agree on it.
 */
import * as z from "zod/mini";
import { ENVELOPE_METHODS } from "./envelope.js";

/** Registry format version; a receiver rejects any other. */
export const REGISTRY_VERSION = 1;

const PARAM = /^\[([A-Za-z_][A-Za-z0-9_]*)\]$/;

/** `/a/[b]/c` with non-empty segments, or `/` for the root resource. */
export const PathTemplateSchema = z.string().check(
  z.refine((s) => parsePathTemplate(s) !== undefined, "a path template like /sensors/[id]/temperature"),
);

export const RegistryResourceSchema = z.object({
  path: PathTemplateSchema,
  methods: z.array(z.enum(ENVELOPE_METHODS)),
  title: z.optional(z.string()),
  /** Resource type(s), space separated (RFC 6690 §3.1). */
  rt: z.optional(z.string()),
  /** Interface description(s), space separated (RFC 6690 §3.2). */
  if: z.optional(z.string()),
  /** Content-Format(s) the resource serves (RFC 7252 §7.2.1). */
  ct: z.optional(z.union([z.number(), z.array(z.number())])),
  /** Maximum size estimate in bytes (RFC 6690 §3.3). */
  sz: z.optional(z.number()),
  /** Observable (RFC 7641 §6). */
  obs: z.optional(z.boolean()),
});
export type RegistryResource = z.infer<typeof RegistryResourceSchema>;

export const RegistrySchema = z.object({
  version: z.literal(REGISTRY_VERSION),
  resources: z.array(RegistryResourceSchema),
});
export type Registry = z.infer<typeof RegistrySchema>;

/** One segment of a parsed path template. */
export type TemplateSegment = { readonly kind: "static"; readonly value: string } | { readonly kind: "param"; readonly name: string };

/**
 * Segments of a path template, or undefined if it is not one: it starts with `/`, has no empty
 * segment (except `/` alone, the root), and each `[name]` segment is a JS identifier, used once.
 */
export function parsePathTemplate(template: string): TemplateSegment[] | undefined {
  if (template === "/") return [];
  if (!template.startsWith("/")) return undefined;
  const out: TemplateSegment[] = [];
  const names = new Set<string>();
  for (const seg of template.slice(1).split("/")) {
    if (seg === "") return undefined;
    const m = PARAM.exec(seg);
    if (m) {
      const name = m[1]!;
      if (names.has(name)) return undefined;
      names.add(name);
      out.push({ kind: "param", name });
    } else {
      if (seg.includes("[") || seg.includes("]")) return undefined;
      out.push({ kind: "static", value: seg });
    }
  }
  return out;
}

/**
 * The shape that makes two templates the same route: parameter names erased
 * (`/sensors/[id]` and `/sensors/[name]` both give `/sensors/[]`).
 */
export function routeKey(segments: readonly TemplateSegment[]): string {
  return "/" + segments.map((s) => (s.kind === "static" ? s.value : "[]")).join("/");
}

/** Parameter values if `uriPath` matches `segments`, else undefined. */
export function matchPathTemplate(
  segments: readonly TemplateSegment[],
  uriPath: readonly string[],
): Record<string, string> | undefined {
  if (segments.length !== uriPath.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const value = uriPath[i]!;
    if (seg.kind === "static") {
      if (seg.value !== value) return undefined;
    } else {
      // A parameter stands for one real segment; an empty one ("/sensors//temperature") is no id.
      if (value === "") return undefined;
      params[seg.name] = value;
    }
  }
  return params;
}

/**
 * Orders templates so that the first match is the most specific one: at the first position where
 * two differ, a static segment wins over a parameter (`/sensors/all` before `/sensors/[id]`).
 */
export function compareTemplates(a: readonly TemplateSegment[], b: readonly TemplateSegment[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ka = a[i]!.kind;
    const kb = b[i]!.kind;
    if (ka !== kb) return ka === "static" ? -1 : 1;
  }
  return a.length - b.length;
}

/** The first entry whose template matches `uriPath` (entries sorted by `compareTemplates`). */
export function findRoute<T extends { readonly segments: readonly TemplateSegment[] }>(
  entries: readonly T[],
  uriPath: readonly string[],
): { entry: T; params: Record<string, string> } | undefined {
  for (const entry of entries) {
    const params = matchPathTemplate(entry.segments, uriPath);
    if (params) return { entry, params };
  }
  return undefined;
}
