/**
 * A hand-written SVG bar chart of a run: one bar per workload, the ratio ours/libcoap on a
 * linear axis with the 1× line (parity) drawn, absolute numbers as labels. No dependencies.
 */
import { fmtValue } from "./table.js";
import type { Cell, Report } from "./types.js";

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function chartSvg(report: Report): string {
  const rows = report.rows;
  const labelW = 450;
  const plotW = 420;
  const noteW = 470;
  const rowH = 30;
  const top = 64;
  const width = labelW + plotW + noteW + 20;
  const height = top + rows.length * rowH + 56;
  const maxRatio = Math.max(2, ...rows.map((r) => r.ratio ?? 0));
  const axisMax = Math.ceil(maxRatio * 2) / 2;
  const x = (ratio: number) => labelW + (Math.min(ratio, axisMax) / axisMax) * plotW;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="22" font-size="16" font-weight="bold">coaps-edge vs libcoap coap-server-openssl — ours/libcoap (${esc(report.profile)}, ${esc(report.date)})</text>`,
    `<text x="10" y="42" fill="#555">${esc(`${report.machine.cpus} CPUs (${report.machine.cpuModel}), Node ${report.machine.node}, ${report.generator.workers} generator process(es), medians of ${report.settings.rounds} rounds; bar = req/s ratio, black tick = per-CPU ratio (libcoap CPU/op ÷ ours); higher is better unless marked`)}</text>`,
  );
  for (let t = 0; t <= axisMax + 1e-9; t += 0.5) {
    const xx = x(t);
    parts.push(`<line x1="${xx}" y1="${top - 6}" x2="${xx}" y2="${top + rows.length * rowH}" stroke="${t === 1 ? "#c00" : "#ddd"}" stroke-width="${t === 1 ? 1.5 : 1}"/>`);
    parts.push(`<text x="${xx}" y="${top + rows.length * rowH + 16}" text-anchor="middle" fill="#555">${t.toFixed(1)}×</text>`);
  }
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const lower = r.workload.better === "lower";
    parts.push(`<text x="${labelW - 8}" y="${y + 19}" text-anchor="end">${esc(r.workload.title + (lower ? " (lower is better)" : ""))}</text>`);
    if (r.ratio !== undefined) {
      const win = lower ? r.ratio <= 1 : r.ratio >= 1;
      parts.push(`<rect x="${labelW}" y="${y + 6}" width="${Math.max(1, x(r.ratio) - labelW)}" height="${rowH - 12}" fill="${win ? "#2a9d5c" : "#3b6fb6"}"/>`);
      // The label goes past both the bar and the per-CPU tick.
      const labelX = Math.max(x(r.ratio), r.cpuRatio === undefined ? 0 : x(r.cpuRatio)) + 5;
      parts.push(`<text x="${labelX}" y="${y + 19}" fill="#222">${r.ratio.toFixed(2)}×</text>`);
    }
    if (r.cpuRatio !== undefined) {
      // The per-CPU ratio (server CPU per operation): a tick, so noise from other load shows as a gap to the bar.
      parts.push(`<rect x="${x(r.cpuRatio) - 1.5}" y="${y + 3}" width="3" height="${rowH - 6}" fill="#111"><title>per-CPU ratio ${r.cpuRatio.toFixed(2)}×</title></rect>`);
    }
    const v = (c: Cell) => fmtValue(c, r.workload.unit) + (c.status === "ok" && r.workload.unit !== "B/session" ? ` ${r.workload.unit}` : "");
    const note = `ours ${v(r.ours)} · libcoap ${v(r.libcoap)}`;
    parts.push(`<text x="${labelW + plotW + 44}" y="${y + 19}" fill="${r.ratio === undefined ? "#999" : "#333"}">${esc(note.length > 72 ? note.slice(0, 71) + "…" : note)}</text>`);
  });
  const c = report.generator.ceiling;
  parts.push(
    `<text x="10" y="${height - 12}" fill="#555">${esc(c.status === "ok" ? `generator ceiling vs raw node:dgram responder: ${Math.round(c.median)} req/s` : `generator ceiling: n/a (${c.reason})`)}</text>`,
    `</svg>`,
  );
  return parts.join("\n") + "\n";
}
