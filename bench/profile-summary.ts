/**
 * Summarizes a V8 .cpuprofile (from `npm run bench -- --cpu-prof DIR`, or any `node --cpu-prof`)
 * by self time: the top functions and the top files, as Markdown tables.
 *
 * Run: node --import tsx bench/profile-summary.ts FILE.cpuprofile... [--top N] [--windows DIR/windows.json [--workload ID]]
 *
 * Given several files (node writes one per thread, and one per process started) the one with the
 * most samples inside the windows is used. `--windows` keeps only samples inside the measured
 * windows that `npm run bench` recorded (V8's timestamps and the harness's are both
 * CLOCK_MONOTONIC µs), so start-up and the other server's turns do not dilute the profile.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
}
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

export interface SelfTime {
  readonly name: string;
  readonly where: string;
  readonly ms: number;
  readonly share: number;
}

const ROOT = fileURLToPath(new URL("..", import.meta.url));

function shortUrl(url: string): string {
  const path = url.startsWith("file://") ? fileURLToPath(url) : url;
  return path.startsWith(ROOT) ? path.slice(ROOT.length) : path || "(native)";
}

/** A time range on the monotonic clock, µs. */
export interface Window {
  readonly fromUs: number;
  readonly toUs: number;
}

/**
 * Self time per function and per file, largest first. (idle) and (program) are kept: they show
 * how busy the loop was. With `windows`, only samples taken inside one of them count.
 */
export function summarize(profile: CpuProfile, windows?: readonly Window[]): { functions: SelfTime[]; files: SelfTime[]; totalMs: number } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const fn = new Map<string, { name: string; where: string; us: number }>();
  const file = new Map<string, number>();
  let total = 0;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!);
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    if (windows && !windows.some((w) => t >= w.fromUs && t <= w.toUs)) continue;
    if (!node || dt < 0) continue;
    total += dt;
    const f = node.callFrame;
    // tsx-compiled modules report line 0 for everything: show the line only when it means something.
    const where = f.url ? `${shortUrl(f.url)}${f.lineNumber > 0 ? `:${f.lineNumber + 1}` : ""}` : "";
    const k = `${f.functionName}|${where}`;
    const e = fn.get(k) ?? { name: f.functionName || "(anonymous)", where, us: 0 };
    e.us += dt;
    fn.set(k, e);
    const fk = f.url ? shortUrl(f.url) : f.functionName.startsWith("(") ? f.functionName : "(native)";
    file.set(fk, (file.get(fk) ?? 0) + dt);
  }
  const toRows = <T extends { us: number }>(xs: Iterable<T>, map: (x: T) => { name: string; where: string }) =>
    [...xs].sort((a, b) => b.us - a.us).map((x) => ({ ...map(x), ms: x.us / 1000, share: total > 0 ? x.us / total : 0 }));
  return {
    functions: toRows(fn.values(), (x) => ({ name: x.name, where: x.where })),
    files: toRows([...file].map(([k, us]) => ({ k, us })), (x) => ({ name: x.k, where: "" })),
    totalMs: total / 1000,
  };
}

export function summaryTables(profile: CpuProfile, top = 25, windows?: readonly Window[]): string {
  const s = summarize(profile, windows);
  const busy = s.functions.filter((f) => f.name !== "(idle)").reduce((a, f) => a + f.ms, 0);
  const ofBusy = (f: SelfTime) => (f.name === "(idle)" || busy <= 0 ? "" : ((100 * f.ms) / busy).toFixed(1));
  const lines = [
    `profile: ${s.totalMs.toFixed(0)} ms sampled, ${busy.toFixed(0)} ms not idle ("% busy" = share of the not-idle time)`,
    "",
    "| % busy | self ms | function | where |",
    "| ---: | ---: | --- | --- |",
  ];
  for (const f of s.functions.filter((x) => x.name !== "(idle)").slice(0, top)) lines.push(`| ${ofBusy(f)} | ${f.ms.toFixed(0)} | ${f.name} | ${f.where} |`);
  lines.push("", "| % busy | self ms | file |", "| ---: | ---: | --- |");
  for (const f of s.files.filter((x) => x.name !== "(idle)").slice(0, Math.min(top, 15))) lines.push(`| ${ofBusy(f)} | ${f.ms.toFixed(0)} | ${f.name} |`);
  return lines.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files: string[] = [];
  let top = 25;
  let windowsFile: string | undefined;
  let workload: string | undefined;
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--top") top = Number(argv[++i]);
    else if (a === "--windows") windowsFile = argv[++i];
    else if (a === "--workload") workload = argv[++i];
    else files.push(a);
  }
  if (files.length === 0 || !(top > 0)) {
    console.error("usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile... [--top N] [--windows windows.json [--workload ID]]");
    process.exit(2);
  }
  let windows: Window[] | undefined;
  if (windowsFile) {
    const all = JSON.parse(readFileSync(windowsFile, "utf8")) as Array<Window & { workload: string }>;
    windows = all.filter((w) => workload === undefined || w.workload === workload);
    console.log(`${windows.length} measured window(s)${workload ? ` of ${workload}` : ""}`);
  }
  // The busiest profile in the windows: the agent's main thread (not tsx's loader thread, not a failed start).
  const profiles = files.map((f) => JSON.parse(readFileSync(f, "utf8")) as CpuProfile);
  const busy = (p: CpuProfile) => summarize(p, windows).functions.filter((x) => x.name !== "(idle)").reduce((a, x) => a + x.ms, 0);
  const best = profiles.reduce((a, b) => (busy(b) > busy(a) ? b : a));
  console.log(`${files[profiles.indexOf(best)]}:`);
  console.log(summaryTables(best, top, windows));
}
