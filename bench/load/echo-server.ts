/**
 * The generator's yardstick: a raw responder that turns each datagram into a piggybacked 2.05
 * by rewriting the header bytes (RFC 7252 §3) — no CoAP parsing, no state. The generator's rate
 * against it is what the generator can push, so the responder must cost as little as possible:
 * it runs on the native batched UDP engine when the addon is built (≈3 µs per echo; a node:dgram
 * responder costs ≈11–16 µs and tops out near 88k/s here, below what the generator can send),
 * whatever COAPS_EDGE_UDP says, else on node:dgram.
 * Run: node --import tsx bench/load/echo-server.ts PORT   (prints "listening PORT ENGINE")
 */
import { DgramUdpSocket } from "../../edge-agent/src/transport/udp-dgram.js";
import { NativeUdpSocket } from "../../edge-agent/src/transport/udp-native.js";
import type { UdpBindOptions, UdpSocket } from "../../edge-agent/src/transport/udp-socket.js";
import { genNativeUdp } from "./gen-udp.js";

const PAYLOAD = Buffer.from("\xffHello from coaps-edge", "latin1"); // same size as the agent's /hello answer
/** Room for the largest token (8 bytes): one reply buffer, since both engines copy on send. */
const reply = Buffer.alloc(4 + 8 + PAYLOAD.length);

const options: UdpBindOptions = { address: "127.0.0.1", port: Number(process.argv[2] ?? 0), recvBufferSize: 1 << 20 };
const socket: UdpSocket = genNativeUdp ? await NativeUdpSocket.bind(genNativeUdp, options) : await DgramUdpSocket.bind(options);
socket.onDatagram = (msg, peer) => {
  if (msg.length < 4) return;
  const tkl = Math.min(msg[0]! & 0x0f, 8);
  reply[0] = 0x60 | tkl; // Ver 1, ACK
  reply[1] = 0x45; // 2.05 Content
  reply[2] = msg[2]!;
  reply[3] = msg[3]!;
  reply.set(msg.subarray(4, 4 + tkl), 4);
  PAYLOAD.copy(reply, 4 + tkl);
  socket.send(peer, reply.subarray(0, 4 + tkl + PAYLOAD.length));
};
console.log(`listening ${socket.local.port} ${genNativeUdp ? "native" : "dgram"}`);
process.on("SIGTERM", () => void socket.close());
