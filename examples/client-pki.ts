/**
 * libcoap's "CoAP Client PKI Setup" in TypeScript: a DTLS session with our certificate, key and
 * CA from PEM files, every coap_dtls_pki_t knob the seed sets, and a CN callback.
 *
 *   node --import tsx examples/client-pki.ts 127.0.0.1 5684 client.crt client.key ca.crt [path=/]
 */
import {
  COAP_BLOCK_SINGLE_BODY,
  COAP_BLOCK_USE_LIBCOAP,
  CoapContext,
  newClientSessionPki,
  type CoapDtlsPki,
  type CoapSession,
} from "@coaps-edge/edge-agent";
import { runIfMain } from "./run-main.js";

/** validate_cn_call_back: check that the CN is valid (here: log it and accept). */
function verifyCnCallback(cn: string, _asn1PublicCert: Uint8Array, depth: number, validated: boolean): boolean {
  console.error(`CN '${cn}' presented at depth ${depth}${validated ? "" : " (not fully validated)"}`);
  return true;
}

export async function setupClientSessionPki(
  ipAddress: string,
  publicCertFile: string,
  privateKeyFile: string,
  caFile: string,
  port = 5684,
): Promise<CoapSession> {
  const context = new CoapContext();
  context.setBlockMode(COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  const dtlsPki: CoapDtlsPki = {
    verifyPeerCert: true,
    checkCommonCa: true,
    allowSelfSigned: true,
    allowExpiredCerts: true,
    certChainValidation: true,
    certChainVerifyDepth: 1,
    checkCertRevocation: true,
    allowNoCrl: true,
    allowExpiredCrl: true,
    allowBadMdHash: false,
    allowShortRsaLength: false,
    isRpkNotCert: false, // RPK is not supported
    validateCn: verifyCnCallback,
    pkiKey: { keyType: "pem", caFile, publicCert: publicCertFile, privateKey: privateKeyFile },
  };
  try {
    return await newClientSessionPki(context, { server: { address: ipAddress, port }, proto: "dtls" }, dtlsPki).connected();
  } catch (e) {
    await context.free();
    throw e;
  }
}

runIfMain(import.meta, async ([ip = "127.0.0.1", port = "5684", cert, key, ca, path = "/"]) => {
  if (!cert || !key || !ca) throw new Error("usage: client-pki.ts IP PORT CERT KEY CA [PATH]");
  const session = await setupClientSessionPki(ip, cert, key, ca, Number(port));
  const response = await session.request({ path });
  console.log(`${response.codeText} ${Buffer.from(response.payload).toString("utf8")}`);
  await session.release();
  await session.context.free();
});
