// `coaps-edge doctor` on a throwaway installation: each broken condition gets its own finding
// (code and plain-words message) and a non-zero exit; a healthy one exits 0. The cloud is the
// real Worker app behind a local HTTP server (node:http → app.fetch), with GATEWAY_KEYS either
// listing this gateway or not.
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { createCloudApp, createRegistry, routes } from "@coaps-edge/cloud/lib";
import { generateGatewayKeyPair } from "@coaps-edge/shared";
import { runDoctor } from "../../edge-agent/src/cli/doctor-command.js";
import { diagnose, type DoctorFinding } from "../../edge-agent/src/health/doctor.js";
import { newGatewayKeyFile } from "../../edge-agent/src/forward/gateway-key.js";
import { UdpEndpoint } from "../../edge-agent/src/transport/udp.js";
import { CoapServer } from "../../edge-agent/src/server/server.js";

const dir = mkdtempSync(join(tmpdir(), "coaps-doctor-"));
const key = newGatewayKeyFile("gw-doctor");
const keyFile = join(dir, "gateway-key.json");
writeFileSync(keyFile, JSON.stringify(key), { mode: 0o600 });
chmodSync(keyFile, 0o600);

/** Serves the cloud app over HTTP on 127.0.0.1 with this GATEWAY_KEYS. */
async function cloud(keys: Record<string, string>): Promise<{ url: string; server: Server }> {
  const app = createCloudApp({ registry: createRegistry(routes) });
  const env = { GATEWAY_KEYS: JSON.stringify(keys) };
  const server = createServer(async (req, res) => {
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
    const response = await app.fetch(new Request(`http://127.0.0.1${req.url ?? "/"}`, { method: req.method, headers }), env);
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function freePort(): Promise<number> {
  const s = dgram.createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

let n = 0;
function configFile(config: object): string {
  const file = join(dir, `agent-${++n}.json`);
  writeFileSync(file, JSON.stringify(config));
  return file;
}

async function doctor(config: object | string): Promise<{ code: number; out: string; findings: DoctorFinding[] }> {
  const file = typeof config === "string" ? config : configFile(config);
  let out = "";
  const sink = new Writable({ write: (c: Buffer, _e, cb) => ((out += c.toString()), cb()) });
  const code = await runDoctor({ config: file }, { stdout: sink, stderr: sink }, { timeoutMs: 1500 });
  return { code, out, findings: await diagnose(file, { timeoutMs: 1500 }) };
}

const failures = (f: readonly DoctorFinding[]) => f.filter((x) => x.status === "fail").map((x) => x.code);

describe("coaps-edge doctor", () => {
  let good: { url: string; server: Server };
  let stranger: { url: string; server: Server };
  let base: (port: number) => Record<string, unknown>;
  before(async () => {
    good = await cloud({ [key.gatewayId]: key.publicKey });
    stranger = await cloud({ "someone-else": generateGatewayKeyPair().publicKey });
    base = (port) => ({ listen: { address: "127.0.0.1", port }, cloud: { mode: "remote", url: good.url, keyFile }, health: { otbrUrl: "" } });
  });
  after(() => {
    good?.server.close();
    stranger?.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a healthy installation: every check ok, exit 0", async () => {
    const r = await doctor(base(await freePort()));
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(failures(r.findings), []);
    assert.match(r.out, /the cloud accepts the token of gateway gw-doctor/);
    assert.match(r.out, /doctor: no problems found/);
  });

  it("a bad config field: its path and what is wrong, exit 1, nothing else checked", async () => {
    const r = await doctor({ listen: { port: 70000 }, cloud: { mode: "remote" } });
    assert.equal(r.code, 1);
    assert.deepEqual(failures(r.findings), ["config-invalid-field", "config-invalid-field", "config-invalid-field"]);
    assert.match(r.out, /config field listen\.port in .*: must be at most 65535/);
    assert.match(r.out, /config field cloud\.url in .*: remote mode needs the Worker URL/);
    assert.match(r.out, /config field cloud\.keyFile/);
    const notJson = await doctor(configFile({}).replace(/$/, ".missing"));
    assert.deepEqual(failures(notJson.findings), ["config-unreadable"]);
  });

  it("a world-readable gateway key: says so and how to fix it", async () => {
    const loose = join(dir, "loose-key.json");
    writeFileSync(loose, JSON.stringify(key));
    chmodSync(loose, 0o644);
    const r = await doctor({ ...base(await freePort()), cloud: { mode: "remote", url: good.url, keyFile: loose } });
    assert.equal(r.code, 1);
    assert.deepEqual(failures(r.findings), ["key-not-private"]);
    assert.match(r.out, /can be read by other users: run chmod 600/);
    const missing = await doctor({ ...base(await freePort()), cloud: { mode: "remote", url: good.url, keyFile: join(dir, "nope.json") } });
    assert.deepEqual(failures(missing.findings), ["key-unreadable"]);
  });

  it("a missing interface", async () => {
    const r = await doctor({ ...base(await freePort()), listen: { port: await freePort(), interface: "wpan-nope9" } });
    assert.equal(r.code, 1);
    assert.deepEqual(failures(r.findings), ["interface-missing"]);
    assert.match(r.out, /network interface wpan-nope9 does not exist on this host/);
  });

  it("an unreachable cloud", async () => {
    const closed = await cloud({});
    const url = closed.url;
    await new Promise<void>((r) => closed.server.close(() => r()));
    const r = await doctor({ ...base(await freePort()), cloud: { mode: "remote", url, keyFile } });
    assert.equal(r.code, 1);
    assert.deepEqual(failures(r.findings), ["cloud-unreachable"]);
    assert.match(r.out, /cannot reach the cloud at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
  });

  it("a cloud that does not know this gateway's key: token rejected, with the public key to add", async () => {
    const r = await doctor({ ...base(await freePort()), cloud: { mode: "remote", url: stranger.url, keyFile } });
    assert.equal(r.code, 1);
    assert.deepEqual(failures(r.findings), ["cloud-token-rejected"]);
    assert.ok(r.out.includes(key.publicKey), r.out);
  });

  it("ports: in use by another program is a problem; held by a running CoAP server (the agent) is not", async () => {
    const squatter = dgram.createSocket("udp4");
    await new Promise<void>((r) => squatter.bind(0, "127.0.0.1", () => r()));
    const taken = squatter.address().port;
    const r = await doctor(base(taken));
    squatter.close();
    assert.equal(r.code, 1);
    assert.deepEqual(failures(r.findings), ["port-in-use"]);
    assert.match(r.out, new RegExp(`UDP port ${taken} .* already in use by another program`));

    const ep = await UdpEndpoint.bind({ address: "127.0.0.1", port: 0 });
    const server = new CoapServer();
    server.attach(ep);
    try {
      const held = await doctor(base(ep.local.port));
      assert.equal(held.code, 0, held.out);
      assert.ok(held.findings.some((f) => f.code === "port-held-by-agent"));
    } finally {
      server.close();
      await ep.close();
    }
  });
});
