/**
 * libcoap's "CoAP Client Non-Encrypted Setup" (man coap_endpoint_client, EXAMPLES) in
 * TypeScript: a context with block mode USE_LIBCOAP | SINGLE_BODY, and a UDP session to
 * ip:5683. libcoap returns NULL on failure; here the promise rejects (after freeing the context).
 *
 *   node --import tsx examples/client-plain.ts 127.0.0.1 [port=5683] [path=/]
 */
import {
  COAP_BLOCK_SINGLE_BODY,
  COAP_BLOCK_USE_LIBCOAP,
  CoapContext,
  newClientSession,
  type CoapSession,
} from "@coaps-edge/edge-agent";
import { runIfMain } from "./run-main.js";

export async function setupClientSession(ipAddress: string, port = 5683): Promise<CoapSession> {
  const context = new CoapContext(); // coap_new_context(NULL)
  context.setBlockMode(COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  try {
    return await newClientSession(context, { server: { address: ipAddress, port }, proto: "udp" }).connected();
  } catch (e) {
    await context.free();
    throw e;
  }
  // The context is in session.context.
}

runIfMain(import.meta, async ([ip = "127.0.0.1", port = "5683", path = "/"]) => {
  const session = await setupClientSession(ip, Number(port));
  const response = await session.request({ path });
  console.log(`${response.codeText} ${Buffer.from(response.payload).toString("utf8")}`);
  await session.release();
  await session.context.free();
});
