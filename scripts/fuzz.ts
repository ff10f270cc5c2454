/**
 * The long fuzz run (`npm run fuzz`, issue 8): every target in test/fuzz/targets.ts, round after
 * round with fresh seeds, until the time budget is spent. Each failure prints the target, seed,
 * path and input (hex): keep it under test/vectors/fuzz-regressions/ (see regressions.test.ts).
 *
 *   npm run fuzz -- [--minutes 10] [--runs 200000] [--seed N] [--target SUBSTRING]
 *   env: FUZZ_MINUTES, FUZZ_RUNS (inputs per target per round), FUZZ_SEED, FUZZ_STRICT=1
 *
 * Exits 1 if any target failed.
 */
import { parseArgs } from "node:util";
import { runTarget } from "../test/fuzz/harness.js";
import { allTargets } from "../test/fuzz/targets.js";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: process.env.FUZZ_MINUTES ?? "5" },
    runs: { type: "string", default: process.env.FUZZ_RUNS ?? "50000" },
    seed: { type: "string", default: process.env.FUZZ_SEED },
    target: { type: "string" },
  },
});

const budgetMs = Number(values.minutes) * 60_000;
const runsPerRound = Number(values.runs);
let seed = values.seed === undefined ? Date.now() % 0x7fffffff : Number(values.seed);
const targets = allTargets.filter((t) => values.target === undefined || t.name.includes(values.target));
if (targets.length === 0) {
  console.error(`no target matches ${values.target}`);
  process.exit(2);
}

const started = Date.now();
const totals = new Map<string, { runs: number; slowestMs: number }>();
const failures: string[] = [];
let round = 0;
console.log(`fuzz: ${targets.length} targets, ${runsPerRound} inputs each per round, ${values.minutes} min, first seed ${seed}`);
while (Date.now() - started < budgetMs) {
  round++;
  for (const target of targets) {
    const left = budgetMs - (Date.now() - started);
    if (left <= 0) break;
    try {
      const r = runTarget(target, { numRuns: runsPerRound, seed, timeLimitMs: left });
      const t = totals.get(target.name) ?? { runs: 0, slowestMs: 0 };
      totals.set(target.name, { runs: t.runs + r.runs, slowestMs: Math.max(t.slowestMs, r.slowestMs) });
    } catch (e) {
      const msg = (e as Error).message;
      failures.push(msg);
      console.error(`FAIL ${msg}`);
    }
  }
  console.log(`round ${round} (seed ${seed}) done at ${((Date.now() - started) / 1000).toFixed(0)} s`);
  seed = (seed * 48271 + 11) % 0x7fffffff;
}

let all = 0;
for (const [name, t] of totals) {
  all += t.runs;
  console.log(`${String(t.runs).padStart(10)} inputs  slowest ${t.slowestMs.toFixed(2).padStart(7)} ms  ${name}`);
}
console.log(`total ${all} inputs in ${((Date.now() - started) / 1000).toFixed(1)} s, ${failures.length} failures`);
process.exit(failures.length > 0 ? 1 : 0);
