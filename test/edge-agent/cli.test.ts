/**
 * The coaps-edge CLI as users run it (node edge-agent/bin/coaps-edge.mjs …): the agent with its
 * demo resources, client requests with coap-client's flags, and the exit codes.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { DEMO_HELLO_TEXT, demoLargeBody } from "../../edge-agent/src/server/index.js";
import { freeUdpPort, run, start, type RunningProcess } from "../helpers/libcoap.js";

const CLI = fileURLToPath(new URL("../../edge-agent/bin/coaps-edge.mjs", import.meta.url));
const DEMO_CONFIG = fileURLToPath(new URL("../../infra/demo/agent.json", import.meta.url));
const cli = (...args: string[]) => run(process.execPath, [CLI, ...args], { timeoutMs: 30_000 });

describe("coaps-edge CLI", () => {
  let agent: RunningProcess;
  let base: string;
  let dir: string;

  before(async () => {
    const port = await freeUdpPort();
    agent = start(process.execPath, [CLI, "agent", "--config", DEMO_CONFIG, "-p", String(port)]);
    await agent.waitForOutput(/listening on coap:\/\/127\.0\.0\.1:\d+/, 20_000);
    base = `coap://127.0.0.1:${port}`;
    dir = await mkdtemp(join(tmpdir(), "coaps-edge-cli-"));
  });

  after(async () => {
    await agent.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("gets /hello from the agent, posts and puts to /echo", async () => {
    const large = join(dir, "large");
    const [hello, post, put, big, viaRequest] = await Promise.all([
      cli("get", `${base}/hello`),
      cli("post", `${base}/echo`, "-e", "posted", "-t", "text/plain"),
      cli("put", `${base}/echo`, "-e", "0x00", "-v", "5"),
      cli("get", `${base}/large`, "-b", "64", "-o", large),
      cli(`${base}/echo`, "-m", "put", "-e", "coap-client style"),
    ]);
    assert.equal(hello.code, 0, hello.stderr.toString());
    assert.equal(hello.stdout.toString(), DEMO_HELLO_TEXT);
    assert.equal(post.stdout.toString(), "posted");
    assert.equal(put.code, 0);
    assert.match(put.stderr.toString(), /^2\.04 Changed/m, "-v 5 prints the response header");
    assert.equal(big.code, 0);
    assert.deepEqual(new Uint8Array(await readFile(large)), demoLargeBody());
    assert.equal(viaRequest.stdout.toString(), "coap-client style");
  });

  it("sends a file payload with -f and custom options with -O", async () => {
    const file = join(dir, "body.bin");
    const body = Buffer.from(Array.from({ length: 3000 }, (_, i) => i & 0xff));
    await writeFile(file, body);
    const out = join(dir, "echo.bin");
    const r = await cli("put", `${base}/echo`, "-f", file, "-o", out, "-O", "2048,0x0102", "-T", "0xcafe");
    assert.equal(r.code, 0, r.stderr.toString());
    assert.deepEqual(await readFile(out), body);
  });

  it("exits 4 on 4.xx, 3 on timeout, 2 on usage errors", async () => {
    const silentPort = await freeUdpPort();
    const [missing, method, timeout, badUri, badFlag] = await Promise.all([
      cli("get", `${base}/missing`),
      cli("delete", `${base}/hello`),
      cli("get", `coap://127.0.0.1:${silentPort}/x`, "-B", "1"),
      cli("get", "http://example.org/"),
      cli("get", `${base}/hello`, "-b", "7"),
    ]);
    assert.equal(missing.code, 4);
    assert.match(missing.stderr.toString(), /4\.04 NotFound/);
    assert.equal(method.code, 4);
    assert.match(method.stderr.toString(), /4\.05/);
    assert.equal(timeout.code, 3);
    assert.equal(badUri.code, 2);
    assert.equal(badFlag.code, 2);
  });

  it("reports each bad config field with its path and exits 2", async () => {
    const file = join(dir, "bad.json");
    await writeFile(file, JSON.stringify({ listen: { port: "5683", adress: "x" }, limits: { maxBodyBytes: -1 } }));
    const r = await cli("agent", "--config", file);
    assert.equal(r.code, 2);
    const err = r.stderr.toString();
    assert.match(err, /listen\.port: expected number/);
    assert.match(err, /listen\.adress: unrecognized key/);
    assert.match(err, /limits\.maxBodyBytes: must be at least 1/);
  });
});
