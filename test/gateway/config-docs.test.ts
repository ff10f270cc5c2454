// docs/config.md is generated from the zod schema (scripts/gen-config-docs.ts): it must be what
// the generator writes now, and it must document every field the schema has.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { it } from "node:test";
import { parseAgentConfig } from "@coaps-edge/shared";
import { CONFIG_DOC, renderConfigDocs } from "../../scripts/gen-config-docs.js";

it("docs/config.md is up to date with shared/src/schemas/config.ts (regenerate: node --import tsx scripts/gen-config-docs.ts)", () => {
  assert.equal(readFileSync(CONFIG_DOC, "utf8"), renderConfigDocs());
});

it("documents every section and field of the default config, with its default", () => {
  const doc = renderConfigDocs();
  const r = parseAgentConfig({});
  assert.ok(r.ok);
  for (const [section, value] of Object.entries(r.config)) {
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      assert.match(doc, new RegExp(`^## ${section}$`, "m"), `section ${section}`);
      for (const field of Object.keys(value)) assert.ok(doc.includes(`| \`${field}\` |`), `${section}.${field}`);
    } else {
      assert.ok(doc.includes(`| \`${section}\` |`), section);
    }
  }
  assert.match(doc, /\| `leisureMs` \| integer 0–60_000 \| `5000` \| Upper bound of the random delay/);
  assert.match(doc, /\| `port` \| integer 0–65_535 \| `5683` \| UDP port; 0 picks a free one\. \|/);
});
