/**
 * coaps+tcp (RFC 8323 over TLS 1.2) and client certificates: a client that sends none is refused
 * in the handshake with a TLS alert (RFC 5246 §7.2.2: `openssl s_client` reads "handshake
 * failure", 40), not a bare close; one of another CA is refused and never reaches a handler
 * (node's verify callback accepts every chain during the handshake and checks it after, so
 * that case has no alert: see transport/tls.ts); a device of our CA gets in, and so does a PSK
 * client on the same listener (no certificate asked of it).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { loadCredentials, loadTrustStore } from "../../edge-agent/src/pki/index.js";
import { listenTls, type TlsListener } from "../../edge-agent/src/transport/tls.js";
import { run } from "../helpers/libcoap.js";
import { requireOpenssl } from "../helpers/openssl.js";
import { writeTempPki } from "../helpers/pki.js";

describe("TLS listener: refusing client certificates (alert when none is sent)", () => {
  const ours = writeTempPki({ caCommonName: "coaps-edge test CA", devices: ["dev-ok"] });
  const other = writeTempPki({ caCommonName: "some other CA", devices: ["dev-other"] });
  let listener: TlsListener | undefined;

  before(async () => {
    listener = await listenTls({
      port: 0,
      certificate: loadCredentials({ path: ours.file("server.crt") }, { path: ours.file("server.key") }),
      trust: loadTrustStore({ path: ours.file("ca.crt") }),
      policy: { verifyPeerCert: true, purpose: "client" },
      psk: { hint: "CoAP", lookup: (identity) => (identity === "psk-dev" ? new TextEncoder().encode("psk-secret") : undefined) },
    });
  });

  after(async () => {
    await listener?.close();
    ours.remove();
    other.remove();
  });

  async function sClient(bin: string, args: readonly string[]): Promise<string> {
    const r = await run(bin, ["s_client", "-tls1_2", "-connect", `127.0.0.1:${listener!.local.port}`, "-CAfile", ours.file("ca.crt"), ...args], { timeoutMs: 15_000 });
    return r.stdout.toString() + r.stderr.toString();
  }

  it("no certificate → alert handshake_failure; another CA's device → refused; our device and a PSK client → admitted", async (t) => {
    const bin = requireOpenssl(t);
    if (!bin) return;
    // Count the connections the listener hands to CoAP (serveStream → layer.addChannel).
    const layer = listener!.layer;
    const addChannel = layer.addChannel.bind(layer);
    let admitted = 0;
    layer.addChannel = (c) => {
      admitted++;
      return addChannel(c);
    };
    const none = await sClient(bin, []);
    assert.match(none, /alert handshake failure|alert number 40/, none);
    const foreign = await sClient(bin, ["-cert", other.file("dev-other.crt"), "-key", other.file("dev-other.key")]);
    assert.equal(admitted, 0, `nothing admitted so far:\n${foreign}`);

    const good = await sClient(bin, ["-cert", ours.file("dev-ok.crt"), "-key", ours.file("dev-ok.key")]);
    assert.match(good, /Verify return code: 0 \(ok\)/, good);
    assert.doesNotMatch(good, /SSL alert number/, good);
    assert.equal(admitted, 1, "our device is admitted");
    const psk = await sClient(bin, ["-psk_identity", "psk-dev", "-psk", Buffer.from("psk-secret").toString("hex"), "-cipher", "PSK-AES128-GCM-SHA256"]);
    assert.match(psk, /Cipher is PSK-AES128-GCM-SHA256/, psk);
    assert.doesNotMatch(psk, /SSL alert number/, psk);
    assert.equal(admitted, 2, "the PSK client is admitted");
  });
});
