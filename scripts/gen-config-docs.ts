/**
 * Generates docs/config.md, the agent config reference, from the zod schema itself
 * (shared/src/schemas/config.ts) so it cannot drift: sections, fields, types, limits and
 * defaults come from the runtime schema; each description is the JSDoc comment written above
 * the field (or the section's schema) in that source file, read with the TypeScript parser.
 * test/gateway/config-docs.test.ts fails when docs/config.md is not what this writes.
 *
 *     node --import tsx scripts/gen-config-docs.ts           write docs/config.md
 *     node --import tsx scripts/gen-config-docs.ts --check   exit 1 if it is out of date
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import * as config from "@coaps-edge/shared";

const SOURCE = fileURLToPath(new URL("../shared/src/schemas/config.ts", import.meta.url));
export const CONFIG_DOC = fileURLToPath(new URL("../docs/config.md", import.meta.url));

/** The slice of zod's internal definition this reads (zod v4 `_zod.def`). */
interface Def {
  type: string;
  shape?: Record<string, Schema>;
  innerType?: Schema;
  defaultValue?: unknown;
  element?: Schema;
  entries?: Record<string, string>;
  in?: Schema;
  checks?: { _zod: { def: CheckDef } }[];
}
interface CheckDef {
  check: string;
  format?: string;
  value?: number;
  inclusive?: boolean;
  minimum?: number;
  maximum?: number;
  error?: (issue: object) => unknown;
}
interface Schema {
  _zod: { def: Def };
}

/** JSDoc text above each object literal property / schema constant, by schema variable name. */
interface SourceDocs {
  /** "ListenSchema" → { port: "UDP port; …" } */
  readonly fields: Map<string, Map<string, string>>;
  /** "ListenSchema" → the comment above `export const ListenSchema`. */
  readonly schemas: Map<string, string>;
}

function jsDocText(node: ts.Node, text: string): string {
  const ranges = ts.getLeadingCommentRanges(text, node.getFullStart()) ?? [];
  const docs = ranges.map((r) => text.slice(r.pos, r.end)).filter((c) => c.startsWith("/**"));
  const last = docs.at(-1);
  if (!last) return "";
  const lines = last
    .replace(/^\/\*\*/, "")
    .replace(/\*\/$/, "")
    .split("\n")
    .map((l) => l.replace(/^\s*\* ?/, ""));
  // A blank line ends the prose; indented example blocks are left out of a table cell.
  const prose: string[] = [];
  for (const l of lines) {
    if (/^\s{2,}\S/.test(l) && prose.length > 0) break;
    prose.push(l.trim());
  }
  return prose.join(" ").replace(/\s+/g, " ").trim();
}

function readSourceDocs(): SourceDocs {
  const text = readFileSync(SOURCE, "utf8");
  const file = ts.createSourceFile(SOURCE, text, ts.ScriptTarget.Latest, true);
  const fields = new Map<string, Map<string, string>>();
  const schemas = new Map<string, string>();
  for (const stmt of file.statements) {
    if (!ts.isVariableStatement(stmt)) continue;
    for (const decl of stmt.declarationList.declarations) {
      if (!ts.isIdentifier(decl.name) || !decl.initializer) continue;
      const name = decl.name.text;
      schemas.set(name, jsDocText(stmt, text));
      const props = new Map<string, string>();
      const visit = (n: ts.Node): void => {
        // The first object literal passed to z.strictObject / z.object: the schema's own fields.
        if (ts.isObjectLiteralExpression(n) && props.size === 0) {
          for (const p of n.properties) if (p.name && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))) props.set(p.name.text, jsDocText(p, text));
          return;
        }
        ts.forEachChild(n, visit);
      };
      visit(decl.initializer);
      if (props.size) fields.set(name, props);
    }
  }
  return { fields, schemas };
}

const def = (s: Schema): Def => s._zod.def;

/** Strips default/prefault/optional: the value type, its default and whether it may be left out. */
function unwrap(s: Schema): { base: Schema; defaultValue?: unknown; optional: boolean } {
  let cur = s;
  let defaultValue: unknown;
  let optional = false;
  for (;;) {
    const d = def(cur);
    if ((d.type === "default" || d.type === "prefault") && d.innerType) {
      if (defaultValue === undefined) defaultValue = d.defaultValue;
      cur = d.innerType;
    } else if (d.type === "optional" && d.innerType) {
      optional = true;
      cur = d.innerType;
    } else if (d.type === "pipe" && d.in) {
      cur = d.in;
    } else {
      return { base: cur, defaultValue, optional };
    }
  }
}

const fmt = (n: number): string => (Number.isInteger(n) && Math.abs(n) >= 10_000 ? n.toLocaleString("en-US").replace(/,/g, "_") : String(n));

