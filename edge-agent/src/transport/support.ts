/**
 * libcoap's coap_*_is_supported checks, answered from what this build can actually do.
 * Every transport here is Node built-ins or a dependency that is present or not: nothing is
 * claimed that a call would then fail to deliver.
 */
import { getCiphers } from "node:crypto";
import { createRequire } from "node:module";
import { unixDgramModule } from "./unix-dgram.js";

const require = createRequire(import.meta.url);

function resolvable(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

/** TLS with the cipher suites we use: node:tls over OpenSSL. */
function openSslTls(): boolean {
  try {
    return typeof require("node:tls").connect === "function";
  } catch {
    return false;
  }
}

/** CoAP over TCP (node:net). */
export function tcpIsSupported(): boolean {
  return true;
}

/** CoAP over TLS (node:tls; PSK for TLS 1.2, certificates always). */
export function tlsIsSupported(): boolean {
  return openSslTls();
}

/** CoAP over DTLS 1.2: our own record layer needs AES-128-CCM from node:crypto. */
export function dtlsIsSupported(): boolean {
  return getCiphers().includes("aes-128-ccm");
}

/** CoAP over WebSockets: the `ws` package is installed. */
export function wsIsSupported(): boolean {
  return resolvable("ws");
}

/** CoAP over secure WebSockets: `ws` plus node:tls. */
export function wssIsSupported(): boolean {
  return wsIsSupported() && tlsIsSupported();
}

/** Unix-domain stream sockets (RFC 8323 framing): every platform but Windows (named pipes differ). */
export function unixStreamIsSupported(): boolean {
  return process.platform !== "win32";
}

/** Unix-domain datagram sockets: the optional unix-dgram module loaded. */
export function unixDgramIsSupported(): boolean {
  return unixDgramModule() !== undefined;
}

/** PSK over TLS: node exposes pskCallback (Node ≥ 12.15). */
export function tlsPskIsSupported(): boolean {
  return tlsIsSupported();
}

/** Everything at once (for `coaps-edge --version`-style reports). */
export function transportSupport(): Record<string, boolean> {
  return {
    udp: true,
    dtls: dtlsIsSupported(),
    tcp: tcpIsSupported(),
    tls: tlsIsSupported(),
    tlsPsk: tlsPskIsSupported(),
    ws: wsIsSupported(),
    wss: wssIsSupported(),
    unixStream: unixStreamIsSupported(),
    unixDgram: unixDgramIsSupported(),
  };
}
