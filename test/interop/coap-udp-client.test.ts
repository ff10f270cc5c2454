/**
 * Interop: our CoapClient (and the coaps-edge CLI) → libcoap's coap-server-notls, which serves
 * /, /time, /async, /example_data (PUT-able, block-wise) and /.well-known/core.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code, parseLinkFormat } from "@coaps-edge/shared";
import { CoapClient } from "../../edge-agent/src/client/index.js";
import { findBinary, requireBinary, run, type RunningProcess, startLibcoapServer } from "../helpers/libcoap.js";
import { CLI_BIN } from "../helpers/cli.js";

const SERVER = "coap-server-notls";
const CLI = CLI_BIN;
const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");

describe("our client → coap-server-notls", () => {
  let proc: RunningProcess | undefined;
  let base = "";
  let client: CoapClient;

  before(async () => {
    client = new CoapClient({ timeoutMs: 10_000 });
    const bin = findBinary(SERVER);
    if (!bin) return; // each test skips (or fails under CI) through requireBinary
    const { proc: started, port } = await startLibcoapServer(bin, []);
    proc = started;
    base = `coap://127.0.0.1:${port}`;
  });

  after(async () => {
    await client.close();
    await proc?.stop();
  });

  it("GET / and /time", async (t) => {
    if (!requireBinary(t, SERVER)) return;
    const root = await client.get(`${base}/`);
    assert.equal(root.code, Code.Content);
    assert.match(text(root.payload), /libcoap/);
    const time = await client.get(`${base}/time`);
    assert.equal(time.code, Code.Content);
    assert.ok(time.payload.length > 0);
  });

  it("PUTs a large body (Block1) and GETs it back block-wise at 64 and 1024 bytes", async (t) => {
    if (!requireBinary(t, SERVER)) return;
    const data = Uint8Array.from({ length: 5000 }, (_, i) => 65 + ((i * 31) % 26));
    const put = await client.put(`${base}/example_data`, data, { contentFormat: 0 });
    assert.ok(put.code === Code.Created || put.code === Code.Changed, put.codeText);
    assert.ok(put.messages > 1, "sent in blocks");
    const small = await client.get(`${base}/example_data`, { blockSize: 64 });
    assert.equal(small.code, Code.Content);
    assert.deepEqual(small.payload, data);
    assert.equal(small.messages, Math.ceil(5000 / 64));
    const big = await client.get(`${base}/example_data`);
    assert.deepEqual(big.payload, data);
    // And the other way round: upload in 32-byte blocks.
    const again = data.map((b) => b + 1);
    const put32 = await client.put(`${base}/example_data`, again, { blockSize: 32, contentFormat: 0 });
    assert.equal(put32.messages, Math.ceil(5000 / 32));
    assert.deepEqual((await client.get(`${base}/example_data`, { blockSize: 256 })).payload, again);
  });

  it("reads /.well-known/core and gets 4.04 for an unknown path", async (t) => {
    if (!requireBinary(t, SERVER)) return;
    const wk = await client.get(`${base}/.well-known/core`);
    const hrefs = parseLinkFormat(text(wk.payload)).map((l) => l.href);
    assert.ok(hrefs.includes("/time") && hrefs.includes("/example_data"), hrefs.join(","));
    assert.equal((await client.get(`${base}/no/such/thing`)).code, Code.NotFound);
  });

  it("the coaps-edge CLI gets / and exits 4 on 4.04", async (t) => {
    if (!requireBinary(t, SERVER)) return;
    const [ok, missing] = await Promise.all([
      run(process.execPath, [CLI, "get", `${base}/`, "-B", "10"], { timeoutMs: 30_000 }),
      run(process.execPath, [CLI, "get", `${base}/missing`, "-B", "10"], { timeoutMs: 30_000 }),
    ]);
    assert.equal(ok.code, 0, ok.stderr.toString());
    assert.match(ok.stdout.toString(), /libcoap/);
    assert.equal(missing.code, 4);
    assert.match(missing.stderr.toString(), /4\.04/);
    assert.equal(missing.stdout.length, 0);
  });
});
