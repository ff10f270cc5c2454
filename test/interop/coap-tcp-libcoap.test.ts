/**
 * Interop over RFC 8323 with libcoap 4.3.1 (coap-client-openssl / coap-server-openssl):
 *   our TCP and TLS listeners (PKI and PSK) ← coap-client-openssl: GET, CSM observed, 64 KiB
 *   block-wise (-b 1024) and BERT (our Max-Message-Size 8448 forces blocks; both announce
 *   Block-Wise-Transfer) both ways;
 *   our client → coap-server-openssl over TCP (port P) and TLS (P+1, PSK and PKI): GET, CSM
 *   observed, Ping/Pong, 64 KiB up (block-wise) and down (BERT from libcoap).
 * coap-client exits 0 even on failure: every check is on its output.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { Code } from "@coaps-edge/shared";
import { CoapClient } from "../../edge-agent/src/client/index.js";
import { transportLayerFactory } from "../../edge-agent/src/coap/stream/client-factory.js";
import type { StreamConnection } from "../../edge-agent/src/coap/stream/connection.js";
import type { StreamLayer } from "../../edge-agent/src/coap/stream/stream-layer.js";
import { generateTestPki, loadCredentials, loadTrustStore, writeTestPki, type TestPki } from "../../edge-agent/src/pki/index.js";
import { CoapServer, DEMO_HELLO_TEXT, demoLargeBody, registerDemoResources, type CoapRequest } from "../../edge-agent/src/server/index.js";
import type { StreamListener } from "../../edge-agent/src/transport/stream-socket.js";
import { listenTcp } from "../../edge-agent/src/transport/tcp.js";
import { listenTls } from "../../edge-agent/src/transport/tls.js";
import { requireBinary, run, start, type RunningProcess } from "../helpers/libcoap.js";

const CLIENT = "coap-client-openssl";
const SERVER = "coap-server-openssl";
const BODY = demoLargeBody(64 * 1024);
const PSK_ID = "gateway-test";
const PSK_KEY = "secretPSK";

/** Two consecutive free TCP ports (coap-server puts TLS on P+1). */
async function freeTcpPortPair(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const a = net.createServer();
    await new Promise<void>((r) => a.listen(0, "127.0.0.1", () => r()));
    const p = (a.address() as net.AddressInfo).port;
    const b = net.createServer();
    const ok = p < 65535 && (await new Promise<boolean>((r) => {
      b.once("error", () => r(false));
      b.listen(p + 1, "127.0.0.1", () => r(true));
    }));
    await new Promise<void>((r) => a.close(() => r()));
    if (ok) await new Promise<void>((r) => b.close(() => r()));
    if (ok) return p;
  }
  throw new Error("no free TCP port pair");
}

