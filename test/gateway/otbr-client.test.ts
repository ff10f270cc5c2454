// The OTBR REST client against recorded answers in the formats ot-br-posix documents
// (test/vectors/otbr/README.md), served by a local HTTP server; and against no OTBR at all.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { OtbrClient, countDiagnostics, parseNode, parseRloc16, parseRole, readThreadStatus, type ThreadStatus } from "../../edge-agent/src/otbr/index.js";

interface Recorded {
  readonly status: number;
  readonly body?: unknown;
  readonly bodyText?: string;
}
interface Vector {
  readonly description: string;
  readonly responses: Readonly<Record<string, Recorded>>;
  readonly expect: Record<string, unknown>;
}

const dir = new URL("../vectors/otbr/", import.meta.url);
const vectors = readdirSync(dir)
  .filter((f) => f.endsWith(".json"))
  .sort()
  .map((file) => ({ file, ...(JSON.parse(readFileSync(new URL(file, dir), "utf8")) as Vector) }));

const servers: Server[] = [];
after(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

/** Serves `responses` the way otbr-agent does (cJSON_Print layout); records the paths asked for. */
async function serve(
  responses: Readonly<Record<string, Recorded>>,
  hang: readonly string[] = [],
): Promise<{ url: string; asked: string[] }> {
  const asked: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? "/";
    asked.push(path);
    if (hang.includes(path)) return; // never answers
    const r = responses[path] ?? { status: 404, body: { ErrorCode: 404, ErrorMessage: "Not Found" } };
    const text = r.bodyText ?? JSON.stringify(r.body, null, "\t");
    res.writeHead(r.status, { "content-type": r.bodyText ? "text/html" : "application/json" }).end(text);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, asked };
}

/** The status without the free-text detail (it names the port). */
function comparable(status: ThreadStatus): Record<string, unknown> {
  if (status.available) return { ...status };
  assert.ok(status.detail.length > 0, "an unavailable status explains itself");
  const { detail: _detail, ...rest } = status;
  return rest;
}

describe("OTBR REST client: recorded answers (test/vectors/otbr)", () => {
  it("has the vectors", () => assert.equal(vectors.length, 6));
  for (const v of vectors) {
    it(`${v.file}: ${v.description}`, async () => {
      const { url } = await serve(v.responses);
      const status = await new OtbrClient({ baseUrl: url }).readStatus();
      assert.deepEqual(comparable(status), v.expect);
    });
  }

  it("reads /node once and /diagnostics once when /node answers", async () => {
    const v = vectors.find((x) => x.file === "otbr-2023-leader.json");
    assert.ok(v);
    const { url, asked } = await serve(v.responses);
    await readThreadStatus({ baseUrl: url });
    assert.deepEqual(asked.sort(), ["/diagnostics", "/node"]);
  });

  it("does not ask for /diagnostics when diagnostics are off", async () => {
    const v = vectors.find((x) => x.file === "otbr-2023-leader.json");
    assert.ok(v);
    const { url, asked } = await serve(v.responses);
    const status = await readThreadStatus({ baseUrl: url, diagnostics: false });
    assert.deepEqual(asked, ["/node"]);
    assert.equal(status.available, true);
    assert.ok(status.available && status.neighbourCount === undefined && status.diagnosedNodes === undefined);
  });

  it("keeps the node status when /diagnostics times out", async () => {
    const v = vectors.find((x) => x.file === "otbr-2023-leader.json");
    assert.ok(v);
    const { url } = await serve(v.responses, ["/diagnostics"]);
    const t0 = Date.now();
    const status = await readThreadStatus({ baseUrl: url, diagnosticsTimeoutMs: 200 });
    assert.ok(Date.now() - t0 < 2000);
    assert.ok(status.available);
    assert.equal(status.role, "leader");
    assert.equal(status.neighbourCount, undefined);
  });
});

