/**
 * libcoap's "CoAP Client PSK Setup" in TypeScript: coap_new_client_session_psk2 with identity
 * and key, an identity-hint callback (here it logs the hint and keeps the given credentials),
 * and the client SNI taken from the URI (default "localhost").
 *
 *   node --import tsx examples/client-psk.ts 127.0.0.1 5684 IDENTITY KEY [path=/] [sni]
 */
import {
  COAP_BLOCK_SINGLE_BODY,
  COAP_BLOCK_USE_LIBCOAP,
  CoapContext,
  newClientSessionPsk,
  type CoapDtlsCpsk,
  type CoapDtlsCpskInfo,
  type CoapSession,
} from "@coaps-edge/edge-agent";
import { runIfMain } from "./run-main.js";

export async function setupClientSessionPsk(
  uri: string | undefined,
  ipAddress: string,
  identity: string | Uint8Array,
  key: string | Uint8Array,
  port = 5684,
): Promise<CoapSession> {
  const context = new CoapContext();
  context.setBlockMode(COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  const pskInfo: CoapDtlsCpskInfo = { identity, key };
  const dtlsPsk: CoapDtlsCpsk = {
    ...pskInfo,
    // validate_ih_call_back: just use the defined information for now.
    validateIdentityHint: (hint) => {
      console.error(`Identity Hint '${hint}' provided`);
      return pskInfo;
    },
    clientSni: uri ?? "localhost",
  };
  try {
    return await newClientSessionPsk(context, { server: { address: ipAddress, port }, proto: "dtls" }, dtlsPsk).connected();
  } catch (e) {
    await context.free();
    throw e;
  }
}

runIfMain(import.meta, async ([ip = "127.0.0.1", port = "5684", identity, key, path = "/", sni]) => {
  if (!identity || !key) throw new Error("usage: client-psk.ts IP PORT IDENTITY KEY [PATH] [SNI]");
  const session = await setupClientSessionPsk(sni, ip, identity, key, Number(port));
  const response = await session.request({ path });
  console.log(`${response.codeText} ${Buffer.from(response.payload).toString("utf8")}`);
  await session.release();
  await session.context.free();
});
