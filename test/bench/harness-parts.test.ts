/**
 * The bench's building blocks: the latency histogram, the generator's CoAP fast path (checked
 * against the shared codec), splitting work across generator processes, workload selection,
 * argument parsing, the .cpuprofile summary and the SVG chart.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeMessage, getUriPath, MessageType, Method } from "@coaps-edge/shared";
import { parseBenchArgs } from "../../bench/args.js";
import { median, toCell, toRow } from "../../bench/harness.js";
import { Histogram } from "../../bench/load/histogram.js";
import { share, splitJob } from "../../bench/load/pool.js";
import { SourceAddresses } from "../../bench/load/sources.js";
import { GetTemplate, isSuccess, messageId, messageType } from "../../bench/load/wire.js";
import { summarize, summaryTables, type CpuProfile } from "../../bench/profile-summary.js";
import { chartSvg } from "../../bench/report/svg.js";
import { headroomLines, resultsTable } from "../../bench/report/table.js";
import type { Report } from "../../bench/report/types.js";
import { PROFILES, selectWorkloads } from "../../bench/workloads.js";
import type { LoadJob } from "../../bench/load/job.js";

describe("Histogram", () => {
  it("reports exact quantiles in the 1 µs range", () => {
    const h = new Histogram();
    for (let v = 0; v < 1000; v++) h.record(v + 0.5);
    assert.equal(h.count, 1000);
    assert.equal(h.quantile(0.5), 500);
    assert.equal(h.quantile(0.99), 990);
    assert.equal(h.quantile(0), 0);
    assert.equal(h.quantile(1), 999);
  });

  it("keeps large values within 1% and merges across workers", () => {
    const a = new Histogram();
    const b = new Histogram();
    for (const v of [1500, 12_345, 250_000, 3_000_000]) a.record(v);
    for (let i = 0; i < 4; i++) b.record(40_000);
    for (const [q, v] of [[0, 1500], [0.25, 12_345], [0.5, 250_000], [0.75, 3_000_000]] as const) {
      const got = a.quantile(q);
      assert.ok(got <= v && got >= v * 0.99, `q${q}: ${got} vs ${v}`);
    }
    a.merge(Histogram.fromSparse(JSON.parse(JSON.stringify(b.toSparse()))));
    assert.equal(a.count, 8);
    const mid = a.quantile(0.5);
    assert.ok(mid <= 40_000 && mid >= 39_600, String(mid));
  });

  it("counts values past the top bucket as overflow", () => {
    const h = new Histogram();
    h.record(2 ** 28);
    assert.equal(h.overflow, 1);
    assert.equal(h.count, 1);
  });
});

describe("generator wire fast path", () => {
  it("patches Message ID and token into a GET the shared codec decodes", () => {
    const t = new GetTemplate("sensors/7/temp");
    const a = t.next(0xbeef);
    const b = t.next(0x0102);
    assert.notEqual(a.buffer === b.buffer && a.byteOffset === b.byteOffset, true, "a fresh buffer per request");
    const m = decodeMessage(a);
    assert.equal(m.type, MessageType.CON);
    assert.equal(m.code, Method.GET);
    assert.equal(m.messageId, 0xbeef);
    assert.deepEqual([...m.token], [0xbe, 0xef]);
    assert.deepEqual(getUriPath(m), ["sensors", "7", "temp"]);
    assert.equal(decodeMessage(b).messageId, 0x0102);
  });

  it("reads type, Message ID and success from a response header", () => {
    const ack205 = Uint8Array.of(0x62, 0x45, 0x12, 0x34, 0xaa, 0xbb);
    assert.equal(messageType(ack205), 2);
    assert.equal(messageId(ack205), 0x1234);
    assert.equal(isSuccess(ack205[1]!), true);
    assert.equal(isSuccess(0x84), false); // 4.04
    assert.equal(messageType(Uint8Array.of(0x62, 0x45)), -1); // too short
    assert.equal(messageType(Uint8Array.of(0xa2, 0x45, 0, 0)), -1); // version 2
  });
});

describe("splitting work across generator processes", () => {
  it("shares sessions evenly and drops empty shares", () => {
    for (const [total, n] of [[1, 3], [10, 3], [100, 7], [16, 1]] as const) {
      const parts = Array.from({ length: n }, (_, i) => share(total, n, i));
      assert.equal(parts.reduce((a, b) => a + b, 0), total);
      assert.ok(Math.max(...parts) - Math.min(...parts) <= 1);
    }
    const job: LoadJob = {
      kind: "load", protocol: "plain", target: { address: "127.0.0.1", port: 1, family: "IPv4" }, path: "x",
      handshakeTimeoutMs: 1, sessions: 1, window: 1, warmupMs: 0, durationMs: 1, timeoutMs: 1, setupConcurrency: 1,
    };
    assert.equal((splitJob(job, 2, 0) as LoadJob).sessions, 1);
    assert.notEqual(splitJob(job, 2, 0)?.sourceNet, splitJob({ ...job, sessions: 2 }, 2, 1)?.sourceNet);
    assert.equal(splitJob(job, 2, 1), undefined);
  });
});

describe("source addresses", () => {
  it("gives each session its own loopback address in the worker's /16, then wraps", () => {
    const s = new SourceAddresses(12);
    const first = Array.from({ length: 256 * 254 }, () => s.next());
    assert.equal(new Set(first).size, 256 * 254);
    assert.deepEqual(first.slice(0, 2), ["127.12.0.1", "127.12.0.2"]);
    assert.equal(first[253], "127.12.0.254");
    assert.equal(first[254], "127.12.1.1");
    assert.equal(first.at(-1), "127.12.255.254");
    assert.ok(first.every((a) => /^127\.12\.\d+\.\d+$/.test(a) && !a.endsWith(".0") && !a.endsWith(".255")));
    assert.equal(s.next(), "127.12.0.1");
    assert.equal(s.next("IPv6"), "::1");
    assert.throws(() => new SourceAddresses(0), RangeError);
  });
});

describe("workload selection and flags", () => {
  it("selects by id or group and rejects unknown names", () => {
    const all = PROFILES.full.workloads;
    assert.deepEqual(selectWorkloads(all, ["psk"]).map((w) => w.id), ["psk-1", "psk-10", "psk-100"]);
    assert.deepEqual(selectWorkloads(all, ["hs"]).map((w) => w.id), ["hs-psk", "hs-ecdhe"]);
    assert.deepEqual(selectWorkloads(all, ["plain-10", "idle"]).map((w) => w.id), ["plain-10", "idle-1000", "idle-10000"]);
    assert.equal(selectWorkloads(all, []).length, all.length);
    assert.throws(() => selectWorkloads(all, ["nope"]), /unknown workload/);
  });

  it("covers issue 7's list in the full profile and keeps --quick small", () => {
    const ids = PROFILES.full.workloads.map((w) => w.id);
    for (const id of ["psk-1", "psk-10", "psk-100", "hs-psk", "hs-ecdhe", "plain-10", "idle-1000", "idle-10000", "idle-100k"]) assert.ok(ids.includes(id), id);
    // 100,000 idle sessions: its own id (not in "idle"), one round, sockets detached after the GET
    // (one generator process cannot hold 100,000 sockets), libcoap skipped with its reason.
    const [big] = selectWorkloads(PROFILES.full.workloads, ["idle-100k"]);
    assert.equal(big?.sessions, 100_000);
    assert.equal(big?.detach, true);
    assert.equal(big?.maxRounds, 1);
    assert.match(big?.oursOnly ?? "", /coap-server-openssl/);
    assert.ok(!PROFILES.quick.workloads.some((w) => w.id === "idle-100k"), "not in --quick");
    const q = PROFILES.quick;
    const loadSeconds = q.workloads.filter((w) => w.kind !== "idle").length * 2 * q.rounds * ((q.warmupMs + q.durationMs) / 1000);
    assert.ok(loadSeconds <= 70, `quick load windows alone take ${loadSeconds}s`);
  });

  it("parses the flags", () => {
    const a = parseBenchArgs(["--quick", "--only", "plain,psk-10", "--duration=2", "--workers", "3", "--no-write"]);
    assert.equal(a.profile, "quick");
    assert.deepEqual(a.only, ["plain", "psk-10"]);
    assert.equal(a.durationMs, 2000);
    assert.equal(a.workers, 3);
    assert.equal(a.write, false);
    assert.throws(() => parseBenchArgs(["--workers", "0"]), /--workers/);
    assert.throws(() => parseBenchArgs(["--bogus"]), /unknown flag/);
    assert.throws(() => parseBenchArgs(["--only"]), /needs a value/);
    assert.equal(parseBenchArgs(["--gen-udp", "dgram"]).genUdp, "dgram");
    assert.equal(parseBenchArgs(["--gen-udp=native"]).genUdp, "native");
    assert.equal(parseBenchArgs([]).genUdp, undefined);
    assert.throws(() => parseBenchArgs(["--gen-udp", "uv"]), /native or dgram/);
  });
});

describe("results", () => {
  const w = PROFILES.quick.workloads[0]!;
  const sample = (value: number) => ({ value, p50Us: value / 10, serverCpuUsPerOp: 1e6 / value, errors: 0, timeouts: 0 });

  it("takes medians over rounds and the ratio ours/libcoap", () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
    const ours = toCell([sample(10), sample(30), sample(20)], []);
    const lib = toCell([sample(40)], []);
    assert.equal(ours.status === "ok" && ours.median, 20);
    assert.equal(ours.status === "ok" && ours.p50Us, 2);
    assert.equal(toRow(w, ours, lib).ratio, 0.5);
    assert.equal(toRow(w, ours, lib).cpuRatio, 0.5); // 25 µs/op for libcoap vs 50 µs/op for ours
    const na = toCell([], ["agent CLI has no -k yet"]);
    assert.deepEqual(na, { status: "n/a", reason: "agent CLI has no -k yet" });
    assert.equal(toRow(w, na, lib).ratio, undefined);
  });

  it("prints n/a with its reason and draws an escaped SVG", () => {
    const report: Report = {
      date: "2026-01-01T00:00:00.000Z",
      profile: "quick",
      machine: { cpus: 2, cpuModel: "x<y", node: "v20", platform: "linux", loadAverage: 0 },
      generator: { workers: 1, ceiling: toCell([sample(100_000)], []) },
      settings: { rounds: 1, idleRounds: 1, warmupMs: 1, durationMs: 1 },
      rows: [toRow(w, toCell([sample(5000)], []), toCell([sample(10_000)], [])), toRow(PROFILES.quick.workloads[1]!, toCell([], ["no <coaps>"]), toCell([sample(1)], []))],
      notes: [],
    };
    const table = resultsTable(report);
    assert.match(table, /\| 5\.00k .*\| 10\.0k .*\| 0\.50×/);
    assert.match(table, /n\/a \(no <coaps>\)/);
    const svg = chartSvg(report);
    assert.match(svg, /^<svg /);
    assert.match(svg, /x&lt;y/);
    assert.match(svg, /n\/a \(no &lt;coaps&gt;\)/);
    assert.doesNotMatch(svg, /<coaps>/);
  });
});

describe("generator headroom", () => {
  const [psk10, plain10, hsPsk] = selectWorkloads(PROFILES.quick.workloads, ["psk-10", "plain-10", "hs-psk"]);
  /** One round at `rate` with the server and the generator at the given shares of a core. */
  const at = (rate: number, serverCpu: number, generatorCpu: number) => toCell([{ value: rate, serverCpu, generatorCpu, errors: 0, timeouts: 0 }], []);
  const report = (rows: Report["rows"]): Report => ({
    date: "2026-01-01T00:00:00.000Z",
    profile: "quick",
    machine: { cpus: 2, cpuModel: "x", node: "v20", platform: "linux", loadAverage: 0 },
    generator: { workers: 1, udp: "native", ceiling: at(200_000, 0.6, 0.97) },
    settings: { rounds: 1, idleRounds: 1, warmupMs: 1, durationMs: 1 },
    rows,
    notes: [],
  });

  it("compares the ceiling with libcoap's best req/s and says what limited each side", () => {
    const lines = headroomLines(
      report([
        toRow(psk10!, at(50_000, 0.95, 0.8), at(80_000, 0.97, 0.85)),
        toRow(plain10!, at(90_000, 0.98, 0.7), at(60_000, 0.8, 0.95)),
        toRow(hsPsk!, at(2000, 0.5, 0.95), at(1500, 0.6, 0.8)),
      ]),
    );
    assert.match(lines[0]!, /1 worker process, native UDP\) vs raw responder .*: 200\.0k req\/s = 2\.50× libcoap's best req\/s in this run \(80\.0k, psk-10\)/);
    assert.match(lines[1]!, /^psk-10: ours 50\.0k req\/s \(server CPU 95%, generator 80%: server-bound\); libcoap 80\.0k .*server-bound\) — the generator drove libcoap 1\.60× harder than ours/);
    assert.doesNotMatch(lines[1]!, /lower bound/);
    assert.match(lines[2]!, /^plain-10: .*libcoap 60\.0k req\/s \(server CPU 80%, generator 95%: generator-bound\) — ours ≥ libcoap and the generator was not saturated against ours .*; libcoap's rate is a lower bound/);
    assert.match(lines[3]!, /^hs-psk: ours 2\.00k hs\/s \(server CPU 50%, generator 95%: generator-bound\).* ours' rate is a lower bound/);
    assert.equal(lines.length, 4);
  });
});

