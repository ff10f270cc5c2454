/**
 * Interop: our client over DTLS (CoapClient + DtlsClient, and the `coaps-edge` CLI with
 * coap-client's -u/-k/-h flags) → libcoap's coap-server-openssl and coap-server-gnutls with a
 * PSK (`-k KEY`, default identity hint "CoAP"; DTLS on port + 1). GET `/` and `/time`.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code } from "@coaps-edge/shared";
import { CoapClient } from "../../edge-agent/src/client/index.js";
import { dtlsEndpointFactory } from "../../edge-agent/src/dtls-connector.js";
import type { SessionInfo } from "../../edge-agent/src/dtls/index.js";
import { findBinary, type LibcoapBinary, requireBinary, run, type RunningProcess, startLibcoapServer } from "../helpers/libcoap.js";
import { CLI_BIN, cliInProcess, cliProcess } from "../helpers/cli.js";

const CLI = CLI_BIN;
const KEY = "libcoap-server-psk";
const enc = new TextEncoder();
const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");

const cli = cliInProcess;
/** libcoap's /time: "Nov 22 03:45:34" (strftime "%b %d %H:%M:%S"). */
const TIME = /^[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}$/;
const SERVERS: readonly LibcoapBinary[] = ["coap-server-openssl", "coap-server-gnutls"];

// Both servers, and the cases against each, run concurrently: the CLI cases spend ~1 s starting node.
describe("coaps:// client interop", { concurrency: true }, () => {
  for (const name of SERVERS) {
    describe(`our client (coaps://, PSK) → ${name}`, { concurrency: true }, () => {
      let server: RunningProcess | undefined;
      let base = "";
      let dir = "";

      before(async () => {
        if (!findBinary(name)) return; // each test skips (or fails in CI) through requireBinary
        const { proc: started, port } = await startLibcoapServer(name, ["-k", KEY, "-v", "4"]);
        server = started;
        base = `coaps://127.0.0.1:${port + 1}`;
        dir = await mkdtemp(join(tmpdir(), "coaps-client-"));
      });

      after(async () => {
        await server?.stop();
        if (dir) await rm(dir, { recursive: true, force: true });
      });

      it("CoapClient over DtlsClient: GET / and /time on one session, CCM_8 negotiated", async (t) => {
        if (!requireBinary(t, name)) return;
        const sessions: SessionInfo[] = [];
        const client = new CoapClient({
          endpointFactory: dtlsEndpointFactory({
            psk: { identity: "coaps-edge", key: enc.encode(KEY) },
            dtls: { handshakeTimeoutMs: 10_000 },
            onConnected: (c) => void sessions.push(c.sessionInfo()!),
          }),
        });
        try {
          const root = await client.get(`${base}/`, { timeoutMs: 10_000 });
          assert.equal(root.code, Code.Content);
          assert.match(text(root.payload), /This is a test server made with libcoap/);
          assert.equal(root.identity.kind, "psk");
          const time = await client.get(`${base}/time`, { timeoutMs: 10_000 });
          assert.equal(time.code, Code.Content);
          assert.match(text(time.payload), TIME);
          assert.equal(sessions.length, 1, "both requests on one DTLS session");
          const s = sessions[0]!;
          t.diagnostic(`${name}: ${s.cipherSuite.name} (0x${s.cipherSuite.id.toString(16)}), EMS ${s.extendedMasterSecret}, hint ${s.pskIdentityHint}`);
          assert.equal(s.cipherSuite.name, "TLS_PSK_WITH_AES_128_CCM_8");
          assert.equal(s.pskIdentityHint, "CoAP");
        } finally {
          await client.close();
        }
      });

      it("the CLI (a process, and in process) with -u/-k: GET / and /time; -v 5 prints the negotiated suite", async (t) => {
        if (!requireBinary(t, name)) return;
        const [root, time] = await Promise.all([
          cliProcess("get", `${base}/`, "-u", "cli", "-k", KEY, "-B", "10", "-v", "5"),
          cli("get", `${base}/time`, "-u", "cli", "-k", KEY, "-B", "10"),
        ]);
        assert.equal(root.code, 0, root.stderr.toString());
        assert.match(root.stdout.toString(), /This is a test server made with libcoap/);
        assert.match(root.stderr.toString(), /^DTLS 1\.2 TLS_PSK_WITH_AES_128_CCM_8 \(0xc0a8\) identity "cli" hint "CoAP"$/m);
        assert.equal(time.code, 0, time.stderr.toString());
        assert.match(time.stdout.toString(), TIME);
      });

      it("the CLI with -h FILE: the line for the server's hint supplies identity and key", async (t) => {
        if (!requireBinary(t, name)) return;
        const file = join(dir, "hints");
        await writeFile(file, `# hint,user,key\nother,nobody,wrong\nCoAP,by-hint,${KEY}\n`);
        const ok = await cli("get", `${base}/time`, "-h", file, "-B", "10", "-v", "5");
        assert.equal(ok.code, 0, ok.stderr.toString());
        assert.match(ok.stdout.toString(), TIME);
        assert.match(ok.stderr.toString(), /identity "by-hint" hint "CoAP"/);
        // No line for "CoAP" and no -u/-k to fall back on: the handshake cannot proceed.
        const none = join(dir, "no-match");
        await writeFile(none, "other,nobody,wrong\n");
        const failed = await cli("get", `${base}/time`, "-h", none, "-B", "3");
        assert.equal(failed.code, 6, failed.stderr.toString());
        assert.match(failed.stderr.toString(), /DTLS handshake failed: no PSK for identity hint "CoAP"/);
      });

      it("the CLI with a wrong key exits 6 (the server drops the bad Finished; no session)", async (t) => {
        if (!requireBinary(t, name)) return;
        const r = await cli("get", `${base}/time`, "-u", "cli", "-k", "wrong-key", "-B", "1");
        assert.equal(r.code, 6, r.stderr.toString());
        assert.match(r.stderr.toString(), /DTLS handshake failed/);
        assert.equal(r.stdout.length, 0);
      });
    });
  }
});
