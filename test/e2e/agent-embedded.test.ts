/**
 * e2e, embedded mode: `coaps-edge agent --config infra/demo/agent.json` (what `npm start` runs)
 * serves the cloud registry from the cloud app in process; libcoap's coap-client is the device.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code, MessageType, decodeMessage, type CoapMessage } from "@coaps-edge/shared";
import { CoapClient } from "../../edge-agent/src/client/index.js";
import { UdpEndpoint } from "../../edge-agent/src/transport/udp.js";
import type { DatagramEndpoint } from "../../edge-agent/src/transport/types.js";
import { DEMO_CONFIG, DTLS_PSK, PLAIN_COAP, libcoapCases, startAgent, type RunningAgent } from "./agent-cases.js";

/** A UDP endpoint that records every CoAP message it receives. */
async function recordingEndpoint(): Promise<{ endpoint: DatagramEndpoint; received: CoapMessage[] }> {
  const udp = await UdpEndpoint.bind({ address: "127.0.0.1", port: 0 });
  const received: CoapMessage[] = [];
  const endpoint: DatagramEndpoint = {
    scheme: "coap",
    get local() {
      return udp.local;
    },
    get onDatagram() {
      return udp.onDatagram;
    },
    set onDatagram(handler) {
      udp.onDatagram = (data, peer, identity) => {
        received.push(decodeMessage(data));
        handler(data, peer, identity);
      };
    },
    send: (peer, data) => udp.send(peer, data),
    maxMessageSize: () => udp.maxMessageSize(),
    close: () => udp.close(),
  };
  return { endpoint, received };
}

describe("agent with the embedded cloud (npm start) ← coap-client-notls", () => {
  let agent: RunningAgent | undefined;
  before(async () => {
    agent = await startAgent(["--config", DEMO_CONFIG], PLAIN_COAP);
  });
  after(async () => {
    await agent?.process.stop();
  });

  libcoapCases(PLAIN_COAP, () => agent!);

  it("a slow cloud answer, seen by our CoapClient: empty ACK, then a CON 2.05 it acknowledges", async () => {
    const { endpoint, received } = await recordingEndpoint();
    const client = new CoapClient({ endpoint });
    try {
      const res = await client.get(`${agent!.base}/slow?ms=1500`, { timeoutMs: 10_000 });
      assert.equal(res.code, Code.Content);
      assert.equal(Buffer.from(res.payload).toString(), "slept 1500 ms");
      assert.deepEqual(
        received.map((m) => [m.type, m.code]),
        [
          [MessageType.ACK, Code.Empty],
          [MessageType.CON, Code.Content],
        ],
      );
    } finally {
      await client.close();
      await endpoint.close(); // given, not bound, by the client: ours to close
    }
  });
});

describe("agent with the embedded cloud ← coap-client-openssl over DTLS-PSK", () => {
  let agent: RunningAgent | undefined;
  before(async () => {
    agent = await startAgent(["--config", DEMO_CONFIG], DTLS_PSK);
  });
  after(async () => {
    await agent?.process.stop();
  });

  libcoapCases(DTLS_PSK, () => agent!);
});
