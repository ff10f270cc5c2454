/**
 * The example programs under examples/ — one per client setup of the libcoap seed (plain,
 * Unix domain, PKI, PSK, anonymous DTLS) and the OpenThread CoAP Secure sequence — run here,
 * both as programs (node --import tsx, as a user runs them) and by importing their setup
 * functions. Peers: coap-server-notls / coap-server-openssl, and our CoapServer for AF_UNIX
 * (libcoap 4.3.1 has no Unix-domain sockets).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { coapDtlsPkiIsSupported } from "../../edge-agent/src/api/index.js";
import { generateTestPki, writeTestPki } from "../../edge-agent/src/pki/index.js";
import { CoapServer } from "../../edge-agent/src/server/index.js";
import { unixDgramIsSupported } from "../../edge-agent/src/transport/support.js";
import { UnixDgramEndpoint } from "../../edge-agent/src/transport/unix-dgram.js";
import { findBinary, freeUdpPortPair, requireBinary, run, start, waitForUdp, type RunResult, type RunningProcess } from "../helpers/libcoap.js";
import { setupClientSessionDtls } from "../../examples/client-anonymous-dtls.js";
import { setupClientSessionPki } from "../../examples/client-pki.js";
import { setupClientSession as setupPlain } from "../../examples/client-plain.js";
import { setupClientSessionPsk } from "../../examples/client-psk.js";
import { setupClientSession as setupUnix } from "../../examples/client-unix.js";
import { demo } from "../../examples/openthread-coap-secure.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const KEY = "example-key";
const dir = mkdtempSync(join(tmpdir(), "api-examples-"));
const pkiOk = coapDtlsPkiIsSupported();
const pki = generateTestPki({ devices: 1 });
writeTestPki(pki, dir);
const device = pki.devices[0]?.commonName ?? "device-001";
const procs: RunningProcess[] = [];
let plainPort = 0;
let pskPort = 0;
let certPort = 0;
let anonPort = 0;
const unixPath = join(dir, "server.sock");
let unixServer: { close(): Promise<void> } | undefined;
const runs = new Map<string, Promise<RunResult>>();

function example(name: string, args: string[]): Promise<RunResult> {
  return run(process.execPath, ["--import", "tsx", join("examples", `${name}.ts`), ...args], { cwd: ROOT, timeoutMs: 30_000 });
}

before(async () => {
  const notls = findBinary("coap-server-notls");
  const openssl = findBinary("coap-server-openssl");
  if (notls) {
    plainPort = await freeUdpPortPair();
    procs.push(start(notls, ["-A", "127.0.0.1", "-p", String(plainPort)]));
  }
  if (openssl) {
    pskPort = await freeUdpPortPair();
    procs.push(start(openssl, ["-A", "127.0.0.1", "-p", String(pskPort), "-k", KEY]));
    certPort = await freeUdpPortPair();
    procs.push(start(openssl, ["-A", "127.0.0.1", "-p", String(certPort), "-c", join(dir, "server.crt"), "-j", join(dir, "server.key"), "-C", join(dir, "ca.crt")]));
    // Without -C: a server that does not ask for a client certificate (anonymous clients welcome).
    anonPort = await freeUdpPortPair();
    procs.push(start(openssl, ["-A", "127.0.0.1", "-p", String(anonPort), "-c", join(dir, "server.crt"), "-j", join(dir, "server.key")]));
  }
  if (unixDgramIsSupported()) {
    const endpoint = await UnixDgramEndpoint.bind({ path: unixPath });
    const server = new CoapServer();
    server.addResource("/", { get: (req) => ({ code: "2.05", payload: `unix hello to ${req.peer.address}` }) });
    server.attach(endpoint);
    unixServer = { close: async () => (server.close(), await endpoint.close()) };
  }
  await Promise.all([plainPort, pskPort, certPort, anonPort].filter((p) => p > 0).map((p) => waitForUdp(p)));
  // Start every program at once (each pays tsx's start-up), assert on them in the tests.
  if (plainPort) runs.set("plain", example("client-plain", ["127.0.0.1", String(plainPort), "/"]));
  if (pskPort) runs.set("psk", example("client-psk", ["127.0.0.1", String(pskPort + 1), "example-id", KEY, "/"]));
  if (certPort && pkiOk) {
    runs.set("pki", example("client-pki", ["127.0.0.1", String(certPort + 1), join(dir, `${device}.crt`), join(dir, `${device}.key`), join(dir, "ca.crt"), "/"]));
    runs.set("anonymous", example("client-anonymous-dtls", ["127.0.0.1", String(anonPort + 1), "/"]));
  }
  if (unixServer) runs.set("unix", example("client-unix", [unixPath, "/"]));
  runs.set("openthread", example("openthread-coap-secure", []));
});
after(async () => {
  await Promise.allSettled([...runs.values()]);
  await unixServer?.close();
  await Promise.all(procs.map((p) => p.stop()));
  rmSync(dir, { recursive: true, force: true });
});

const LIBCOAP = /^2\.05 This is a test server made with libcoap/;

describe("examples/ (the seed's client setups)", () => {
  it("client-plain: UDP to coap-server-notls", async (t) => {
    if (!requireBinary(t, "coap-server-notls")) return;
    const r = await runs.get("plain");
    assert.equal(r?.code, 0, r?.stderr.toString());
    assert.match(r?.stdout.toString() ?? "", LIBCOAP);
    const s = await setupPlain("127.0.0.1", plainPort);
    assert.equal((await s.request({ path: "time" })).codeText, "2.05");
    await s.context.free();
  });

  it("client-unix: AF_UNIX datagrams from a unique local path", { skip: unixDgramIsSupported() ? false : "no unix-dgram" }, async () => {
    const r = await runs.get("unix");
    assert.equal(r?.code, 0, r?.stderr.toString());
    assert.match(r?.stdout.toString() ?? "", /^2\.05 unix hello to \/tmp\/client\.\d+/);
    const s = await setupUnix(unixPath, join(dir, "in-process.sock"));
    assert.match(Buffer.from((await s.request({ path: "/" })).payload).toString(), /in-process\.sock$/);
    await s.context.free();
  });

  it("client-psk: DTLS-PSK to coap-server-openssl -k, the hint callback logs the server's hint", async (t) => {
    if (!requireBinary(t, "coap-server-openssl")) return;
    const r = await runs.get("psk");
    assert.equal(r?.code, 0, r?.stderr.toString());
    assert.match(r?.stdout.toString() ?? "", LIBCOAP);
    assert.match(r?.stderr.toString() ?? "", /Identity Hint 'CoAP' provided/);
    const s = await setupClientSessionPsk("gw.local", "127.0.0.1", "in-process", KEY, pskPort + 1);
    assert.equal(s.dtlsSession?.pskIdentity, "in-process");
    await s.context.free();
  });

  it("client-pki: mutual certificates with coap-server-openssl -c -j -C", { skip: pkiOk ? false : "no ECDHE" }, async (t) => {
    if (!requireBinary(t, "coap-server-openssl")) return;
    const r = await runs.get("pki");
    assert.equal(r?.code, 0, r?.stderr.toString());
    assert.match(r?.stdout.toString() ?? "", LIBCOAP);
    assert.match(r?.stderr.toString() ?? "", /CN 'localhost' presented at depth 0/);
    const s = await setupClientSessionPki("127.0.0.1", join(dir, `${device}.crt`), join(dir, `${device}.key`), join(dir, "ca.crt"), certPort + 1);
    assert.equal(s.dtlsSession?.identity.identity, "localhost");
    await s.context.free();
  });

  it("client-anonymous-dtls: encrypted, the server not authenticated", { skip: pkiOk ? false : "no ECDHE" }, async (t) => {
    if (!requireBinary(t, "coap-server-openssl")) return;
    const r = await runs.get("anonymous");
    assert.equal(r?.code, 0, r?.stderr.toString());
    assert.match(r?.stdout.toString() ?? "", LIBCOAP);
    assert.match(r?.stdout.toString() ?? "", /cipher suite TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, server authenticated: false/);
    const s = await setupClientSessionDtls("127.0.0.1", anonPort + 1);
    assert.equal(s.dtlsSession?.identity.kind, "none");
    await s.context.free();
  });

  it("openthread-coap-secure: start, setPsk, addResource, connect, sendRequest", async () => {
    const r = await runs.get("openthread");
    assert.equal(r?.code, 0, r?.stderr.toString());
    assert.match(r?.stdout.toString() ?? "", /^message \d+: hello, example-device$/m);
    assert.match(await demo(), /hello, example-device/);
  });
});
