// Inputs the fuzzers found (test/vectors/fuzz-regressions/*.json), replayed on every run. A vector
// with "status": "open" is a bug in a file this suite does not own: its test is marked TODO (it
// runs and reports, but does not fail the suite) until the owner fixes it and flips the status to
// "fixed", when it becomes an ordinary test that must pass.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parseCertificate } from "../../edge-agent/src/pki/certificate.js";
import { DerError } from "../../edge-agent/src/pki/der.js";

interface RegressionVector {
  readonly id: string;
  readonly target: string;
  readonly owner: string;
  readonly summary: string;
  readonly status: "open" | "fixed";
  readonly expect: { readonly throws?: string; readonly code?: string };
  readonly inputHex: string;
}

const DIR = new URL("../vectors/fuzz-regressions/", import.meta.url);

/** How each target is replayed: resolves when the input met the vector's expectation. */
const replay: Record<string, (input: Uint8Array, v: RegressionVector) => void> = {
  parseCertificate(input, v) {
    assert.throws(
      () => parseCertificate(input),
      (e: unknown) => e instanceof DerError && (v.expect.code === undefined || e.code === v.expect.code),
      `${v.id}: parseCertificate must fail with DerError ${v.expect.code ?? ""}`,
    );
  },
};

const vectors = readdirSync(DIR)
  .filter((f) => f.endsWith(".json"))
  .map((f) => JSON.parse(readFileSync(new URL(f, DIR), "utf8")) as RegressionVector);

describe("fuzz regressions", () => {
  it("every vector names a known target", () => {
    assert.ok(vectors.length > 0);
    for (const v of vectors) assert.ok(replay[v.target], `${v.id}: no replay for target ${v.target}`);
  });
  for (const v of vectors) {
    const todo = v.status === "open" ? `OPEN BUG, owner ${v.owner}: ${v.summary}` : undefined;
    it(`${v.id} (${v.target})`, { todo }, () => replay[v.target]!(Uint8Array.from(Buffer.from(v.inputHex, "hex")), v));
  }
});