function describeType(s: Schema): string {
  const d = def(s);
  const checks = (d.checks ?? []).map((c) => c._zod.def);
  const notes: string[] = [];
  let min: number | undefined;
  let max: number | undefined;
  let int = false;
  for (const c of checks) {
    if (c.check === "number_format" && (c.format === "safeint" || c.format === "int32")) int = true;
    else if (c.check === "greater_than") min = c.value;
    else if (c.check === "less_than") max = c.value;
    else if (c.check === "min_length" && c.minimum !== undefined) notes.push(c.minimum === 1 ? "non-empty" : `at least ${c.minimum} long`);
    else if (c.check === "max_length" && c.maximum !== undefined) notes.push(`at most ${c.maximum} long`);
    else if (c.check === "custom" && typeof c.error === "function") {
      const m = c.error({});
      if (typeof m === "string") notes.push(m);
    }
  }
  let base: string;
  switch (d.type) {
    case "number":
      base = int ? "integer" : "number";
      if (min !== undefined && max !== undefined) base += ` ${fmt(min)}–${fmt(max)}`;
      else if (min !== undefined) base += ` ≥ ${fmt(min)}`;
      else if (max !== undefined) base += ` ≤ ${fmt(max)}`;
      break;
    case "enum":
      base = `one of ${Object.values(d.entries ?? {}).map((v) => `\`${v}\``).join(", ")}`;
      break;
    case "array":
      base = d.element ? `array of ${def(unwrap(d.element).base).type === "object" ? "objects (below)" : describeType(unwrap(d.element).base)}` : "array";
      break;
    case "object":
      base = "object (below)";
      break;
    default:
      base = d.type;
  }
  return notes.length ? `${base}; ${notes.join("; ")}` : base;
}

const cell = (s: string): string => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** The exported schema constant that is this object schema (for its source comments). */
function schemaName(s: Schema, fallback: string): string {
  for (const [name, value] of Object.entries(config)) if (value === s) return name;
  return fallback;
}

/** Renders docs/config.md. */
export function renderConfigDocs(): string {
  const docs = readSourceDocs();
  const top = unwrap(config.AgentConfigSchema as unknown as Schema).base;
  const out: string[] = [
    "# Agent config reference",
    "",
    "<!-- Generated by scripts/gen-config-docs.ts from shared/src/schemas/config.ts: do not edit by hand. -->",
    "<!-- Regenerate: node --import tsx scripts/gen-config-docs.ts -->",
    "",
    "The edge agent reads one JSON file (`coaps-edge agent --config FILE`; installed as",
    "`/etc/coaps-edge/agent.json`). Every field has a default, so `{}` is a working loopback agent.",
    "Objects are strict: a misspelt key is an error naming its path. `coaps-edge doctor --config FILE`",
    "checks a file (and the installation around it).",
    "",
  ];
  const sections: { path: string; schema: Schema; name: string }[] = [{ path: "", schema: top, name: "AgentConfigObject" }];
  const topRows: string[] = [];
  for (let i = 0; i < sections.length; i++) {
    const { path, schema, name } = sections[i]!;
    const fieldDocs = docs.fields.get(name) ?? new Map<string, string>();
    const rows: string[] = [];
    for (const [key, field] of Object.entries(def(schema).shape ?? {})) {
      const { base, defaultValue, optional } = unwrap(field);
      const full = path ? `${path}.${key}` : key;
      const b = def(base);
      const element = b.type === "array" && b.element ? unwrap(b.element).base : undefined;
      if (b.type === "object") {
        sections.push({ path: full, schema: base, name: schemaName(base, full) });
        if (!path) topRows.push(`| [\`${key}\`](#${full.replace(/\./g, "")}) | ${cell(docs.schemas.get(schemaName(base, full))?.split(". ")[0] ?? "")} |`);
        continue;
      }
      if (element && def(element).type === "object") sections.push({ path: `${full}[]`, schema: element, name: schemaName(element, `${full}[]`) });
      const dflt = defaultValue !== undefined ? `\`${JSON.stringify(defaultValue)}\`` : optional ? "—" : "required";
      rows.push(`| \`${key}\` | ${cell(describeType(base))} | ${cell(dflt)} | ${cell(fieldDocs.get(key) ?? "")} |`);
    }
    if (!path) {
      out.push("## Sections", "", "| Section | What it is |", "|---|---|", ...topRows, "");
      if (rows.length) out.push("## Top-level fields", "", "| Field | Type | Default | Description |", "|---|---|---|---|", ...rows, "");
      continue;
    }
    out.push(`## ${path}`, "");
    const about = docs.schemas.get(name);
    if (about) out.push(about, "");
    if (rows.length) out.push("| Field | Type | Default | Description |", "|---|---|---|---|", ...rows, "");
  }
  return out.join("\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = renderConfigDocs();
  if (process.argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(CONFIG_DOC, "utf8");
    } catch {
      // missing: out of date
    }
    if (current !== text) {
      process.stderr.write("docs/config.md is out of date: run node --import tsx scripts/gen-config-docs.ts\n");
      process.exit(1);
    }
  } else {
    writeFileSync(CONFIG_DOC, text);
    process.stdout.write(`wrote ${CONFIG_DOC}\n`);
  }
}
