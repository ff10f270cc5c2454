/** The bench results as a Markdown table (printed, and pasted into docs/benchmarks.md / issue notes). */
import type { Cell, Report, Row } from "./types.js";

export function fmtRate(x: number): string {
  if (x >= 10_000) return `${(x / 1000).toFixed(1)}k`;
  if (x >= 1000) return `${(x / 1000).toFixed(2)}k`;
  return x.toFixed(x >= 100 ? 0 : 1);
}

export function fmtBytes(x: number): string {
  return x >= 1024 ? `${(x / 1024).toFixed(1)} KiB` : `${Math.round(x)} B`;
}

export function fmtValue(cell: Cell, unit: string): string {
  if (cell.status === "n/a") return `n/a (${cell.reason})`;
  return unit === "B/session" ? fmtBytes(cell.median) : fmtRate(cell.median);
}

const pct = (x: number | undefined) => (x === undefined ? "–" : `${Math.round(x * 100)}%`);
const us = (x: number | undefined) => (x === undefined ? "–" : x >= 1000 ? `${(x / 1000).toFixed(1)}ms` : `${Math.round(x)}`);

function latency(c: Cell): string {
  return c.status === "ok" && c.p50Us !== undefined ? `${us(c.p50Us)} / ${us(c.p99Us)}` : "–";
}

function cpuPerOp(c: Cell): string {
  return c.status === "ok" && c.serverCpuUsPerOp !== undefined ? c.serverCpuUsPerOp.toFixed(1) : "–";
}

function ratio(r: Row): string {
  if (r.ratio === undefined) return "–";
  const mark = r.workload.better === "higher" ? (r.ratio >= 1 ? " ✓" : "") : r.ratio <= 1 ? " ✓" : "";
  return `${r.ratio.toFixed(2)}×${mark}`;
}

function flags(c: Cell): string {
  if (c.status !== "ok") return "";
  const f: string[] = [];
  if (c.errors > 0) f.push(`${c.errors} err`);
  if (c.timeouts > 0) f.push(`${c.timeouts} t/o`);
  return f.length ? ` (${f.join(", ")})` : "";
}

function markdown(rows: readonly string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...(r[i] ?? "")].length)));
  const line = (r: readonly string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(rows[0]!), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.slice(1).map(line)].join("\n");
}

/** The main table: absolute numbers, the ratio, latency, and where the CPU went. */
export function resultsTable(report: Report): string {
  const header = [
    "workload",
    "unit",
    "ours",
    "libcoap",
    "ours/libcoap",
    "p50/p99 µs ours",
    "p50/p99 µs libcoap",
    "srv CPU µs/op ours",
    "srv CPU µs/op libcoap",
    "per-CPU ratio",
    "srv CPU % ours/libcoap",
    "gen CPU % ours/libcoap",
  ];
  const rows = report.rows.map((r) => [
    r.workload.title,
    r.workload.unit,
    fmtValue(r.ours, r.workload.unit) + flags(r.ours),
    fmtValue(r.libcoap, r.workload.unit) + flags(r.libcoap),
    ratio(r),
    latency(r.ours),
    latency(r.libcoap),
    cpuPerOp(r.ours),
    cpuPerOp(r.libcoap),
    r.cpuRatio === undefined ? "–" : `${r.cpuRatio.toFixed(2)}×`,
    `${pct(r.ours.status === "ok" ? r.ours.serverCpu : undefined)} / ${pct(r.libcoap.status === "ok" ? r.libcoap.serverCpu : undefined)}`,
    `${pct(r.ours.status === "ok" ? r.ours.generatorCpu : undefined)} / ${pct(r.libcoap.status === "ok" ? r.libcoap.generatorCpu : undefined)}`,
  ]);
  return markdown([header, ...rows]);
}

/** A process at or above this share of one core is taken to be what limited the rate. */
const SATURATED = 0.9;

type OkCell = Extract<Cell, { status: "ok" }>;

/**
 * What limited one side of a row: the server's core, the generator's, or neither — a shared
 * machine or the closed loop's latency (each session keeps one request outstanding).
 */
function limit(c: OkCell): "server-bound" | "generator-bound" | "neither saturated" {
  if ((c.serverCpu ?? 0) >= SATURATED) return "server-bound";
  if ((c.generatorCpu ?? 0) >= SATURATED) return "generator-bound";
  return "neither saturated";
}

function side(name: string, c: OkCell, unit: string): string {
  return `${name} ${fmtValue(c, unit)} ${unit} (server CPU ${pct(c.serverCpu)}, generator ${pct(c.generatorCpu)}: ${limit(c)})`;
}

/**
 * Evidence that the generator is not the bottleneck (issue 7): its rate against a raw responder
 * compared with the best libcoap req/s of the run, and per workload what limited each side. The
 * generator drove ours as hard as it could when it drove libcoap harder, or when ours' own core
 * was saturated; where the generator saturated against libcoap, libcoap's rate is a lower bound
 * (the req/s ratio then flatters ours; the per-CPU ratio does not depend on it).
 */
export function headroomLines(report: Report): string[] {
  const out: string[] = [];
  const { ceiling: c, workers, udp } = report.generator;
  if (c.status === "ok") {
    const rates = report.rows.flatMap((r) => (r.workload.unit === "req/s" && r.libcoap.status === "ok" ? [{ id: r.workload.id, rate: r.libcoap.median }] : []));
    const best = rates.reduce<{ id: string; rate: number } | undefined>((a, r) => (a && a.rate >= r.rate ? a : r), undefined);
    const vsLibcoap = best ? ` = ${(c.median / best.rate).toFixed(2)}× libcoap's best req/s in this run (${fmtRate(best.rate)}, ${best.id})` : "";
    out.push(
      `generator (${workers} worker process${workers === 1 ? "" : "es"}, ${udp ?? "dgram"} UDP) vs raw responder (bench/load/echo-server.ts): ${fmtRate(c.median)} req/s${vsLibcoap}; generator CPU ${pct(c.generatorCpu)}, responder CPU ${pct(c.serverCpu)}`,
    );
  } else {
    out.push(`generator ceiling: n/a (${c.reason})`);
  }
  for (const r of report.rows) {
    if (r.workload.kind === "idle" || r.ours.status !== "ok" || r.libcoap.status !== "ok") continue;
    const { ours, libcoap, workload } = r;
    const verdict: string[] = [];
    if (libcoap.median > ours.median) verdict.push(`the generator drove libcoap ${(libcoap.median / ours.median).toFixed(2)}× harder than ours → ours is not generator-bound`);
    else if (limit(ours) === "generator-bound") verdict.push("ours ≥ libcoap with the generator saturated → ours' rate is a lower bound: add --workers or cross-check with coap-load");
    else verdict.push("ours ≥ libcoap and the generator was not saturated against ours → ours is not generator-bound");
    if (limit(libcoap) === "generator-bound") verdict.push("libcoap's rate is a lower bound (generator saturated): the req/s ratio is an upper bound, the per-CPU ratio holds");
    out.push(`${workload.id}: ${side("ours", ours, workload.unit)}; ${side("libcoap", libcoap, workload.unit)} — ${verdict.join("; ")}`);
  }
  return out;
}
