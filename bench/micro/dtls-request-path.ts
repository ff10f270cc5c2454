/**
 * The server's whole DTLS-PSK request path in one process, without sockets (issue 7): a
 * TLS_PSK_WITH_AES_128_CCM_8 record carrying GET /hello (CON) → DtlsServer (split, session
 * lookup, replay window, decrypt) → MessageLayer → CoapServer (demo handler) → encode → seal →
 * the lower endpoint's send. What the bench's "psk" workloads cost above the socket, GC included.
 *
 * A real client (DtlsClient) does the handshake over a MemoryNetwork, then seals `count`
 * requests up front (each record needs its own sequence number, so they cannot be replayed);
 * only the server's handling of them is timed, as process CPU time.
 * Run alone: node --import tsx bench/micro/dtls-request-path.ts [count]
 */
import { helloGet } from "./hello-get.js";
import { CipherSuiteId, DtlsClient, DtlsServer, pskTable } from "../../edge-agent/src/dtls/index.js";
import { registerDemoResources } from "../../edge-agent/src/server/demo-resources.js";
import { CoapServer } from "../../edge-agent/src/server/server.js";
import { MemoryNetwork } from "../../edge-agent/src/transport/memory.js";
import { ANONYMOUS, type DatagramEndpoint, type DatagramHandler, type PeerAddress } from "../../edge-agent/src/transport/types.js";
import { FakeClock } from "../../edge-agent/src/util/clock.js";

/** Passes datagrams through to `inner` until `capture` is set; then keeps what is sent instead. */
class SwitchEndpoint implements DatagramEndpoint {
  onDatagram: DatagramHandler = () => {};
  capture = false;
  readonly captured: Uint8Array[] = [];
  sentWhileCapturing = 0;

  constructor(readonly inner: DatagramEndpoint) {
    inner.onDatagram = (data, from, id) => this.onDatagram(data, from, id);
  }
  get scheme() {
    return this.inner.scheme;
  }
  get local() {
    return this.inner.local;
  }
  send(peer: PeerAddress, data: Uint8Array): void {
    if (!this.capture) return this.inner.send(peer, data);
    this.sentWhileCapturing++;
    if (this.captured.length < 1) this.captured.push(data);
  }
  maxMessageSize(peer: PeerAddress): number {
    return this.inner.maxMessageSize(peer);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

const KEY = new TextEncoder().encode("secret-key-of-the-bench-device");

/** Server CPU µs per request over `count` requests (after a warm-up of the same size). */
export async function dtlsRequestPathUs(count: number): Promise<number> {
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock);
  const serverLower = new SwitchEndpoint(net.endpoint(5684));
  const server = new DtlsServer(serverLower, { clock, psk: pskTable([{ identity: "bench", key: KEY }], { hint: "CoAP" }) });
  const coap = new CoapServer({ clock });
  registerDemoResources(coap);
  coap.attach(server);

  const clientLower = new SwitchEndpoint(net.endpoint());
  let client: DtlsClient | undefined;
  let failure: unknown;
  DtlsClient.connect(clientLower, server.local, {
    clock,
    psk: { identity: "bench", key: KEY },
    cipherSuites: [CipherSuiteId.TLS_PSK_WITH_AES_128_CCM_8],
  }).then(
    (c) => void (client = c),
    (e: unknown) => void (failure = e),
  );
  for (let i = 0; i < 10_000 && !client && !failure; i++) {
    clock.advance(10);
    await new Promise<void>((r) => setImmediate(r));
  }
  if (!client) throw new Error(`bench handshake failed: ${String(failure)}`);

  // Client records: GET /hello, CON, one message ID each.
  const get = helloGet(0);
  const records: Uint8Array[] = [];
  const sealAll = (n: number): void => {
    records.length = 0;
    clientLower.capture = true;
    const sink = clientLower.captured;
    for (let i = 0; i < n; i++) {
      const mid = (records.length + i) & 0xffff;
      get[2] = mid >>> 8;
      get[3] = mid & 0xff;
      sink.length = 0;
      client!.send(server.local, get);
      records.push(sink[0]!);
    }
  };
  const from = clientLower.local;
  serverLower.capture = true;
  const run = (): number => {
    const before = serverLower.sentWhileCapturing;
    const c0 = process.cpuUsage();
    for (const r of records) serverLower.onDatagram(r, { address: from.address, port: from.port, family: from.family }, ANONYMOUS);
    const c = process.cpuUsage(c0);
    if (serverLower.sentWhileCapturing - before !== records.length) throw new Error("the server did not answer every request");
    return (c.user + c.system) / records.length;
  };
  sealAll(count);
  run(); // warm-up
  const rounds: number[] = [];
  for (let i = 0; i < 3; i++) {
    sealAll(count);
    rounds.push(run());
  }
  await client.close();
  await server.close();
  rounds.sort((a, b) => a - b);
  return rounds[1]!;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const us = await dtlsRequestPathUs(Number(process.argv[2] ?? 100_000));
  console.log(`| dtls | GET /hello over DTLS-PSK CCM_8, server side | ${us.toFixed(2)} CPU µs/op | record → DtlsServer → CoAP → seal, no socket |`);
}
