/**
 * The agent's cloud side over real UDP with our CoapClient: the default handler (request →
 * ForwardRequest → CoAP response), local 4.04/4.05 from the registry, /.well-known/core merging,
 * the embedded default, remote-mode key checks and the cloud config section.
 */
import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AgentConfigSchema, Code, ContentFormat, OptionNumber, parseAgentConfig, parseLinkFormat, utf8Decode, utf8Encode } from "@coaps-edge/shared";
import { AgentError, createAgent, type Agent } from "../../edge-agent/src/agent.js";
import { CoapClient } from "../../edge-agent/src/client/index.js";
import { runAgent } from "../../edge-agent/src/cli/agent-command.js";
import { EMBEDDED_GATEWAY_ID, forwarderFromConfig, newGatewayKeyFile, saveGatewayKey } from "../../edge-agent/src/forward/index.js";
import { DEMO_HELLO_TEXT } from "../../edge-agent/src/server/index.js";
import { FakeForwarder } from "./forward/fake-forwarder.js";

const config = (over: object = {}) => AgentConfigSchema.parse({ listen: { port: 0 }, logging: { level: "silent" }, ...over });
const REGISTRY = [
  { path: "/hello", methods: ["GET" as const], title: "Hello", rt: "greeting", ct: 0 },
  { path: "/echo", methods: ["POST" as const, "PUT" as const], rt: "echo" },
  { path: "/sensors/[id]/temperature", methods: ["GET" as const, "PUT" as const] },
];

