/**
 * `npm run bench -- --smoke`, end to end: our agent and coap-server-openssl started, every
 * workload run for a fraction of a second (or reported n/a with a reason), the table printed,
 * JSON and SVG written. Keeps the harness from rotting; the numbers themselves are not judged.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { requireBinary } from "../helpers/libcoap.js";
import type { Report } from "../../bench/report/types.js";

const RUN = fileURLToPath(new URL("../../bench/run.ts", import.meta.url));

describe("npm run bench -- --smoke", () => {
  it("runs every workload side by side and writes JSON + SVG", (t) => {
    if (!requireBinary(t, "coap-server-openssl")) return;
    const out = mkdtempSync(join(tmpdir(), "bench-smoke-"));
    try {
      const r = spawnSync(process.execPath, ["--import", "tsx", RUN, "--smoke", "--workers", "1", "--out", out], { encoding: "utf8", timeout: 60_000 });
      assert.equal(r.status, 0, `bench failed:\n${r.stderr}`);
      assert.match(r.stdout, /\| workload .*\| ours .*\| libcoap .*\| ours\/libcoap/);
      assert.match(r.stdout, /Generator headroom:/);

      const files = readdirSync(out);
      const json = files.find((f) => f.endsWith("-smoke.json"));
      const svg = files.find((f) => f.endsWith("-smoke.svg"));
      assert.ok(json && svg, `expected JSON and SVG in ${files.join(", ")}`);
      assert.match(readFileSync(join(out, svg), "utf8"), /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);

      const report = JSON.parse(readFileSync(join(out, json), "utf8")) as Report;
      const row = (id: string) => report.rows.find((x) => x.workload.id === id);
      // Plain CoAP runs on both servers whatever else has landed.
      const plain = row("plain-2");
      assert.ok(plain, "plain-2 row");
      assert.equal(plain.ours.status, "ok", JSON.stringify(plain.ours));
      assert.equal(plain.libcoap.status, "ok", JSON.stringify(plain.libcoap));
      if (plain.ours.status === "ok" && plain.libcoap.status === "ok") {
        assert.ok(plain.ours.median > 0 && plain.libcoap.median > 0);
        assert.ok(plain.ratio !== undefined && plain.ratio > 0);
        assert.ok((plain.ours.serverCpuUsPerOp ?? 0) > 0, "server CPU per op measured");
      }
      assert.equal(report.generator.ceiling.status, "ok");
      // libcoap serves DTLS-PSK: those cells are measured, never silently dropped.
      for (const id of ["psk-2", "hs-psk", "hs-ecdhe", "idle-20"]) assert.equal(row(id)?.libcoap.status, "ok", `${id}: ${JSON.stringify(row(id)?.libcoap)}`);
      // Every row is either measured or says why not.
      for (const x of report.rows) {
        for (const c of [x.ours, x.libcoap]) if (c.status === "n/a") assert.ok(c.reason.length > 0, `${x.workload.id} n/a without a reason`);
      }
      assert.ok(row("hs-ecdhe"), "the ECDHE row is present even when it cannot run");
      // A missing row would be a silently dropped workload.
      assert.deepEqual(report.rows.map((x) => x.workload.id), ["plain-2", "psk-2", "hs-psk", "hs-ecdhe", "idle-20"]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
