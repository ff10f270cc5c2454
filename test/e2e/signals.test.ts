/**
 * Signals over the real CLI process (issue 8): `coaps-edge agent -i FILE` — SIGHUP with an
 * edited PSK file keeps an established session working (no new handshake), closes the session
 * of an identity removed from the file (close_notify), and admits a new identity; SIGTERM sends
 * close_notify to every DTLS peer and the process exits within 2 s.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CoapClient } from "../../edge-agent/src/client/index.js";
import { DtlsClient, DtlsError, type CloseReason } from "../../edge-agent/src/dtls/index.js";
import type { PeerAddress } from "../../edge-agent/src/transport/types.js";
import { UdpEndpoint } from "../../edge-agent/src/transport/udp.js";
import { freeUdpPortPair, start } from "../helpers/libcoap.js";
import { CLI } from "./agent-cases.js";

const enc = new TextEncoder();

async function until(done: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timeout: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function device(server: PeerAddress, identity: string, key: string): Promise<{ client: DtlsClient; closed: CloseReason[] }> {
  const udp = await UdpEndpoint.bind({ port: 0 });
  const client = await DtlsClient.connect(udp, server, { psk: { identity, key: enc.encode(key) }, handshakeTimeoutMs: 5000 }).catch(async (e: unknown) => {
    await udp.close();
    throw e;
  });
  const closed: CloseReason[] = [];
  client.onClose = (reason) => void closed.push(reason);
  return { client, closed };
}

/** A CoAP GET through an existing DTLS session (no new handshake). */
async function get(dtls: DtlsClient, path: string): Promise<number> {
  const coap = new CoapClient({ endpoint: dtls, timeoutMs: 5000 });
  try {
    return (await coap.get(`coaps://127.0.0.1:${dtls.server.port}${path}`)).code;
  } finally {
    await coap.close();
  }
}

test("SIGHUP reloads the PSK file without dropping sessions; SIGTERM sends close_notify and exits within 2 s", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "coaps-edge-signals-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const pskFile = join(dir, "psk.txt");
  await writeFile(pskFile, "CoAP,dev-a,key-a\nCoAP,dev-b,key-b\n");
  const port = await freeUdpPortPair();
  const agent = start(process.execPath, [CLI, "agent", "-p", String(port), "-i", pskFile, "--metrics-port", "0"]);
  t.after(() => agent.stop());
  await agent.waitForOutput(/listening on .*coaps:\/\/127\.0\.0\.1:\d+/, 30_000);
  await agent.waitForOutput(/metrics on http:\/\/127\.0\.0\.1:\d+\/metrics/);
  const metricsUrl = /metrics on (http:\/\/\S+)/.exec(agent.stderr())![1]!;
  const server: PeerAddress = { address: "127.0.0.1", port: port + 1, family: "IPv4" };

  const a = await device(server, "dev-a", "key-a");
  const b = await device(server, "dev-b", "key-b");
  assert.equal(await get(a.client, "/hello"), 0x45);
  assert.equal(await get(b.client, "/hello"), 0x45);
  assert.match(await (await fetch(metricsUrl)).text(), /^coaps_edge_dtls_sessions 2$/m);

  // dev-b removed, dev-c added; dev-a unchanged.
  await writeFile(pskFile, "CoAP,dev-a,key-a\nCoAP,dev-c,key-c\n");
  agent.child.kill("SIGHUP");
  await agent.waitForOutput(/credentials reloaded/);
  await until(() => b.closed.length > 0, 3000, "dev-b's session closed");
  assert.deepEqual(b.closed, ["peer_close_notify"]);
  assert.deepEqual(a.closed, [], "dev-a's session survives the reload");
  assert.equal(await get(a.client, "/hello"), 0x45, "dev-a keeps working on the same session");
  const c = await device(server, "dev-c", "key-c");
  assert.equal(await get(c.client, "/hello"), 0x45, "a new identity connects");
  await assert.rejects(device(server, "dev-b", "key-b"), (e: unknown) => e instanceof DtlsError, "a removed identity cannot connect");
  assert.match(await (await fetch(metricsUrl)).text(), /^coaps_edge_dtls_sessions 2$/m);

  const exited = new Promise<number>((resolve) => agent.child.once("exit", () => resolve(Date.now())));
  const sent = Date.now();
  agent.child.kill("SIGTERM");
  const exitAt = await exited;
  assert.ok(exitAt - sent < 2000, `exited after ${exitAt - sent} ms`);
  await until(() => a.closed.length > 0 && c.closed.length > 0, 1000, "close_notify at the peers");
  assert.deepEqual(a.closed, ["peer_close_notify"]);
  assert.deepEqual(c.closed, ["peer_close_notify"]);
  assert.equal(agent.child.exitCode, 0);
  await Promise.all([a.client.close(), b.client.close(), c.client.close()]);
});