describe("agent → cloud (fake forwarder)", () => {
  let agent: Agent;
  let fwd: FakeForwarder;
  let client: CoapClient;
  let base: string;

  before(async () => {
    fwd = new FakeForwarder(REGISTRY);
    agent = await createAgent(config(), { forwarder: fwd });
    client = new CoapClient({ timeoutMs: 5000 });
    base = agent.urls[0]!;
  });
  after(async () => {
    await client.close();
    await agent.close();
    assert.ok(fwd.closed, "the agent closes its forwarder");
  });

  it("forwards the whole request with the peer's identity and only end-to-end options", async () => {
    const body = Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff);
    fwd.answer = () => ({
      code: Code.Changed,
      options: [{ number: 2052, value: utf8Encode("x") }],
      payload: utf8Encode('{"ok":true}'),
      contentFormat: ContentFormat.json,
      maxAge: 30,
      etag: Uint8Array.of(1, 2),
      locationPath: ["r", "1"],
    });
    const res = await client.put(`${base}/echo?q=1`, body, {
      blockSize: 256,
      contentFormat: ContentFormat.octetStream,
      accept: ContentFormat.json,
      options: [{ number: OptionNumber.IfMatch, value: Uint8Array.of(9) }, { number: 2048, value: utf8Encode("custom") }],
    });
    const got = fwd.requests.at(-1)!;
    assert.equal(got.method, 3);
    assert.deepEqual([got.uriPath, got.uriQuery, got.contentFormat, got.accept], [["echo"], ["q=1"], ContentFormat.octetStream, ContentFormat.json]);
    assert.deepEqual(got.payload, body, "Block1 reassembled before forwarding");
    assert.deepEqual(got.options.map((o) => o.number), [OptionNumber.IfMatch, 2048], "no Uri-*, Block1, Size1, Request-Tag");
    assert.deepEqual(got.identity, { kind: "none" });
    assert.equal(got.peer.address, "127.0.0.1");
    assert.equal(fwd.requests.length, 1, "forwarded once, after the last block");

    assert.equal(res.code, Code.Changed);
    assert.equal(utf8Decode(res.payload), '{"ok":true}');
    assert.equal(res.contentFormat, ContentFormat.json);
    const opt = (n: number) => res.options.filter((o) => o.number === n).map((o) => o.value);
    assert.deepEqual(opt(OptionNumber.MaxAge), [Uint8Array.of(30)]);
    assert.deepEqual(opt(OptionNumber.ETag), [Uint8Array.of(1, 2)]);
    assert.deepEqual(opt(OptionNumber.LocationPath).map(utf8Decode), ["r", "1"]);
    assert.deepEqual(opt(2052).map(utf8Decode), ["x"]);
  });

  it("answers 4.04 and 4.05 from the registry without forwarding", async () => {
    const before = fwd.requests.length;
    const nf = await client.get(`${base}/missing`);
    assert.deepEqual([nf.code, utf8Decode(nf.payload)], [Code.NotFound, "no resource at /missing"]);
    const mna = await client.delete(`${base}/sensors/3/temperature`);
    assert.deepEqual([mna.code, utf8Decode(mna.payload)], [Code.MethodNotAllowed, "DELETE not allowed on /sensors/[id]/temperature"]);
    assert.equal(fwd.requests.length, before);
    assert.deepEqual([agent.cloud.stats.notFound, agent.cloud.stats.methodNotAllowed], [1, 1]);
  });

  it("large cloud bodies go out block-wise", async () => {
    const big = Uint8Array.from({ length: 5000 }, (_, i) => (i * 31) & 0xff);
    fwd.answer = () => ({ code: Code.Content, options: [], payload: big });
    const res = await client.get(`${base}/hello`, { blockSize: 128 });
    assert.deepEqual(res.payload, big);
    assert.ok(res.messages >= 40);
  });

  it("local resources shadow cloud ones; /.well-known/core lists local links, then the registry's", async () => {
    agent.server.addResource("/hello", { title: "Local hello", get: () => ({ code: Code.Content, payload: "local" }) });
    agent.server.addResource("/led", { rt: "light", get: () => ({ code: Code.Content, payload: "on" }) });
    try {
      const n = fwd.requests.length;
      assert.equal(utf8Decode((await client.get(`${base}/hello`)).payload), "local");
      assert.equal(fwd.requests.length, n);
      const wk = await client.get(`${base}/.well-known/core`);
      assert.equal(wk.contentFormat, ContentFormat.linkFormat);
      const links = parseLinkFormat(utf8Decode(wk.payload));
      assert.deepEqual(links.map((l) => [l.href, l.attributes?.title ?? l.attributes?.rt]), [
        ["/hello", "Local hello"],
        ["/led", "light"],
        ["/echo", "echo"],
      ]);
      const filtered = await client.get(`${base}/.well-known/core?rt=echo`);
      assert.equal(utf8Decode(filtered.payload), "</echo>;rt=\"echo\"");
    } finally {
      agent.server.removeResource("/hello");
      agent.server.removeResource("/led");
    }
  });
});

describe("agent with the default config: the embedded cloud", () => {
  it("serves the cloud registry in process (no local demo resources), /whoami is 'none' over coap://", async () => {
    const agent = await createAgent(config());
    const client = new CoapClient({ timeoutMs: 5000 });
    try {
      assert.equal(agent.config.cloud.mode, "embedded");
      assert.equal(agent.config.demoResources, false);
      assert.deepEqual(agent.server.resources().map(([p]) => p), ["/.well-known/core"]);
      assert.equal(utf8Decode((await client.get(`${agent.urls[0]}/hello`)).payload), DEMO_HELLO_TEXT);
      assert.equal(utf8Decode((await client.get(`${agent.urls[0]}/whoami`)).payload), "none");
      assert.ok(agent.cloud.view?.registry.resources.some((r) => r.path === "/sensors/[id]/temperature"));
    } finally {
      await client.close();
      await agent.close();
    }
  });
});

