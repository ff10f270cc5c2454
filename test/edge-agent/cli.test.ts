/**
 * The coaps-edge CLI as users run it (node edge-agent/bin/coaps-edge.mjs …): the demo agent
 * (`npm start`: the embedded cloud on coap:// and coaps:// with the demo PSK), client requests
 * with coap-client's flags (PSK ones for coaps://), coap-server's PSK flags on the agent, and
 * the exit codes.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { largeText } from "../../cloud/resources/large.js";
import { DEMO_HELLO_TEXT } from "../../edge-agent/src/server/index.js";
import { freeUdpPort, freeUdpPortPair, run, start, type RunningProcess } from "../helpers/libcoap.js";
import { CLI_BIN, cliInProcess, cliProcess } from "../helpers/cli.js";

const CLI = CLI_BIN;
const DEMO_CONFIG = fileURLToPath(new URL("../../infra/demo/agent.json", import.meta.url));
const cli = cliProcess;

const cliIn = cliInProcess;

describe("coaps-edge CLI", () => {
  let agent: RunningProcess;
  let base: string;
  let secure: string;
  let dir: string;

  before(async () => {
    const port = await freeUdpPortPair();
    agent = start(process.execPath, [CLI, "agent", "--config", DEMO_CONFIG, "-p", String(port)]);
    await agent.waitForOutput(/listening on coap:\/\/127\.0\.0\.1:\d+ coaps:\/\/127\.0\.0\.1:\d+/, 20_000);
    base = `coap://127.0.0.1:${port}`;
    secure = `coaps://127.0.0.1:${port + 1}`;
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
      cliIn("post", `${base}/echo`, "-e", "posted", "-t", "text/plain"),
      cliIn("put", `${base}/echo`, "-e", "0x00", "-v", "5"),
      cliIn("get", `${base}/large`, "-b", "64", "-o", large),
      cliIn(`${base}/echo`, "-m", "put", "-e", "coap-client style"),
    ]);
    assert.equal(hello.code, 0, hello.stderr.toString());
    assert.equal(hello.stdout.toString(), DEMO_HELLO_TEXT);
    assert.equal(post.stdout.toString(), "posted");
    assert.equal(put.code, 0);
    assert.match(put.stderr.toString(), /^2\.04 Changed/m, "-v 5 prints the response header");
    assert.equal(big.code, 0);
    assert.equal(await readFile(large, "utf8"), largeText());
    assert.equal(viaRequest.stdout.toString(), "coap-client style");
  });

  it("--json prints the whole response as one JSON object, for 2.xx and 4.xx alike", async () => {
    const [ok, missing] = await Promise.all([
      cliIn("post", `${base}/echo`, "-e", "{\"a\":1}", "-t", "application/json", "--json"),
      cliIn("get", `${base}/no-such-resource`, "--json"),
    ]);
    assert.equal(ok.code, 0, ok.stderr.toString());
    const body = JSON.parse(ok.stdout.toString()) as { code: string; contentFormat: number; payload: string; options: { name: string }[] };
    assert.equal(body.code, "2.04"); // the cloud registry's /echo answers POST with 2.04
    assert.equal(body.contentFormat, 50);
    assert.equal(body.payload, '{"a":1}');
    assert.ok(body.options.some((o) => o.name === "Content-Format"));
    assert.equal(missing.code, 4);
    assert.equal((JSON.parse(missing.stdout.toString()) as { code: string }).code, "4.04");
  });

  it("sends a file payload with -f and custom options with -O", async () => {
    const file = join(dir, "body.bin");
    const body = Buffer.from(Array.from({ length: 3000 }, (_, i) => i & 0xff));
    await writeFile(file, body);
    const out = join(dir, "echo.bin");
    const r = await cliIn("put", `${base}/echo`, "-f", file, "-o", out, "-O", "2048,0x0102", "-T", "0xcafe");
    assert.equal(r.code, 0, r.stderr.toString());
    assert.deepEqual(await readFile(out), body);
  });

  it("exits 4 on 4.xx, 3 on timeout, 2 on usage errors", async () => {
    const silentPort = await freeUdpPort();
    const [missing, method, timeout, badUri, badFlag] = await Promise.all([
      cliIn("get", `${base}/missing`),
      cliIn("delete", `${base}/hello`),
      cliIn("get", `coap://127.0.0.1:${silentPort}/x`, "-B", "1"),
      cliIn("get", "http://example.org/"),
      cliIn("get", `${base}/hello`, "-b", "7"),
    ]);
    assert.equal(missing.code, 4);
    assert.match(missing.stderr.toString(), /4\.04 NotFound/);
    assert.equal(method.code, 4);
    assert.match(method.stderr.toString(), /4\.05/);
    assert.equal(timeout.code, 3);
    assert.equal(badUri.code, 2);
    assert.equal(badFlag.code, 2);
  });

  it("coaps:// with the demo PSK (-u demo -k demo-secret-psk): /hello, /whoami, block-wise /large; -v 5 names the suite", async () => {
    const psk = ["-u", "demo", "-k", "demo-secret-psk"];
    const large = join(dir, "large-dtls");
    const [hello, whoami, big] = await Promise.all([
      cliIn("get", `${secure}/hello`, ...psk, "-v", "5"),
      cliIn("get", `${secure}/whoami`, ...psk),
      cliIn("get", `${secure}/large`, ...psk, "-b", "64", "-o", large),
    ]);
    assert.equal(hello.code, 0, hello.stderr.toString());
    assert.equal(hello.stdout.toString(), DEMO_HELLO_TEXT);
    assert.match(hello.stderr.toString(), /^DTLS 1\.2 TLS_PSK_WITH_AES_128_CCM_8 \(0xc0a8\) identity "demo" hint "CoAP"$/m);
    assert.equal(whoami.stdout.toString(), "psk demo");
    assert.equal(big.code, 0, big.stderr.toString());
    assert.equal(await readFile(large, "utf8"), largeText());
  });

  it("coaps:// failures: a wrong key or an unknown identity exits 6, -u without -k exits 2", async () => {
    const [wrongKey, unknown, halfPsk] = await Promise.all([
      cliIn("get", `${secure}/hello`, "-u", "demo", "-k", "not-the-key", "-B", "5"),
      cliIn("get", `${secure}/hello`, "-u", "stranger", "-k", "demo-secret-psk", "-B", "5"),
      cliIn("get", `${secure}/hello`, "-u", "demo"),
    ]);
    assert.equal(wrongKey.code, 6);
    assert.match(wrongKey.stderr.toString(), /DTLS handshake failed: peer sent fatal alert bad_record_mac/);
    assert.equal(unknown.code, 6);
    assert.match(unknown.stderr.toString(), /DTLS handshake failed: peer sent fatal alert unknown_psk_identity/);
    assert.equal(halfPsk.code, 2);
    assert.match(halfPsk.stderr.toString(), /-u and -k go together/);
    await agent.waitForOutput(/dtls handshake failed/, 5000); // the agent logs the failures
  });

  it("agent -k KEY -h HINT -i FILE (coap-server's PSK flags): -i lines for the hint, -k for any other identity", async () => {
    const port = await freeUdpPortPair();
    const file = join(dir, "identities");
    await writeFile(file, "# hint,identity,key\nGateway-7,dev-a,key-a\nOtherHint,dev-b,key-b\n");
    const flagged = start(process.execPath, [CLI, "agent", "-p", String(port), "-k", "shared-key", "-h", "Gateway-7", "-i", file]);
    try {
      await flagged.waitForOutput(/listening on .*coaps:\/\/127\.0\.0\.1:\d+/, 20_000);
      const url = `coaps://127.0.0.1:${port + 1}/whoami`;
      const [lineA, anyone, lineB, lineBShared] = await Promise.all([
        cliIn("get", url, "-u", "dev-a", "-k", "key-a", "-v", "5"),
        cliIn("get", url, "-u", "anyone", "-k", "shared-key"),
        cliIn("get", url, "-u", "dev-b", "-k", "key-b", "-B", "5"),
        cliIn("get", url, "-u", "dev-b", "-k", "shared-key"),
      ]);
      assert.equal(lineA.stdout.toString(), "psk dev-a", lineA.stderr.toString());
      assert.match(lineA.stderr.toString(), /hint "Gateway-7"/);
      assert.equal(anyone.stdout.toString(), "psk anyone");
      assert.equal(lineB.code, 6, "dev-b's line is for another hint: the -k key applies to it");
      assert.equal(lineBShared.stdout.toString(), "psk dev-b");
    } finally {
      await flagged.stop();
    }
  });

  it("certs --out DIR writes a test PKI; agent -c -j -C requires client certificates, -n does not", async () => {
    const pki = join(dir, "pki");
    const made = await cliIn("certs", "--out", pki, "--device", "sensor-1");
    assert.equal(made.code, 0, made.stderr.toString());
    assert.deepEqual(made.stdout.toString().trim().split("\n").map((f) => f.slice(pki.length + 1)), ["ca.crt", "ca.key", "server.crt", "server.key", "sensor-1.crt", "sensor-1.key"]);
    const again = await cliIn("certs", "--out", pki);
    assert.equal(again.code, 2, "existing files are kept without --force");
    assert.match(again.stderr.toString(), /refusing to overwrite/);
    assert.equal((await cliIn("certs")).code, 2, "--out is required");

    const [port, open] = await Promise.all([freeUdpPortPair(), freeUdpPortPair()]);
    const cert = ["-c", join(pki, "server.crt"), "-j", join(pki, "server.key")];
    const strict = start(process.execPath, [CLI, "agent", "-p", String(port), ...cert, "-C", join(pki, "ca.crt")]);
    const lax = start(process.execPath, [CLI, "agent", "-p", String(open), ...cert, "-n"]);
    try {
      await Promise.all([strict, lax].map((a) => a.waitForOutput(/listening on .*coaps:\/\//, 20_000)));
      const device = ["-c", join(pki, "sensor-1.crt"), "-j", join(pki, "sensor-1.key"), "-C", join(pki, "ca.crt")];
      const [withCert, without, anonymous, badFlags] = await Promise.all([
        cliIn("get", `coaps://127.0.0.1:${port + 1}/whoami`, ...device),
        cliIn("get", `coaps://127.0.0.1:${port + 1}/whoami`, "-C", join(pki, "ca.crt"), "-B", "5"),
        cliIn("get", `coaps://127.0.0.1:${open + 1}/whoami`, "-C", join(pki, "ca.crt")),
        cliIn("get", `coaps://127.0.0.1:${port + 1}/whoami`, "-j", join(pki, "sensor-1.key")),
      ]);
      assert.equal(withCert.stdout.toString(), "x509 sensor-1", withCert.stderr.toString());
      assert.equal(without.code, 6, "no client certificate: refused");
      assert.match(without.stderr.toString(), /handshake_failure|bad_certificate/);
      assert.equal(anonymous.code, 0, anonymous.stderr.toString());
      assert.equal(anonymous.stdout.toString(), "none", "-n: the client stays anonymous");
      assert.equal(badFlags.code, 2);
    } finally {
      await Promise.all([strict.stop(), lax.stop()]);
    }
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
