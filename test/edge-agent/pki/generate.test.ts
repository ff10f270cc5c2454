import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  PkiError,
  generateTestPki,
  loadCredentials,
  loadTrustStore,
  validatePeerChain,
  writeTestPki,
} from "../../../edge-agent/src/pki/index.js";
import { haveOpenssl, openssl } from "../../helpers/pki.js";

const base = mkdtempSync(join(tmpdir(), "coaps-pki-gen-"));
after(() => rmSync(base, { recursive: true, force: true }));
const hasOpenssl = haveOpenssl();
const skip = hasOpenssl ? false : "openssl CLI not installed";

describe("generateTestPki + writeTestPki", () => {
  const pki = generateTestPki({ intermediate: true, devices: 2 });
  const dir = join(base, "with-intermediate");
  const written = writeTestPki(pki, dir);
  const path = (name: string): string => join(dir, name);

  it("writes the files, keys 0600 and certificates 0644", () => {
    const names = written.files.map((f) => f.slice(dir.length + 1)).sort();
    assert.deepEqual(names, [
      "ca.crt",
      "ca.key",
      "device-001.crt",
      "device-001.key",
      "device-002.crt",
      "device-002.key",
      "intermediate.crt",
      "intermediate.key",
      "server.crt",
      "server.key",
    ]);
    for (const f of written.files) {
      assert.equal(statSync(f).mode & 0o777, f.endsWith(".key") ? 0o600 : 0o644, f);
    }
  });

  it("refuses to overwrite unless asked", () => {
    assert.throws(() => writeTestPki(pki, dir), (e: unknown) => e instanceof PkiError && e.code === "file-exists");
    assert.equal(writeTestPki(pki, dir, { overwrite: true }).files.length, 10);
  });

  it("node parses them; our loader and validator accept them", () => {
    const ca = new X509Certificate(pki.ca.cert.der);
    assert.equal(ca.ca, true);
    assert.ok(ca.checkIssued(ca));
    const server = loadCredentials({ path: path("server.crt") }, { path: path("server.key") });
    assert.equal(server.chain.length, 2); // leaf + intermediate
    assert.equal(server.leaf.commonName, "localhost");
    assert.deepEqual(server.leaf.dnsNames, ["localhost"]);
    assert.equal(server.chain[0]?.checkIP("::1"), "::1");
    const trust = loadTrustStore({ path: path("ca.crt") });
    const r = validatePeerChain(server.chainDer, trust, { host: "127.0.0.1", purpose: "server" });
    assert.ok(r.ok, r.ok ? "" : r.message);
    for (const cn of ["device-001", "device-002"]) {
      const d = loadCredentials({ path: path(`${cn}.crt`) }, { path: path(`${cn}.key`) });
      const v = validatePeerChain(d.chainDer, trust, { purpose: "client" });
      assert.ok(v.ok);
      assert.equal(v.cn, cn);
    }
  });

  it("openssl x509 shows the profile", { skip }, () => {
    const ca = openssl(["x509", "-in", path("ca.crt"), "-noout", "-text"]);
    assert.equal(ca.status, 0, ca.out);
    assert.match(ca.out, /CA:TRUE/);
    assert.match(ca.out, /Certificate Sign, CRL Sign/);
    assert.match(ca.out, /ecdsa-with-SHA256/);
    assert.match(ca.out, /NIST CURVE: P-256/);
    const inter = openssl(["x509", "-in", path("intermediate.crt"), "-noout", "-text"]);
    assert.match(inter.out, /CA:TRUE, pathlen:0/);
    const server = openssl(["x509", "-in", path("server.crt"), "-noout", "-text"]);
    assert.equal(server.status, 0, server.out);
    assert.match(server.out, /Subject: O = coaps-edge, CN = localhost/);
    assert.match(server.out, /CA:FALSE/);
    assert.match(server.out, /Digital Signature/);
    assert.match(server.out, /DNS:localhost, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1/);
    assert.match(server.out, /TLS Web Server Authentication, TLS Web Client Authentication/);
    const key = openssl(["ec", "-in", path("server.key"), "-noout", "-check"]);
    assert.match(key.out, /EC Key valid/);
  });

  it("openssl verify accepts the chains (strict X.509, TLS purposes)", { skip }, () => {
    for (const [file, purpose] of [
      ["server.crt", "sslserver"],
      ["device-001.crt", "sslclient"],
      ["device-002.crt", "sslclient"],
    ] as const) {
      const r = openssl(["verify", "-x509_strict", "-purpose", purpose, "-CAfile", path("ca.crt"), "-untrusted", path("intermediate.crt"), path(file)]);
      assert.equal(r.status, 0, r.out);
      assert.match(r.out, /: OK/);
    }
    // and without the intermediate the chain is incomplete
    const r = openssl(["verify", "-CAfile", path("ca.crt"), path("server.crt")]);
    assert.notEqual(r.status, 0);
  });
});