describe("OTBR REST client: no usable OTBR", () => {
  it("OTBR not running (connection refused) → unavailable/unreachable, no throw", async () => {
    // Bind then close a port so that nothing listens there.
    const s = createServer();
    await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    const status = await readThreadStatus({ baseUrl: `http://127.0.0.1:${port}` });
    assert.equal(status.available, false);
    assert.ok(!status.available);
    assert.equal(status.reason, "unreachable");
    assert.equal(status.path, "/node");
    assert.match(status.detail, /ECONNREFUSED/);
  });

  it("an OTBR that never answers → unavailable/timeout within the timeout", async () => {
    const { url } = await serve({}, ["/node"]);
    const t0 = Date.now();
    const status = await readThreadStatus({ baseUrl: url, timeoutMs: 150 });
    assert.ok(Date.now() - t0 < 2000);
    assert.deepEqual(comparable(status), { available: false, reason: "timeout", path: "/node" });
  });

  it("a base URL that is not http(s) → unavailable/bad-url", async () => {
    const status = await readThreadStatus({ baseUrl: "unix:/run/otbr.sock" });
    assert.deepEqual(comparable(status), { available: false, reason: "bad-url", path: "/node" });
    assert.deepEqual(comparable(await readThreadStatus({ baseUrl: "not a url" })), {
      available: false,
      reason: "bad-url",
      path: "/node",
    });
  });

  it("an answer past the size cap is malformed, and not read to the end", async () => {
    const big = { status: 200, bodyText: `"${"x".repeat(5000)}"` };
    const { url } = await serve({ "/node": big, "/node/state": big });
    const status = await new OtbrClient({ baseUrl: url, maxBodyBytes: 1000 }).readStatus();
    assert.deepEqual(comparable(status), { available: false, reason: "malformed", path: "/node/state" });
  });

  it("a custom fetch that throws is reported, not rethrown", async () => {
    const fetch = (() => Promise.reject(new TypeError("fetch failed", { cause: { code: "EHOSTUNREACH" } }))) as typeof globalThis.fetch;
    const status = await readThreadStatus({ fetch });
    assert.ok(!status.available);
    assert.equal(status.reason, "unreachable");
    assert.match(status.detail, /EHOSTUNREACH/);
  });
});

describe("OTBR JSON decoders", () => {
  it("roles: strings in any case, numeric otDeviceRole 0..4, anything else unknown", () => {
    assert.deepEqual(
      ["Leader", "router", 0, 1, 2, 3, 4, 5, 1.5, "offline"].map(parseRole),
      ["leader", "router", "disabled", "detached", "child", "router", "leader", "unknown", "unknown", "unknown"],
    );
    assert.equal(parseRole(null), undefined);
  });
  it("RLOC16: number, 0x-hex string, bare hex string; out of range rejected", () => {
    assert.deepEqual([4096, "0xf000", "0400", 65536, -1, "0x10000", "zz"].map(parseRloc16), [4096, 0xf000, 0x400, undefined, undefined, undefined, undefined]);
  });
  it("a node object needs a role; bad optional fields are left out, not guessed", () => {
    assert.equal(parseNode({ networkName: "x" }), undefined);
    assert.equal(parseNode([]), undefined);
    assert.deepEqual(parseNode({ state: "router", extAddress: "123", leaderData: { partitionId: -1 }, numOfRouter: "3" }), { role: "router" });
  });
  it("diagnostics: not an array → undefined; own entry found by RLOC16 when the ext address is unknown", () => {
    assert.equal(countDiagnostics({}, { role: "router" }), undefined);
    const body = [{ rloc16: 1024, route: { routeData: [{ routeId: 1, linkQualityIn: 0, linkQualityOut: 0 }, { routeId: 2, linkQualityIn: 1, linkQualityOut: 0 }] }, children: [{}, {}] }];
    assert.deepEqual(countDiagnostics(body, { role: "router", rloc16: 1024 }), { diagnosedNodes: 1, neighbourCount: 3 });
  });
});