async function waitForTcp(port: number, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on TCP ${port}`);
}

async function coapClient(bin: string, args: string[]): Promise<string> {
  const r = await run(bin, ["-B", "10", ...args], { timeoutMs: 25_000 });
  assert.equal(r.timedOut, false, `coap-client hung: ${args.join(" ")}`);
  return r.stdout.toString("utf8");
}

function newServer(seen: CoapRequest[]): CoapServer {
  const server = new CoapServer();
  registerDemoResources(server);
  server.addResource("/big", {
    get: () => ({ code: Code.Content, payload: BODY }),
    put: (r) => (seen.push(r), { code: Code.Changed, payload: `${r.payload.length} ${Buffer.compare(Buffer.from(r.payload), Buffer.from(BODY)) === 0 ? "same" : "differ"}` }),
  });
  server.addResource("/whoami", { get: (r) => (seen.push(r), { code: Code.Content, payload: `${r.identity.kind}:${r.identity.identity ?? ""}` }) });
  return server;
}

/** Records the peer CSMs of every connection of a listener. */
function watchCsm(l: StreamListener): StreamConnection[] {
  const conns: StreamConnection[] = [];
  l.layer.onConnection = (c, up) => void (up && conns.push(c));
  return conns;
}

describe("our TCP/TLS listeners ← coap-client-openssl", () => {
  let dir: string;
  let pki: TestPki;
  const seen: CoapRequest[] = [];
  const server = newServer(seen);
  const listeners: StreamListener[] = [];
  let tcp: StreamListener;
  let tcpBert: StreamListener;
  let tlsPki: StreamListener;
  let tlsPsk: StreamListener;
  let files: { ca: string; crt: string; key: string; body: string };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "coap-tcp-libcoap-"));
    pki = generateTestPki({ devices: ["device-001"] });
    writeTestPki(pki, dir);
    files = { ca: join(dir, "ca.crt"), crt: join(dir, "device-001.crt"), key: join(dir, "device-001.key"), body: join(dir, "body.bin") };
    await writeFile(files.body, BODY);
    const certificate = loadCredentials(pki.server!.chainPem, pki.server!.keyPem);
    const trust = loadTrustStore(pki.ca.cert.pem);
    tcp = await listenTcp({ port: 0 }, server);
    tcpBert = await listenTcp({ port: 0, connection: { maxMessageSize: 8448 } }, server);
    tlsPki = await listenTls({ port: 0, certificate, trust, connection: { maxMessageSize: 8448 } }, server);
    tlsPsk = await listenTls({ port: 0, psk: { hint: "CoAP", lookup: (id) => (id === PSK_ID ? Buffer.from(PSK_KEY) : undefined) } }, server);
    listeners.push(tcp, tcpBert, tlsPki, tlsPsk);
  });

  after(async () => {
    for (const l of listeners) await l.close();
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("coap+tcp GET /hello; libcoap's CSM (Max-Message-Size 8388864, Block-Wise-Transfer) is observed", async (t) => {
    const bin = requireBinary(t, CLIENT);
    if (!bin) return;
    const conns = watchCsm(tcp);
    const out = await coapClient(bin, [`coap+tcp://127.0.0.1:${tcp.local.port}/hello`]);
    assert.equal(out.trim(), DEMO_HELLO_TEXT);
    assert.deepEqual(conns[0]?.peerCsms[0], { kind: "csm", maxMessageSize: 8388864, blockWiseTransfer: true });
  });

  it("coap+tcp 64 KiB GET in 1024-byte blocks (-b 1024)", async (t) => {
    const bin = requireBinary(t, CLIENT);
    if (!bin) return;
    const out = join(dir, "get-b1024.out");
    await coapClient(bin, ["-b", "1024", "-o", out, `coap+tcp://127.0.0.1:${tcp.local.port}/big`]);
    assert.deepEqual(await readFile(out), Buffer.from(BODY));
  });

  it("coap+tcp 64 KiB GET and PUT as BERT (our Max-Message-Size 8448)", async (t) => {
    const bin = requireBinary(t, CLIENT);
    if (!bin) return;
    const before = { ...tcpBert.layer.streamStats };
    const out = join(dir, "get-bert.out");
    await coapClient(bin, ["-o", out, `coap+tcp://127.0.0.1:${tcpBert.local.port}/big`]);
    assert.deepEqual(await readFile(out), Buffer.from(BODY));
    assert.ok(tcpBert.layer.streamStats.bertResponses - before.bertResponses >= 7, "GET went out as BERT blocks");
    const put = await coapClient(bin, ["-m", "put", "-f", files.body, `coap+tcp://127.0.0.1:${tcpBert.local.port}/big`]);
    assert.equal(put.trim(), "65536 same");
    assert.ok(tcpBert.layer.streamStats.bertUploads - before.bertUploads >= 7, "PUT came in as BERT blocks");
  });

  it("coaps+tcp with certificates: mutual authentication, the handler sees the device CN", async (t) => {
    const bin = requireBinary(t, CLIENT);
    if (!bin) return;
    const base = `coaps+tcp://127.0.0.1:${tlsPki.local.port}`;
    const out = await coapClient(bin, ["-c", files.crt, "-j", files.key, "-C", files.ca, `${base}/whoami`]);
    assert.equal(out.trim(), "x509:device-001");
  });

  it("coaps+tcp 64 KiB: block-wise (-b 1024) and BERT GET, BERT PUT", async (t) => {
    const bin = requireBinary(t, CLIENT);
    if (!bin) return;
    const base = `coaps+tcp://127.0.0.1:${tlsPki.local.port}`;
    const creds = ["-c", files.crt, "-j", files.key, "-C", files.ca];
    const o1 = join(dir, "tls-b1024.out");
    await coapClient(bin, [...creds, "-b", "1024", "-o", o1, `${base}/big`]);
    assert.deepEqual(await readFile(o1), Buffer.from(BODY));
    const before = { ...tlsPki.layer.streamStats };
    const o2 = join(dir, "tls-bert.out");
    await coapClient(bin, [...creds, "-o", o2, `${base}/big`]);
    assert.deepEqual(await readFile(o2), Buffer.from(BODY));
    assert.ok(tlsPki.layer.streamStats.bertResponses > before.bertResponses);
    const put = await coapClient(bin, [...creds, "-m", "put", "-f", files.body, `${base}/big`]);
    assert.equal(put.trim(), "65536 same");
    assert.ok(tlsPki.layer.streamStats.bertUploads > before.bertUploads);
  });

  it("coaps+tcp with a client certificate from an unknown CA is refused", async (t) => {
    const bin = requireBinary(t, CLIENT);
    if (!bin) return;
    const other = generateTestPki({ devices: ["intruder"] });
    const odir = join(dir, "other");
    writeTestPki(other, odir);
    const out = await coapClient(bin, ["-B", "3", "-c", join(odir, "intruder.crt"), "-j", join(odir, "intruder.key"), "-n", `coaps+tcp://127.0.0.1:${tlsPki.local.port}/whoami`]);
    assert.doesNotMatch(out, /x509:/);
  });

  it("coaps+tcp with PSK (-u/-k): the handler sees the PSK identity", async (t) => {
    const bin = requireBinary(t, CLIENT);
    if (!bin) return;
    const out = await coapClient(bin, ["-u", PSK_ID, "-k", PSK_KEY, `coaps+tcp://127.0.0.1:${tlsPsk.local.port}/whoami`]);
    assert.equal(out.trim(), `psk:${PSK_ID}`);
    const wrong = await coapClient(bin, ["-B", "3", "-u", PSK_ID, "-k", "wrong-key", `coaps+tcp://127.0.0.1:${tlsPsk.local.port}/whoami`]);
    assert.doesNotMatch(wrong, /psk:/);
  });
});