describe("generateTestPki options", () => {
  it("expired leaves: openssl and our validator both refuse them", { skip }, () => {
    const now = new Date();
    const pki = generateTestPki({
      now,
      notBefore: new Date(now.getTime() - 10 * 86_400_000),
      notAfter: new Date(now.getTime() - 86_400_000),
      devices: ["old-device"],
    });
    const dir = join(base, "expired");
    writeTestPki(pki, dir);
    const r = openssl(["verify", "-CAfile", join(dir, "ca.crt"), join(dir, "old-device.crt")]);
    assert.notEqual(r.status, 0);
    assert.match(r.out, /certificate has expired/);
    const v = validatePeerChain([pki.devices[0]?.cert.der as Uint8Array], loadTrustStore(pki.ca.cert.pem));
    assert.ok(!v.ok);
    assert.equal(v.code, "expired");
  });

  it("no intermediate: leaves are issued by the root; custom names", () => {
    const pki = generateTestPki({ server: { commonName: "gw.local", dnsNames: ["gw.local"], ipAddresses: ["fd00::1"] }, devices: ["sensor-a"] });
    assert.equal(pki.intermediate, undefined);
    assert.equal(pki.server?.cert.info.commonName, "gw.local");
    assert.equal(pki.server?.cert.info.x509.checkIP("fd00::1"), "fd00::1");
    assert.equal(pki.server?.chainPem, pki.server?.cert.pem);
    assert.equal(pki.devices[0]?.commonName, "sensor-a");
    assert.ok(validatePeerChain([pki.devices[0]?.cert.der as Uint8Array], loadTrustStore(pki.ca.cert.pem)).ok);
    assert.equal(generateTestPki({ server: false, devices: 3 }).devices.map((d) => d.commonName).join(), "device-001,device-002,device-003");
  });
});

/** A free UDP port on loopback (bind to 0, read, close). */
async function freeUdpPort(): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((resolve) => s.bind(0, "127.0.0.1", resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe("generated PKI in a real DTLS 1.2 handshake", () => {
  it("openssl s_server and s_client complete ECDHE-ECDSA-AES128-CCM8 with mutual auth", { skip, timeout: 20_000 }, async () => {
    const pki = generateTestPki({ intermediate: true });
    const dir = join(base, "dtls");
    writeTestPki(pki, dir);
    const f = (n: string): string => join(dir, n);
    const port = await freeUdpPort();
    const cipher = "ECDHE-ECDSA-AES128-CCM8:@SECLEVEL=0"; // OpenSSL 3 puts 8-byte-tag CCM below level 1
    const server = spawn("openssl", [
      "s_server", "-dtls1_2", "-accept", `127.0.0.1:${port}`, "-cipher", cipher,
      "-cert", f("server.crt"), "-cert_chain", f("intermediate.crt"), "-key", f("server.key"),
      "-CAfile", f("ca.crt"), "-Verify", "3", "-verify_return_error",
    ]);
    let serverOut = "";
    server.stdout.on("data", (d: Buffer) => (serverOut += d.toString()));
    server.stderr.on("data", (d: Buffer) => (serverOut += d.toString()));
    try {
      await waitFor(() => serverOut.includes("ACCEPT"), 5000);
      const client = spawn("openssl", [
        "s_client", "-dtls1_2", "-connect", `127.0.0.1:${port}`, "-cipher", cipher,
        "-CAfile", f("ca.crt"), "-verify_return_error", "-verify_hostname", "localhost",
        "-cert", f("device-001.crt"), "-cert_chain", f("intermediate.crt"), "-key", f("device-001.key"),
      ]);
      let clientOut = "";
      client.stdout.on("data", (d: Buffer) => (clientOut += d.toString()));
      client.stderr.on("data", (d: Buffer) => (clientOut += d.toString()));
      client.stdin.end(); // EOF after the handshake: s_client closes and exits
      const timer = setTimeout(() => client.kill(), 8000);
      await new Promise((resolve) => client.on("close", resolve));
      clearTimeout(timer);
      assert.match(clientOut, /Cipher is ECDHE-ECDSA-AES128-CCM8/, clientOut);
      assert.match(clientOut, /Verify return code: 0 \(ok\)/);
      await waitFor(() => serverOut.includes("CN = device-001"), 3000);
      assert.match(serverOut, /depth=0 O = coaps-edge, CN = device-001\s+verify return:1/);
    } finally {
      server.kill();
    }
  });
});

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out waiting for the peer");
    await new Promise((r) => setTimeout(r, 20));
  }
}
