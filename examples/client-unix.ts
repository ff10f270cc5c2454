/**
 * libcoap's "CoAP Client Non-Encrypted Unix Domain Setup" in TypeScript: an AF_UNIX datagram
 * session to the server's socket path, from a uniquely named local path (/tmp/client.<pid>)
 * that is removed again when the session is released.
 *
 *   node --import tsx examples/client-unix.ts /path/to/server.sock [path=/]
 */
import { rmSync } from "node:fs";
import {
  COAP_BLOCK_SINGLE_BODY,
  COAP_BLOCK_USE_LIBCOAP,
  CoapContext,
  newClientSession,
  type CoapSession,
} from "@coaps-edge/edge-agent";
import { runIfMain } from "./run-main.js";

export async function setupClientSession(serverUd: string, localPath = `/tmp/client.${process.pid}`): Promise<CoapSession> {
  const context = new CoapContext();
  context.setBlockMode(COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  // Need to have a uniquely named local address. Only do this if you know it is safe to do so:
  rmSync(localPath, { force: true });
  try {
    return await newClientSession(context, { local: { path: localPath }, server: { path: serverUd }, proto: "udp" }).connected();
  } catch (e) {
    await context.free();
    throw e;
  }
}

runIfMain(import.meta, async ([serverUd, path = "/"]) => {
  if (!serverUd) throw new Error("usage: client-unix.ts SERVER_SOCKET_PATH [PATH]");
  const session = await setupClientSession(serverUd);
  const response = await session.request({ path });
  console.log(`${response.codeText} ${Buffer.from(response.payload).toString("utf8")}`);
  await session.release();
  await session.context.free();
});
