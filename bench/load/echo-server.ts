/**
 * The ceiling for one Node event loop: a raw node:dgram responder that turns each datagram into
 * a piggybacked 2.05 by rewriting the header bytes in place — no CoAP parsing, no state. The
 * generator's rate against it is what the generator can push through one loopback UDP path;
 * the issue measured such a responder at ~88k req/s here.
 * Run: node --import tsx bench/load/echo-server.ts PORT   (prints "listening PORT")
 */
import dgram from "node:dgram";

const port = Number(process.argv[2] ?? 0);
const PAYLOAD = Buffer.from("\xffHello from coaps-edge", "latin1"); // same size as the agent's /hello answer
const socket = dgram.createSocket("udp4");
socket.on("message", (msg, rinfo) => {
  if (msg.length < 4) return;
  const tkl = msg[0]! & 0x0f;
  const out = Buffer.allocUnsafe(4 + tkl + PAYLOAD.length);
  out[0] = 0x60 | tkl; // Ver 1, ACK
  out[1] = 0x45; // 2.05 Content
  out[2] = msg[2]!;
  out[3] = msg[3]!;
  msg.copy(out, 4, 4, 4 + tkl);
  PAYLOAD.copy(out, 4 + tkl);
  socket.send(out, rinfo.port, rinfo.address);
});
socket.bind(port, "127.0.0.1", () => console.log(`listening ${socket.address().port}`));
process.on("SIGTERM", () => socket.close());
