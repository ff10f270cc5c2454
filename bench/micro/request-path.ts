/**
 * The whole CoAP request path in one process, without sockets (issue 7): a GET /hello CON
 * datagram from one of 10 peers → MessageLayer (decode, dedup) → CoapServer (route, demo
 * handler, render) → encode → the endpoint's send. A fresh peer object per datagram, as
 * node:dgram's rinfo is. What the bench's "plain" workload costs above the socket, GC included.
 * Run alone: node --import tsx bench/micro/request-path.ts [seconds-per-case]
 */
import { encodeMessage, type CoapMessage } from "@coaps-edge/shared";
import { helloGetMessage } from "./hello-get.js";
import { CoapServer } from "../../edge-agent/src/server/server.js";
import { registerDemoResources } from "../../edge-agent/src/server/demo-resources.js";
import { ANONYMOUS, type DatagramEndpoint, type DatagramHandler, type PeerAddress } from "../../edge-agent/src/transport/types.js";
import { microTable, runCases, type MicroCase } from "./measure.js";

/** Counts what the server sends; delivers nothing. */
class SinkEndpoint implements DatagramEndpoint {
  readonly scheme = "coap" as const;
  readonly local: PeerAddress = { address: "127.0.0.1", port: 5683, family: "IPv4" };
  onDatagram: DatagramHandler = () => {};
  sent = 0;
  lastLength = 0;
  send(_peer: PeerAddress, data: Uint8Array): void {
    this.sent++;
    this.lastLength = data.length;
  }
  maxMessageSize(): number {
    return 1104;
  }
  async close(): Promise<void> {}
}

const ep = new SinkEndpoint();
const server = new CoapServer();
registerDemoResources(server);
server.attach(ep);

const template: CoapMessage = helloGetMessage(1);
const datagram = encodeMessage(template);
let mid = 0;

function oneRequest(): number {
  mid = (mid + 1) & 0xffff;
  datagram[2] = mid >>> 8;
  datagram[3] = mid & 0xff;
  const peer = { address: "127.0.0.1", port: 40000 + (mid % 10), family: "IPv4" } as const;
  ep.onDatagram(Buffer.from(datagram), peer, ANONYMOUS);
  return ep.sent;
}

oneRequest();
if (ep.lastLength === 0) throw new Error("no response");

export function requestPathCases(): MicroCase[] {
  return [{ group: "coap", name: "GET /hello request → response", fn: oneRequest, note: "message layer + server + demo handler, no socket" }];
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(microTable(runCases(requestPathCases(), Number(process.argv[2] ?? 2))));
