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

/**
 * Evidence that the generator is not the bottleneck: its rate against a raw responder, and per
 * workload whether it drove libcoap harder than ours (then ours was not generator-bound).
 */
export function headroomLines(report: Report): string[] {
  const out: string[] = [];
  const c = report.generator.ceiling;
  out.push(
    c.status === "ok"
      ? `generator (${report.generator.workers} worker process${report.generator.workers === 1 ? "" : "es"}) vs raw node:dgram responder: ${fmtRate(c.median)} req/s, generator CPU ${pct(c.generatorCpu)}, responder CPU ${pct(c.serverCpu)}`
      : `generator ceiling: n/a (${c.reason})`,
  );
  for (const r of report.rows) {
    if (r.workload.kind === "idle" || r.ours.status !== "ok" || r.libcoap.status !== "ok") continue;
    const { ours, libcoap } = r;
    const genBusy = Math.max(ours.generatorCpu ?? 0, 0) >= 0.9;
    let verdict: string;
    if (libcoap.median > ours.median) verdict = `generator drove libcoap ${(libcoap.median / ours.median).toFixed(2)}× harder than ours → ours is server-bound`;
    else if (!genBusy) verdict = "ours ≥ libcoap and the generator was below 90% CPU → not generator-bound";
    else verdict = "ours ≥ libcoap with the generator ≥ 90% CPU → may be generator-bound: add --workers or use coap-load";
    if ((libcoap.generatorCpu ?? 0) >= 0.9) verdict += "; against libcoap the generator was ≥ 90% CPU, so libcoap may do more: the ratio is an upper bound (cross-check with coap-load)";
    out.push(`${r.workload.id}: ${verdict} (server CPU ours ${pct(ours.serverCpu)}, libcoap ${pct(libcoap.serverCpu)})`);
  }
  return out;
}