describe("cloud config and key files", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "coaps-edge-agent-cloud-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("validates the cloud section: defaults, remote needs url and keyFile, bad values by path", () => {
    const d = AgentConfigSchema.parse({}).cloud;
    assert.deepEqual(d, { mode: "embedded", timeoutMs: 10_000, maxConcurrent: 32, unavailableMaxAge: 10, registryRefreshSeconds: 300 });
    const r = parseAgentConfig({ cloud: { mode: "remote" } });
    assert.ok(!r.ok);
    assert.deepEqual(r.issues.map((i) => i.path).sort(), ["cloud.keyFile", "cloud.url"]);
    const bad = parseAgentConfig({ cloud: { url: "ftp://x", gatewayId: "no spaces", timeoutMs: 1, mode: "cloudy", key: 1 } });
    assert.ok(!bad.ok);
    assert.deepEqual(bad.issues.map((i) => i.path).sort(), ["cloud.gatewayId", "cloud.key", "cloud.mode", "cloud.timeoutMs", "cloud.url"]);
    assert.ok(parseAgentConfig({ cloud: { mode: "remote", url: "https://w.example.workers.dev", keyFile: "/k.json" } }).ok);
  });

  it("remote mode refuses a key file others can read; `--cloud` without a key is a usage error", async () => {
    const file = join(dir, "open-key.json");
    await saveGatewayKey(file, newGatewayKeyFile("gw-open"));
    await chmod(file, 0o644);
    await assert.rejects(
      createAgent(config({ cloud: { mode: "remote", url: "http://127.0.0.1:9", keyFile: file } })),
      (e: unknown) => e instanceof AgentError && e.code === "cloud-unavailable" && /chmod 600/.test(e.message),
    );
    let err = "";
    const io = { stdout: process.stdout, stderr: { write: (s: string) => ((err += s), true) } as unknown as NodeJS.WritableStream, stdin: process.stdin };
    assert.equal(await runAgent({ cloud: "http://127.0.0.1:9", port: "0" }, io), 2);
    assert.match(err, /cloud\.keyFile: remote mode needs a gateway key file/);
  });

  it("remote mode with the cloud down: 5.03 with the configured Max-Age, at once", async () => {
    const file = join(dir, "gw-key.json");
    await saveGatewayKey(file, newGatewayKeyFile("gw-down"));
    const srv = createServer();
    await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
    const { port } = srv.address() as { port: number };
    await new Promise<void>((resolve) => srv.close(() => resolve()));
    const agent = await createAgent(config({ cloud: { mode: "remote", url: `http://127.0.0.1:${port}`, keyFile: file, unavailableMaxAge: 7 } }));
    const client = new CoapClient({ timeoutMs: 5000 });
    try {
      assert.equal(agent.cloud.view, undefined);
      const res = await client.get(`${agent.urls[0]}/hello`);
      assert.equal(res.code, Code.ServiceUnavailable);
      assert.deepEqual(res.options.filter((o) => o.number === OptionNumber.MaxAge).map((o) => o.value), [Uint8Array.of(7)]);
      assert.equal(utf8Decode(res.payload), "cloud unreachable: ECONNREFUSED");
    } finally {
      await client.close();
      await agent.close();
    }
  });

  it("gateway id: the configured one, else the key file's; the embedded default uses a throwaway key", async () => {
    const file = join(dir, "id-key.json");
    const key = newGatewayKeyFile("gw-file");
    await saveGatewayKey(file, key);
    const cloud = AgentConfigSchema.parse({}).cloud;
    const fromFile = await forwarderFromConfig({ ...cloud, keyFile: file });
    assert.deepEqual([fromFile.gatewayId, fromFile.publicKey, fromFile.warning], [key.gatewayId, key.publicKey, undefined]);
    const configured = await forwarderFromConfig({ ...cloud, keyFile: file, gatewayId: "gw-other" });
    assert.equal(configured.gatewayId, "gw-other");
    assert.match(configured.warning ?? "", /GATEWAY_KEYS must list gw-other/);
    const a = await forwarderFromConfig(cloud);
    const b = await forwarderFromConfig(cloud);
    assert.equal(a.gatewayId, EMBEDDED_GATEWAY_ID);
    assert.notEqual(a.publicKey, b.publicKey, "a fresh in-memory key per agent");
    for (const f of [fromFile, configured, a, b]) await f.forwarder.close();
  });
});
