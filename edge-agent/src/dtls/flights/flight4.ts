/**
 * Server flight 4: ServerHello, the key exchange's messages (PSK: ServerKeyExchange with the
 * hint, if configured; ECDHE_ECDSA: Certificate, ServerKeyExchange, CertificateRequest),
 * ServerHelloDone. Expects the client's flight 5: the key exchange's messages (PSK:
 * ClientKeyExchange; ECDHE_ECDSA: Certificate, ClientKeyExchange, CertificateVerify), then
 * ChangeCipherSpec and Finished in epoch 1.
 */
import { DecodeError } from "../codec/bytes.js";
import { HandshakeType, ProtocolVersion } from "../constants.js";
import { constantTimeEqual } from "../crypto/index.js";
import { DtlsError } from "../errors.js";
import { EMPTY_RENEGOTIATION_INFO, EXTENDED_MASTER_SECRET, type Extension } from "../handshake/messages/extensions.js";
import { decodeFinished } from "../handshake/messages/finished.js";
import { encodeServerHello } from "../handshake/messages/server-hello.js";
import { NO_BYTES } from "./context.js";
import type { ExpectedMessage, Flight } from "./types.js";

const FINISHED: ExpectedMessage = Object.freeze({ type: HandshakeType.finished, epoch: 1 });

/**
 * The key exchange's list (one of its constants) with the client's Finished appended: made once
 * per list, not each time the handshaker asks (once per message received).
 */
const withFinished = new WeakMap<readonly ExpectedMessage[], readonly ExpectedMessage[]>();

export const flight4: Flight = {
  name: "flight4",
  generate(ctx) {
    ctx.serverRandom = ctx.config.random(32);
    // Answer only the extensions we implement (and only if offered).
    const extensions: Extension[] = [];
    if (ctx.secureRenegotiation) extensions.push(EMPTY_RENEGOTIATION_INFO);
    if (ctx.extendedMasterSecret) extensions.push(EXTENDED_MASTER_SECRET);
    extensions.push(...(ctx.kx!.serverHelloExtensions?.(ctx) ?? []));
    ctx.emit(
      HandshakeType.server_hello,
      encodeServerHello({
        version: ProtocolVersion.DTLS1_2,
        random: ctx.serverRandom,
        sessionId: NO_BYTES, // no session cache: sessions are not resumable
        cipherSuite: ctx.suite!.id,
        compressionMethod: 0,
        extensions,
      }),
    );
    ctx.kx!.serverFlight(ctx);
    ctx.emit(HandshakeType.server_hello_done, NO_BYTES);
  },
  expect(ctx) {
    const fromKx = ctx.kx!.expectFromClient(ctx);
    let list = withFinished.get(fromKx);
    if (!list) withFinished.set(fromKx, (list = Object.freeze([...fromKx, FINISHED])));
    return list;
  },
  handle(ctx, msg) {
    try {
      if (msg.type !== HandshakeType.finished) {
        ctx.kx!.handleClientMessage(ctx, msg);
        if (msg.type === HandshakeType.client_key_exchange) ctx.deriveKeys();
        return;
      }
      const received = decodeFinished(msg.body);
      if (!constantTimeEqual(received, ctx.verifyData("client", ctx.transcript.length - 1))) {
        throw DtlsError.fatal("decrypt_error", "client Finished does not verify");
      }
    } catch (err) {
      if (err instanceof DecodeError) throw DtlsError.fatal("decode_error", err.message, err);
      throw err;
    }
  },
  next: () => "flight6",
};
