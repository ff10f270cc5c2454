/**
 * CoAP over Unix-domain DATAGRAM sockets (libcoap's `coap://%2Fpath…` on AF_UNIX), as a
 * DatagramEndpoint: the UDP message layer (CON/ACK, retransmission, dedup) runs unchanged.
 *
 * Node has no AF_UNIX datagram sockets (node:dgram is udp4/udp6 only), so this uses the
 * `unix-dgram` native module (bnoordhuis/node-unix-dgram: N-API-free nan addon, released
 * 2025, builds here in ~2 s with node-gyp). It is an optional dependency: where it does not
 * build, `unixDgramIsSupported()` is false and the stream variant (transport/unix.ts) remains.
 *
 * A datagram client must have a path of its own for the server to answer to; as libcoap does,
 * each client session binds a fresh unique path and removes it on close.
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ANONYMOUS, type DatagramEndpoint, type DatagramHandler, type PeerAddress } from "./types.js";

/** The part of unix-dgram's API used here. */
interface UnixDgramSocket {
  on(event: "message", fn: (buf: Buffer, rinfo: { path?: string }) => void): void;
  on(event: "error", fn: (e: Error) => void): void;
  once(event: "listening" | "error", fn: (e?: Error) => void): void;
  bind(path: string): void;
  send(buf: Buffer, offset: number, length: number, path: string, cb?: (err?: Error) => void): void;
  close(): void;
}
interface UnixDgramModule {
  createSocket(type: "unix_dgram"): UnixDgramSocket;
}

let loaded: UnixDgramModule | null | undefined;

/** The unix-dgram module, or undefined when it is not installed or did not build. */
export function unixDgramModule(): UnixDgramModule | undefined {
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)("unix-dgram") as UnixDgramModule;
    } catch {
      loaded = null;
    }
  }
  return loaded ?? undefined;
}

/** A fresh path for a client session's socket (unique per session, as libcoap's). */
export function uniqueSocketPath(prefix = "coaps-edge"): string {
  return join(tmpdir(), `${prefix}-${process.pid}-${randomBytes(6).toString("hex")}.sock`);
}

export interface UnixDgramBindOptions {
  /** Where to bind; default a unique path in the temp directory (a client session). */
  readonly path?: string;
  /** Largest datagram (no IP/UDP headers on AF_UNIX); default 1152 as libcoap's MTU. */
  readonly mtu?: number;
}

export interface UnixDgramStats {
  received: number;
  sent: number;
  sendErrors: number;
}

export class UnixDgramEndpoint implements DatagramEndpoint {
  readonly scheme = "coap" as const;
  onDatagram: DatagramHandler = () => {};
  readonly stats: UnixDgramStats = { received: 0, sent: 0, sendErrors: 0 };
  #closed = false;

  private constructor(
    private readonly socket: UnixDgramSocket,
    readonly local: PeerAddress,
    private readonly mtu: number,
  ) {
    socket.on("message", (buf, rinfo) => {
      this.stats.received++;
      // An unbound sender has no path and cannot be answered; its datagrams are still handed up.
      this.onDatagram(buf, { address: rinfo.path ?? "", port: 0, family: "Unix" }, ANONYMOUS);
    });
    socket.on("error", () => void this.stats.sendErrors++);
  }

  /** Binds a datagram socket at `path` (a stale file there is replaced). Throws when unix-dgram is unavailable. */
  static async bind(options: UnixDgramBindOptions = {}): Promise<UnixDgramEndpoint> {
    const mod = unixDgramModule();
    if (!mod) throw new Error("Unix datagram sockets need the optional unix-dgram module, which is not available");
    const path = options.path ?? uniqueSocketPath();
    rmSync(path, { force: true });
    const socket = mod.createSocket("unix_dgram");
    await new Promise<void>((resolve, reject) => {
      socket.once("error", (e) => reject(e ?? new Error("bind failed")));
      socket.once("listening", () => resolve());
      socket.bind(path);
    });
    return new UnixDgramEndpoint(socket, { address: path, port: 0, family: "Unix" }, options.mtu ?? 1152);
  }

  send(peer: PeerAddress, data: Uint8Array): void {
    if (this.#closed || peer.address === "") return;
    this.stats.sent++;
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.socket.send(buf, 0, buf.length, peer.address, (err) => {
      if (err) this.stats.sendErrors++;
    });
  }

  maxMessageSize(): number {
    return this.mtu;
  }

  /** Closes the socket and removes its path. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.socket.close();
    rmSync(this.local.address, { force: true });
  }
}