describe("profile summary", () => {
  it("attributes sampled time to functions and files by self time", () => {
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: { functionName: "(root)", url: "", lineNumber: -1 } },
        { id: 2, callFrame: { functionName: "seal", url: "file:///x/record.ts", lineNumber: 9 } },
        { id: 3, callFrame: { functionName: "doSend", url: "node:dgram", lineNumber: 686 } },
        { id: 4, callFrame: { functionName: "(idle)", url: "", lineNumber: -1 } },
      ],
      samples: [2, 2, 3, 4, 2],
      timeDeltas: [100, 100, 250, 400, 100],
      startTime: 0,
      endTime: 1000,
    };
    const s = summarize(profile);
    assert.equal(s.totalMs, 0.95);
    assert.deepEqual(s.functions.map((f) => [f.name, Math.round(f.share * 100)]), [["(idle)", 42], ["seal", 32], ["doSend", 26]]);
    assert.equal(s.functions.find((f) => f.name === "seal")?.where, "/x/record.ts:10");
    // busy = 0.55 ms (idle excluded): seal is 0.3 / 0.55 of it
    assert.match(summaryTables(profile), /\| 54\.5 \| 0 \| seal \| \/x\/record\.ts:10 \|/);
    assert.deepEqual(s.files.map((f) => f.name), ["(idle)", "/x/record.ts", "node:dgram"]);
  });
});
