/**
 * What a CoapServer forgets when a DTLS session ends: the session's dedup entries (RFC 7252
 * §9.1.1: a message is only ever the same as one of the same session and epoch) and its
 * observers, while duplicates within a live session are still answered from the cache (§4.5).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MessageType, OptionNumber, decodeMessage, encodeMessage, stringOption, utf8Decode } from "@coaps-edge/shared";
import type { CloseReason } from "../../../edge-agent/src/dtls/index.js";
import { CoapServer } from "../../../edge-agent/src/server/index.js";
import { connect, fixture, KEY_A, pump, pumpUntil } from "../dtls/helpers.js";

const PORT = 40_321;

/** A CON GET /n with message ID 7, as a device that restarts its message IDs with each session sends it. */
const GET_N = encodeMessage({
  type: MessageType.CON,
  code: 1,
  messageId: 7,
  token: Uint8Array.of(1),
  options: [stringOption(OptionNumber.UriPath, "n")],
  payload: new Uint8Array(0),
});

test("a closed DTLS session's dedup entries go with it; its message ID in the next session is a new request", async () => {
  const f = fixture();
  const closed: CloseReason[] = [];
  f.server.onSessionClosed = (_peer, reason) => closed.push(reason); // set before attach: still called
  const coap = new CoapServer({ clock: f.clock });
  let runs = 0;
  coap.addResource("/n", { get: () => ({ code: "2.05", payload: String(++runs) }) });
  const layer = coap.attach(f.server);

  const session = async (): Promise<{ ask: () => Promise<string[]>; close: () => Promise<void> }> => {
    const { client, error } = await connect(f, { psk: { identity: "dev-a", key: KEY_A } }, f.net.endpoint(PORT));
    assert.ok(client, String(error));
    const answers: string[] = [];
    client.onDatagram = (d) => answers.push(utf8Decode(decodeMessage(d).payload));
    return {
      ask: async () => {
        client.send(f.server.local, GET_N);
        await pump(f.clock, 50);
        return answers;
      },
      close: () => client.close(),
    };
  };

  const first = await session();
  assert.deepEqual(await first.ask(), ["1"]);
  assert.deepEqual(await first.ask(), ["1", "1"], "a retransmission within the session is answered from the cache");
  assert.equal(runs, 1);
  assert.equal(layer.dedupStats.entries, 1);

  await first.close();
  await pumpUntil(f.clock, () => f.server.sessionCount === 0);
  assert.deepEqual(closed, ["peer_close_notify"]);
  assert.equal(layer.dedupStats.entries, 0, "dropped with the session, not kept for EXCHANGE_LIFETIME");

  const second = await session(); // the same address and port, a new session
  assert.deepEqual(await second.ask(), ["2"], "message ID 7 of a new session is a new request");
  assert.equal(runs, 2);
  assert.equal(layer.dedupStats.entries, 1);
  await second.close();
});
