/**
 * The agent's listeners besides UDP and DTLS, built from the config (as libcoap's coap-server
 * opens them next to its UDP/DTLS ones): CoAP over TCP on `tcp.port` (default listen.port), TLS
 * on `tls.port` (default coaps.port = listen.port + 1) when `coaps` has credentials, WebSockets
 * (`ws`, `wss`) on their configured ports, and a Unix-domain socket (`unix`, stream or datagram).
 *
 * TLS and WSS take the credentials the DTLS listener takes (dtls-listener.ts): the PSK table
 * and defaultPsk with the same lookup order, and `coaps.pki` with the same validation policy.
 * A TLS peer so reaches handlers with the same identity a DTLS one would: kind "psk" with the
 * identity, or "x509" with the subject CN. With `listen.interface`, tcp and tls bind the
 * interface's addresses unless they have an address of their own (see bindEach).
 */
import type { AgentConfig } from "@coaps-edge/shared";
import { AgentError } from "./agent.js";
import { pskCredentials, serverPki } from "./dtls-listener.js";
import type { CoapServer } from "./server/server.js";
import type { StreamListener } from "./transport/stream-socket.js";
import { interfaceAddresses, interfaceExists } from "./transport/interfaces.js";
import { listenTcp } from "./transport/tcp.js";
import { listenTls, type TlsListenOptions } from "./transport/tls.js";
import type { DatagramEndpoint } from "./transport/types.js";
import { listenUnix } from "./transport/unix.js";
import { UnixDgramEndpoint } from "./transport/unix-dgram.js";
import { listenWs } from "./transport/ws.js";
import type { Clock } from "./util/clock.js";

/** TLS server credentials from `config.coaps` (PSK and/or certificates), or undefined without any. */
export function tlsCredentials(coaps: AgentConfig["coaps"]): Pick<TlsListenOptions, "psk" | "certificate" | "trust" | "policy"> | undefined {
  const psk = pskCredentials(coaps);
  const pki = serverPki(coaps.pki);
  if (!psk && !pki) return undefined;
  const credentials = pki && (typeof pki.credentials === "function" ? pki.credentials(undefined) : pki.credentials);
  const verify = pki?.verifyPeer === true;
  return {
    ...(psk ? { psk } : {}),
    ...(credentials ? { certificate: credentials } : {}),
    // Only a verifying listener asks for client certificates (node's requestCert follows `trust`).
    ...(verify && pki?.trust ? { trust: pki.trust } : {}),
    ...(pki ? { policy: { ...pki.policy, verifyPeerCert: verify, purpose: "client" as const } } : {}),
  };
}

/** What `startStreamListeners` opened; the agent closes them. */
export interface ExtraListeners {
  readonly streams: StreamListener[];
  /** The Unix datagram socket (`unix.datagram`), served by the UDP message layer. */
  readonly datagram?: DatagramEndpoint;
}

async function bind<T>(what: string, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (e) {
    if (e instanceof AgentError) throw e;
    throw new AgentError("bind-failed", `cannot bind ${what}: ${(e as Error).message}`);
  }
}

/**
 * Where a TCP-based listener binds: its own address, or — with `listen.interface` and no address
 * of its own — each address of that interface (IPv6, link-local ones with their scope; IPv4 with
 * `listen.ipv4`), as the coap:// UDP listener does, all on one port (the first bind picks it
 * when the port is 0). `own` is false when the section's address is only the default.
 */
async function bindEach(
  config: AgentConfig,
  own: boolean,
  address: string,
  port: number,
  url: (address: string, port: number) => string,
  open: (address: string, port: number) => Promise<StreamListener>,
): Promise<StreamListener[]> {
  const ifname = config.listen.interface;
  if (own || ifname === undefined) return [await bind(url(address, port), () => open(address, port))];
  const addrs = interfaceAddresses(ifname, { ipv4: config.listen.ipv4 === true });
  if (addrs.length === 0) throw new AgentError("bind-failed", interfaceExists(ifname) ? `interface ${ifname} has no usable address` : `interface ${ifname} not found`);
  const out: StreamListener[] = [];
  let bound = port;
  try {
    for (const a of addrs) {
      const host = a.family === "IPv6" ? `[${a.address}]` : a.address;
      const l = await bind(`${url(host, bound)} on ${ifname}`, () => open(a.address, bound));
      bound = l.local.port;
      out.push(l);
    }
  } catch (e) {
    await Promise.all(out.map((l) => l.close()));
    throw e;
  }
  return out;
}

/**
 * Opens the tcp / tls / ws / wss / unix listeners `config` enables, each serving `server`.
 * On a failure the ones already open are closed and an AgentError is thrown.
 */
export async function startStreamListeners(config: AgentConfig, server: CoapServer, clock?: Clock): Promise<ExtraListeners> {
  const streams: StreamListener[] = [];
  let datagram: DatagramEndpoint | undefined;
  const common = clock ? { clock } : {};
  try {
    const { tcp, tls, ws, wss, unix } = config;
    // Without an address of their own both default to listen.address (the schema's fallback):
    // on an interface they then bind the interface's addresses instead (bindEach).
    if (tcp.enabled) {
      const own = tcp.address !== config.listen.address;
      streams.push(
        ...(await bindEach(config, own, tcp.address, tcp.port, (a, p) => `coap+tcp://${a}:${p}`, (address, port) =>
          listenTcp({ ...common, address, port, maxConnections: tcp.maxConnections }, server),
        )),
      );
    }
    const credentials = tls.enabled || wss?.enabled ? tlsCredentials(config.coaps) : undefined;
    if (tls.enabled && credentials) {
      const own = tls.address !== config.listen.address;
      streams.push(
        ...(await bindEach(config, own, tls.address, tls.port, (a, p) => `coaps+tcp://${a}:${p}`, (address, port) =>
          listenTls({ ...common, ...credentials, address, port, maxConnections: tls.maxConnections }, server),
        )),
      );
    }
    if (ws?.enabled) {
      const address = ws.address ?? config.listen.address;
      streams.push(await bind(`coap+ws://${address}:${ws.port}`, () => listenWs({ ...common, address, port: ws.port, maxConnections: ws.maxConnections }, server)));
    }
    if (wss?.enabled) {
      if (!credentials) throw new AgentError("config-invalid", "wss needs coaps credentials (coaps.psk, coaps.defaultPsk or coaps.pki)");
      const address = wss.address ?? config.listen.address;
      streams.push(
        await bind(`coaps+ws://${address}:${wss.port}`, () =>
          listenWs({ ...common, ...credentials, secure: true, address, port: wss.port, maxConnections: wss.maxConnections }, server),
        ),
      );
    }
    if (unix?.enabled) {
      if (unix.datagram) datagram = await bind(`unix datagram ${unix.path}`, () => UnixDgramEndpoint.bind({ path: unix.path, mtu: config.listen.mtu }));
      else streams.push(await bind(`unix ${unix.path}`, () => listenUnix({ ...common, path: unix.path }, server)));
    }
  } catch (e) {
    await Promise.all(streams.map((l) => l.close()));
    await datagram?.close();
    throw e;
  }
  return { streams, ...(datagram ? { datagram } : {}) };
}
