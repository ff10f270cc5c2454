// The short, deterministic fuzz run in `npm test` (issue 8): ≥ 100,000 inputs across every parser
// that reads peer bytes, each input timed (≤ 100 ms) and its result size bounded. The long run
// with other seeds is `npm run fuzz` (scripts/fuzz.ts). FUZZ_SEED / FUZZ_RUNS override the defaults.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HandshakeReassembler } from "../../edge-agent/src/dtls/handshake/reassembler.js";
import { runTarget } from "./harness.js";
import { allTargets } from "./targets.js";

const SEED = Number(process.env.FUZZ_SEED ?? 0x8a11ce);
const TOTAL = Number(process.env.FUZZ_RUNS ?? 110_000);
const weightSum = allTargets.reduce((s, t) => s + (t.weight ?? 1), 0);

describe(`fuzz: ${allTargets.length} parsers, ${TOTAL} inputs, seed ${SEED}`, () => {
  let total = 0;
  const started = performance.now();
  for (const target of allTargets) {
    const numRuns = Math.max(500, Math.round((TOTAL * (target.weight ?? 1)) / weightSum));
    it(`${target.name}: ${numRuns} inputs, only typed failures, ≤ 100 ms each, bounded results`, () => {
      const report = runTarget(target, { numRuns, seed: SEED });
      assert.equal(report.runs, numRuns);
      total += report.runs;
    });
  }
  it(`ran ≥ 100,000 inputs in under a minute in all`, () => {
    const ms = performance.now() - started;
    assert.ok(total >= 100_000 || TOTAL < 100_000, `only ${total} inputs`);
    assert.ok(ms < 60_000, `fuzz run took ${ms.toFixed(0)} ms`);
  });
});

describe("fuzz: the reassembler's memory stays bounded under a fragment flood", () => {
  it("100,000 first fragments of 64 KiB messages at random sequence numbers hold ≤ window × max length", () => {
    const r = new HandshakeReassembler(0, 0x10000, 16);
    global.gc?.();
    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;
    let x = 12345;
    for (let i = 0; i < 100_000; i++) {
      x = (x * 1103515245 + 12345) >>> 0; // deterministic LCG
      const seq = x % 64; // a quarter inside the window, the rest beyond
      r.push({ type: 1, length: 0x10000, seq, offset: (x >>> 8) % 0xff00, data: new Uint8Array(16) }, 0);
      if (i % 1000 === 0) peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
    }
    assert.equal(r.pop(), undefined, "nothing is complete");
    // 16 partial messages of 64 KiB = 1 MiB; allow slack for the garbage of the 16-byte views.
    assert.ok(peak < 4 * 1024 * 1024, `reassembler held ${peak} bytes`);
  });
});
