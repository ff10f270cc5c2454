/**
 * SIGHUP reloads certificates, CA and the gateway key in the real CLI process (issue 8):
 * `coaps-edge agent -c server.crt -j server.key -C ca.crt --cloud URL --gateway-key FILE`.
 * The test replaces the three PEM files with another PKI (a new CA, server "gw-new") and the key
 * file with a new gateway key, sends SIGHUP, and shows:
 *  - an established DTLS session (a device of the old CA) survives and keeps working, now
 *    forwarded to a cloud that only trusts the new gateway key (so the key was swapped too);
 *  - a new handshake gets the new certificate: our DtlsClient sees the subject "gw-new",
 *    `openssl s_client` verifies the chain against the new CA, over DTLS and over coaps+tcp
 *    (TLS, same credentials), libcoap's `coap-client-openssl -C new-ca` connects and with
 *    `-C old-ca` cannot;
 *  - client certificates now have to chain to the new CA: the old device cannot handshake again.
 * The PSK side (a removed identity loses its session) is in signals.test.ts.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createDefaultCloudApp } from "@coaps-edge/cloud/lib";
import { CoapClient } from "../../edge-agent/src/client/index.js";
import { DtlsClient, DtlsError, type CloseReason } from "../../edge-agent/src/dtls/index.js";
import { generateTestPki, loadCredentials, loadTrustStore, writeTestPki } from "../../edge-agent/src/pki/index.js";
import type { PeerAddress } from "../../edge-agent/src/transport/types.js";
import { UdpEndpoint } from "../../edge-agent/src/transport/udp.js";
import { freeUdpPortPair, requireBinary, run, start, type RunningProcess } from "../helpers/libcoap.js";
import { CLI } from "./agent-cases.js";

const GATEWAY = "gw-reload";

/** The real cloud app on node:http, trusting only the gateway public key it is given. */
async function localCloud(publicKey: string): Promise<{ url: string; server: Server }> {
  const app = createDefaultCloudApp();
  const env = { GATEWAY_KEYS: JSON.stringify({ [GATEWAY]: publicKey }) };
  const server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
      const body = req.method !== "GET" && req.method !== "HEAD" ? Buffer.concat(chunks) : undefined;
      const response = await app.fetch(new Request(`http://127.0.0.1${req.url ?? "/"}`, { method: req.method, headers, body }), env);
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

interface Device {
  readonly client: DtlsClient;
  readonly closed: CloseReason[];
}

describe("SIGHUP reloads certificates, CA and gateway key in the running CLI agent", { timeout: 60_000 }, () => {
  let dir = "";
  let agent: RunningProcess | undefined;
  let cloud: Server | undefined;
  let server: PeerAddress;
  const devices: DtlsClient[] = [];
  const path = (...p: string[]) => join(dir, ...p);

  /** A PKI with its own CA, server leaf (CN `server`, IP SAN 127.0.0.1) and one device. */
  const writePki = (name: string, serverCn: string, deviceCn: string) =>
    writeTestPki(generateTestPki({ caCommonName: `${name} CA`, server: { commonName: serverCn, ipAddresses: ["127.0.0.1"], dnsNames: ["localhost"] }, devices: [deviceCn] }), path(name), { overwrite: true });

  async function connect(deviceDir: string, deviceCn: string, caDir: string): Promise<Device> {
    const udp = await UdpEndpoint.bind({ address: "127.0.0.1", port: 0 });
    const client = await DtlsClient.connect(udp, server, {
      pki: {
        credentials: loadCredentials({ path: path(deviceDir, `${deviceCn}.crt`) }, { path: path(deviceDir, `${deviceCn}.key`) }),
        trust: loadTrustStore({ path: path(caDir, "ca.crt") }),
        policy: { host: "127.0.0.1" },
      },
      handshakeTimeoutMs: 4000,
    }).catch(async (e: unknown) => {
      await udp.close();
      throw e;
    });
    devices.push(client);
    const closed: CloseReason[] = [];
    client.onClose = (reason) => void closed.push(reason);
    return { client, closed };
  }

  /** GET through the device's existing session: [code as "c.dd", payload text]. */
  async function get(d: Device, p: string): Promise<[string, string]> {
    const coap = new CoapClient({ endpoint: d.client, timeoutMs: 8000 });
    try {
      const r = await coap.get(`coaps://127.0.0.1:${server.port}${p}`).catch((e: Error) => {
        throw new Error(`GET ${p}: ${e.message}; agent log:\n${agent?.stderr().slice(-4000)}`);
      });
      return [`${r.code >> 5}.${String(r.code & 31).padStart(2, "0")}`, Buffer.from(r.payload).toString("utf8")];
    } finally {
      await coap.close();
    }
  }

  /** `openssl s_client` over DTLS (UDP) or TLS (TCP, coaps+tcp) with `pki`'s device and CA: its output. */
  async function sClient(bin: string, proto: "dtls" | "tls", pki: "old" | "new"): Promise<string> {
    const device = pki === "old" ? "dev-old" : "dev-new";
    const r = await run(bin, [
      "s_client", ...(proto === "dtls" ? ["-dtls1_2", "-cipher", "ECDHE-ECDSA-AES128-CCM8:@SECLEVEL=0"] : ["-tls1_2", "-alpn", "coap"]),
      "-connect", `127.0.0.1:${server.port}`,
      "-cert", path(pki, `${device}.crt`), "-key", path(pki, `${device}.key`), "-CAfile", path(pki, "ca.crt"), "-verify_return_error",
    ], { timeoutMs: 15_000 });
    return r.stdout.toString() + r.stderr.toString();
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "coaps-edge-sighup-pki-"));
    writePki("old", "gw-old", "dev-old");
    writePki("new", "gw-new", "dev-new");
    // The files the agent reads: the old PKI now, the new one after the swap.
    await writePki("live", "unused", "unused");
    for (const f of ["server.crt", "server.key", "ca.crt"]) await copyFile(path("old", f), path("live", f));
    const keys: string[] = [];
    for (const name of ["old", "new"]) {
      const r = await run(process.execPath, [CLI, "keys", "--out", path(`gateway-${name}.json`), "--gateway-id", GATEWAY], { timeoutMs: 30_000 });
      assert.equal(r.code, 0, r.stderr.toString());
      keys.push(r.stdout.toString().trim());
    }
    const liveKey = path("gateway-live.json");
    await copyFile(path("gateway-old.json"), liveKey);
    const c = await localCloud(keys[1]!); // the cloud already knows only the new gateway key
    cloud = c.server;
    const port = await freeUdpPortPair();
    server = { address: "127.0.0.1", port: port + 1, family: "IPv4" };
    agent = start(process.execPath, [
      CLI, "agent", "-p", String(port), "--demo", "--no-tcp",
      "-c", path("live", "server.crt"), "-j", path("live", "server.key"), "-C", path("live", "ca.crt"),
      "--cloud", c.url, "--gateway-id", GATEWAY, "--gateway-key", liveKey,
    ]);
    await agent.waitForOutput(/listening on .*coaps:\/\/127\.0\.0\.1:\d+/, 30_000);
  });

  after(async () => {
    for (const d of devices) await d.close().catch(() => {});
    await agent?.stop();
    await new Promise<void>((resolve) => (cloud ? cloud.close(() => resolve()) : resolve()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("keeps the established session, presents the new chain to new handshakes, requires the new CA, signs with the new key", async (t) => {
    const s_client = requireBinary(t, "openssl");
    const coapClient = requireBinary(t, "coap-client-openssl");
    if (!s_client || !coapClient) return;

    const old = await connect("old", "dev-old", "old");
    assert.equal(old.client.sessionInfo()?.identity.identity, "gw-old");
    assert.deepEqual(await get(old, "/hello"), ["2.05", "Hello from coaps-edge"], "a local resource");
    const [refused] = await get(old, "/whoami");
    assert.match(refused, /^5\./, "the cloud refuses the old gateway key");
    assert.match(await sClient(s_client, "tls", "old"), /subject=.*CN ?= ?gw-old/, "coaps+tcp before the reload");

    // The swap: other CA, server certificate and key, gateway key; then SIGHUP.
    for (const f of ["server.crt", "server.key", "ca.crt"]) await copyFile(path("new", f), path("live", f));
    await writeFile(path("gateway-live.json"), await readFile(path("gateway-new.json")));
    agent!.child.kill("SIGHUP");
    await agent!.waitForOutput(/credentials reloaded/, 10_000);

    // The established session survives, and its requests are now signed with the new key.
    assert.deepEqual(old.closed, [], "the old device's session survives the reload");
    assert.deepEqual(await get(old, "/hello"), ["2.05", "Hello from coaps-edge"]);
    assert.deepEqual(await get(old, "/whoami"), ["2.05", "x509 dev-old"], "forwarded with the reloaded gateway key");

    // A new handshake gets the new certificate and is checked against the new CA.
    const fresh = await connect("new", "dev-new", "new");
    assert.equal(fresh.client.sessionInfo()?.identity.identity, "gw-new");
    assert.deepEqual(await get(fresh, "/whoami"), ["2.05", "x509 dev-new"]);
    await assert.rejects(connect("new", "dev-new", "old"), (e: unknown) => e instanceof DtlsError, "a client trusting only the old CA rejects the new chain");
    await assert.rejects(connect("old", "dev-old", "old"), (e: unknown) => e instanceof DtlsError, "a device of the old CA can no longer handshake");

    // Independent peers: openssl verifies the chain against the new CA and prints its subject,
    // over DTLS and over coaps+tcp (TLS takes the same credentials and reloads with them).
    for (const proto of ["dtls", "tls"] as const) {
      const out = await sClient(s_client, proto, "new");
      assert.match(out, /subject=.*CN ?= ?gw-new/, `${proto}: ${out}`);
      assert.match(out, /Verify return code: 0 \(ok\)/, `${proto}: ${out}`);
    }
    const libcoap = (ca: string) =>
      run(coapClient, ["-B", "5", "-c", path("new", "dev-new.crt"), "-j", path("new", "dev-new.key"), "-C", path(ca, "ca.crt"), `coaps://127.0.0.1:${server.port}/hello`], { timeoutMs: 20_000 });
    assert.equal((await libcoap("new")).stdout.toString(), "Hello from coaps-edge\n");
    const wrongCa = await libcoap("old");
    assert.doesNotMatch(wrongCa.stdout.toString(), /Hello/, "libcoap trusting only the old CA must not connect");
    assert.deepEqual(old.closed, [], "nothing above closed the established session");
  });
});
