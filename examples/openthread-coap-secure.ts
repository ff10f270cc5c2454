/**
 * OpenThread's CoAP Secure API (otCoapSecure*) in TypeScript: one agent serves a resource over
 * DTLS-PSK, a second connects to it, sends a confirmable request and prints the response —
 * the sequence an OpenThread application runs with otCoapSecureStart, otCoapSecureSetPsk,
 * otCoapSecureAddResource, otCoapSecureConnect and otCoapSecureSendRequest.
 *
 *   node --import tsx examples/openthread-coap-secure.ts
 */
import { CoapSecure, type CoapSecureConnectEvent } from "@coaps-edge/edge-agent";
import { runIfMain } from "./run-main.js";

export async function demo(): Promise<string> {
  const server = new CoapSecure({ address: "127.0.0.1" });
  server.setPsk("example-psk", "example-device");
  server.addResource({
    uriPath: "hello",
    handler: (request, info) => server.sendResponse({ code: "2.05", payload: `hello, ${request.identity.identity}` }, info),
  });
  await server.start(0); // 0: any free port (OpenThread's default is 5684)

  const client = new CoapSecure({ address: "127.0.0.1" });
  client.setPsk("example-psk", "example-device");
  await client.start(0);
  const event = await new Promise<CoapSecureConnectEvent>((resolve) =>
    client.connect({ address: "127.0.0.1", port: server.local?.port ?? 0 }, (e) => resolve(e)),
  );
  if (event !== "Connected") throw new Error(`connect failed: ${event}`);

  const reply = await new Promise<string>((resolve, reject) => {
    const messageId = client.sendRequest({ method: "GET", path: "hello" }, (response, _info, result) => {
      if (result !== "None" || !response) reject(new Error(`request failed: ${result}`));
      else resolve(`message ${messageId}: ${Buffer.from(response.payload).toString("utf8")}`);
    });
  });
  client.disconnect();
  await client.stop();
  await server.stop();
  return reply;
}

runIfMain(import.meta, async () => {
  console.log(await demo());
});