describe("our client → coap-server-openssl (TCP on P, TLS on P+1)", () => {
  let dir: string;
  let pki: TestPki;
  let port: number;
  let pskServer: RunningProcess | undefined;
  let pkiServer: RunningProcess | undefined;
  let pkiPort: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "coap-tcp-libcoap-srv-"));
    pki = generateTestPki({ devices: ["device-001"] });
    writeTestPki(pki, dir);
  });

  after(async () => {
    await pskServer?.stop();
    await pkiServer?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function psk(t: TestContext): Promise<boolean> {
    if (!requireBinary(t, SERVER)) return false;
    if (!pskServer) {
      port = await freeTcpPortPair();
      pskServer = start(SERVER, ["-A", "127.0.0.1", "-p", String(port), "-k", PSK_KEY, "-h", "CoAP"]);
      await waitForTcp(port);
      await waitForTcp(port + 1);
    }
    return true;
  }

  async function withPki(t: TestContext): Promise<boolean> {
    if (!requireBinary(t, SERVER)) return false;
    if (!pkiServer) {
      pkiPort = await freeTcpPortPair();
      pkiServer = start(SERVER, ["-A", "127.0.0.1", "-p", String(pkiPort), "-c", join(dir, "server.crt"), "-j", join(dir, "server.key"), "-C", join(dir, "ca.crt")]);
      await waitForTcp(pkiPort + 1);
    }
    return true;
  }

  it("coap+tcp GET /; libcoap's CSM observed; Ping → Pong", async (t) => {
    if (!(await psk(t))) return;
    const client = new CoapClient({ layerFactory: transportLayerFactory(), timeoutMs: 10_000 });
    t.after(() => client.close());
    const r = await client.get(`coap+tcp://127.0.0.1:${port}/`);
    assert.equal(r.codeText, "2.05");
    assert.match(Buffer.from(r.payload).toString(), /libcoap/);
    const layer = client.layers[0] as StreamLayer;
    const conn = layer.connections[0] as StreamConnection;
    assert.deepEqual(conn.peerCsms[0], { kind: "csm", maxMessageSize: 8388864, blockWiseTransfer: true });
    assert.ok((await conn.ping()) >= 0);
  });

  it("coap+tcp 64 KiB PUT to /example_data and GET back, both as BERT", async (t) => {
    if (!(await psk(t))) return;
    const client = new CoapClient({ layerFactory: transportLayerFactory({ connection: { maxMessageSize: 8448 } }), timeoutMs: 15_000 });
    t.after(() => client.close());
    const url = `coap+tcp://127.0.0.1:${port}/example_data`;
    const put = await client.put(url, BODY, { contentFormat: 42 });
    assert.match(put.codeText, /^2\.0[14]$/);
    assert.ok(put.messages > 1, "the 64 KiB body went in blocks");
    assert.ok((client.layers[0] as StreamLayer).streamStats.bertUploadsSent > 0, "joined into BERT messages");
    const get = await client.get(url);
    assert.equal(get.codeText, "2.05");
    assert.deepEqual(Buffer.from(get.payload), Buffer.from(BODY));
    const layer = client.layers[0] as StreamLayer;
    assert.ok(layer.streamStats.bertReceived > 0, "libcoap answered with BERT blocks");
    assert.ok(get.messages < 64);
  });

  it("coaps+tcp with PSK: GET / and 64 KiB round trip", async (t) => {
    if (!(await psk(t))) return;
    const client = new CoapClient({
      layerFactory: transportLayerFactory({ tls: { psk: { identity: PSK_ID, key: Buffer.from(PSK_KEY) } }, connection: { maxMessageSize: 8448 } }),
      timeoutMs: 15_000,
    });
    t.after(() => client.close());
    const r = await client.get(`coaps+tcp://127.0.0.1:${port + 1}/`);
    assert.equal(r.codeText, "2.05");
    assert.equal(r.identity.kind, "psk");
    const url = `coaps+tcp://127.0.0.1:${port + 1}/example_data`;
    await client.put(url, BODY, { contentFormat: 42, blockSize: 1024 });
    const get = await client.get(url);
    assert.deepEqual(Buffer.from(get.payload), Buffer.from(BODY));
  });

  it("coaps+tcp with certificates: the server chain is validated (CA, host 127.0.0.1); a wrong CA is refused", async (t) => {
    if (!(await withPki(t))) return;
    const trust = loadTrustStore(pki.ca.cert.pem);
    const certificate = loadCredentials(pki.devices[0]!.chainPem, pki.devices[0]!.keyPem);
    const client = new CoapClient({ layerFactory: transportLayerFactory({ tls: { certificate, trust } }), timeoutMs: 10_000 });
    t.after(() => client.close());
    const r = await client.get(`coaps+tcp://127.0.0.1:${pkiPort + 1}/`);
    assert.equal(r.codeText, "2.05");
    assert.equal(r.identity.kind, "x509");
    assert.equal(r.identity.identity, "localhost");

    const otherCa = generateTestPki({ server: false, devices: [] }).ca;
    const bad = new CoapClient({ layerFactory: transportLayerFactory({ tls: { certificate, trust: loadTrustStore(otherCa.cert.pem) } }), timeoutMs: 5000 });
    t.after(() => bad.close());
    await assert.rejects(bad.get(`coaps+tcp://127.0.0.1:${pkiPort + 1}/`), (e: Error & { code?: string }) => e.code === "connect-failed" && /unknown-ca/.test(e.message));
  });
});
