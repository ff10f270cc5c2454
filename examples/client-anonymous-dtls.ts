/**
 * libcoap's "CoAP Client Anonymous PKI Setup" in TypeScript: coap_new_client_session with
 * COAP_PROTO_DTLS and no credentials. The session is encrypted (ECDHE) but the server is NOT
 * authenticated. (The seed connects to port 5683; a libcoap server runs DTLS on 5684.)
 *
 *   node --import tsx examples/client-anonymous-dtls.ts 127.0.0.1 [port=5684] [path=/]
 */
import {
  COAP_BLOCK_SINGLE_BODY,
  COAP_BLOCK_USE_LIBCOAP,
  CoapContext,
  newClientSession,
  type CoapSession,
} from "@coaps-edge/edge-agent";
import { runIfMain } from "./run-main.js";

export async function setupClientSessionDtls(ipAddress: string, port = 5684): Promise<CoapSession> {
  const context = new CoapContext();
  context.setBlockMode(COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  try {
    return await newClientSession(context, { server: { address: ipAddress, port }, proto: "dtls" }).connected();
  } catch (e) {
    await context.free();
    throw e;
  }
}

runIfMain(import.meta, async ([ip = "127.0.0.1", port = "5684", path = "/"]) => {
  const session = await setupClientSessionDtls(ip, Number(port));
  const response = await session.request({ path });
  console.log(`${response.codeText} ${Buffer.from(response.payload).toString("utf8")}`);
  console.log(`cipher suite ${session.dtlsSession?.cipherSuite.name ?? "?"}, server authenticated: ${session.dtlsSession?.identity.kind !== "none"}`);
  await session.release();
  await session.context.free();
});
