/**
 * CoapSecure against libcoap (coap-client-openssl, coap-server-openssl): the OpenThread API on
 * both sides of a real DTLS peer — PSK and certificates, plain and block-wise resources, and
 * sendRequest / sendRequestBlockWise to libcoap's server.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code } from "@coaps-edge/shared";
import { CoapSecure, coapDtlsPkiIsSupported, type CoapSecureBlockwiseResource } from "../../edge-agent/src/api/index.js";
import { generateTestPki, writeTestPki } from "../../edge-agent/src/pki/index.js";
import { findBinary, freeUdpPortPair, requireBinary, run, start, waitForUdp, type RunningProcess } from "../helpers/libcoap.js";
import { EventLog, IDENTITY, PSK, connectTo, request, startAgent, text } from "./helpers.js";

const CLIENT = "coap-client-openssl";
const SERVER = "coap-server-openssl";
const dir = mkdtempSync(join(tmpdir(), "api-ot-interop-"));
const pki = coapDtlsPkiIsSupported() ? generateTestPki({ devices: 1 }) : undefined;
if (pki) writeTestPki(pki, dir);
const agents: CoapSecure[] = [];
const procs: RunningProcess[] = [];
after(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await Promise.all(procs.map((p) => p.stop()));
  rmSync(dir, { recursive: true, force: true });
});
const doc = Uint8Array.from({ length: 700 }, (_, i) => 65 + (i % 26));

describe("coap-client-openssl → CoapSecure server", () => {
  let server: CoapSecure;
  let base = "";
  let stored = new Uint8Array(0);
  before(async () => {
    server = await startAgent();
    agents.push(server);
    base = `coaps://127.0.0.1:${server.local?.port}`;
    server.addResource({ uriPath: "hello", handler: (req, info) => server.sendResponse({ code: "2.05", payload: `hello ${req.identity.identity}` }, info) });
    server.addResource({
      uriPath: "store",
      handler: (req, info) => {
        stored = Uint8Array.from(req.payload);
        server.sendResponse({ code: "2.04" }, info);
      },
    });
    const hook = (p: number, s: number) => ({ block: doc.subarray(p, p + s), more: p + s < doc.length });
    const bw: CoapSecureBlockwiseResource = {
      uriPath: "doc",
      transmitHook: hook,
      handler: (_req, info) => server.sendResponseBlockWise({ code: "2.05", contentFormat: 0 }, info, hook, 64),
    };
    server.addBlockWiseResource(bw);
  });

  it("GET over PSK: the handler sees the client's identity", async (t) => {
    const bin = requireBinary(t, CLIENT);
    if (!bin) return;
    const r = await run(bin, ["-B", "5", "-u", IDENTITY, "-k", PSK, `${base}/hello`]);
    assert.match(r.stdout.toString(), new RegExp(`hello ${IDENTITY}`));
  });

  it("a Block1 upload (-b 64) reaches a plain resource whole", async (t) => {
    const bin = requireBinary(t, CLIENT);
    if (!bin) return;
    const file = join(dir, "upload.bin");
    const data = Buffer.from(Uint8Array.from({ length: 1500 }, (_, i) => 97 + (i % 26)));
    writeFileSync(file, data);
    const r = await run(bin, ["-B", "5", "-u", IDENTITY, "-k", PSK, "-m", "put", "-b", "64", "-f", file, `${base}/store`]);
    assert.doesNotMatch(r.stderr.toString(), /(WARN|ERR|EMRG)/);
    assert.deepEqual(Buffer.from(stored), data);
  });

  it("a block-wise resource serves block 0 from sendResponseBlockWise and the rest from its transmit hook", async (t) => {
    const bin = requireBinary(t, CLIENT);
    if (!bin) return;
    const r = await run(bin, ["-B", "5", "-u", IDENTITY, "-k", PSK, "-b", "64", `${base}/doc`]);
    assert.equal(r.stdout.toString().trim(), Buffer.from(doc).toString());
    assert.ok(server.stats.blockwise.block2Served >= Math.ceil(doc.length / 64) - 1);
  });

  it("a certificate client (-c -j -C) against a certificate CoapSecure server", { skip: pki ? false : "no ECDHE_ECDSA" }, async (t) => {
    const bin = requireBinary(t, CLIENT);
    if (!bin || !pki?.server) return;
    const certServer = new CoapSecure({ address: "127.0.0.1", guardTimeMs: 50 });
    agents.push(certServer);
    certServer.setCertificate(pki.server.chainPem, pki.server.keyPem);
    certServer.setCaCertificateChain(pki.ca.cert.pem);
    certServer.addResource({ uriPath: "who", handler: (req, info) => certServer.sendResponse({ code: "2.05", payload: `cn=${req.identity.identity}` }, info) });
    await certServer.start(0);
    const device = pki.devices[0]?.commonName ?? "";
    const r = await run(bin, ["-B", "5", "-c", join(dir, `${device}.crt`), "-j", join(dir, `${device}.key`), "-C", join(dir, "ca.crt"), `coaps://127.0.0.1:${certServer.local?.port}/who`]);
    assert.match(r.stdout.toString(), new RegExp(`cn=${device}`), r.stderr.toString());
  });
});

describe("CoapSecure client → coap-server-openssl", () => {
  let port = 0;
  before(async () => {
    const bin = findBinary(SERVER);
    if (!bin) return;
    port = await freeUdpPortPair();
    const p = start(bin, ["-A", "127.0.0.1", "-p", String(port), "-k", PSK]);
    procs.push(p);
    await waitForUdp(port);
  });

  it("connect over PSK, GET /, and the block hooks on /example_data", async (t) => {
    if (!requireBinary(t, SERVER)) return;
    const client = await startAgent();
    agents.push(client);
    const log = new EventLog();
    assert.equal((await connectTo(client, port + 1, log)).event, "Connected");
    const root = await request(client, { path: "" });
    assert.equal(root.result, "None");
    assert.match(text(root.response?.payload), /libcoap/);

    const data = Uint8Array.from({ length: 3000 }, (_, i) => 48 + (i % 10));
    const put = await new Promise<number | undefined>((resolve) =>
      client.sendRequestBlockWise(
        { method: "PUT", path: "example_data", contentFormat: 0 },
        (res) => resolve(res?.code),
        (p, s) => ({ block: data.subarray(p, p + s), more: p + s < data.length }),
        undefined,
        { blockSize: 256 },
      ),
    );
    assert.ok(put === Code.Changed || put === Code.Created, String(put));
    const chunks: Uint8Array[] = [];
    const get = await new Promise<string>((resolve) =>
      client.sendRequestBlockWise({ path: "example_data" }, (_r, _i, result) => resolve(result), undefined, (block) => void chunks.push(Uint8Array.from(block))),
    );
    assert.equal(get, "None");
    assert.ok(chunks.length > 1, "came in blocks");
    assert.deepEqual(Buffer.concat(chunks), Buffer.from(data));
    client.disconnect();
    assert.equal((await log.next()).event, "DisconnectedLocalClosed");
  });

  it("certificates: the client validates libcoap's server and reads its certificate", { skip: pki ? false : "no ECDHE_ECDSA" }, async (t) => {
    const bin = requireBinary(t, SERVER);
    if (!bin || !pki?.server) return;
    const certPort = await freeUdpPortPair();
    const p = start(bin, ["-A", "127.0.0.1", "-p", String(certPort), "-c", join(dir, "server.crt"), "-j", join(dir, "server.key"), "-C", join(dir, "ca.crt")]);
    procs.push(p);
    await waitForUdp(certPort);
    const client = new CoapSecure({ address: "127.0.0.1", guardTimeMs: 50 });
    agents.push(client);
    const device = pki.devices[0];
    if (!device) return;
    client.setCertificate(device.chainPem, device.keyPem);
    client.setCaCertificateChain(pki.ca.cert.pem);
    await client.start(0);
    const e = await connectTo(client, certPort + 1);
    assert.equal(e.event, "Connected", String(e.session.error));
    assert.equal(client.getPeerCertificateBase64(), Buffer.from(pki.server.cert.der).toString("base64"));
    assert.match(text((await request(client, { path: "" })).response?.payload), /libcoap/);
  });
});
