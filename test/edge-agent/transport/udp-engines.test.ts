/**
 * UdpEndpoint's two engines (transport/udp-socket.ts) behave the same: node:dgram, and the native
 * batched socket (edge-agent/native/udp, recvmmsg/sendmmsg) whenever its addon loaded. Peers
 * are plain node:dgram sockets, so the address strings are checked against what node reports.
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { describe, test } from "node:test";
import type { PeerAddress } from "../../../edge-agent/src/transport/types.js";
import { nativeUdp } from "../../../edge-agent/src/transport/udp-native-addon.js";
import { DEFAULT_UDP_ENGINE, UDP_ENGINES, UdpEndpoint } from "../../../edge-agent/src/transport/udp.js";

interface Peer {
  readonly socket: dgram.Socket;
  readonly port: number;
  readonly received: Buffer[];
  waitFor(n: number): Promise<void>;
  send(data: Uint8Array, port: number, address: string): Promise<void>;
}

/** A node:dgram socket that records what it receives. */
async function peer(type: "udp4" | "udp6", address: string): Promise<Peer> {
  const socket = dgram.createSocket({ type, recvBufferSize: 4 * 1024 * 1024 });
  const received: Buffer[] = [];
  socket.on("message", (m) => received.push(m));
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  return {
    socket,
    port: socket.address().port,
    received,
    async waitFor(n) {
      const deadline = Date.now() + 3000;
      while (received.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    },
    send: (data, port, to) => new Promise<void>((resolve, reject) => socket.send(data, port, to, (e) => (e ? reject(e) : resolve()))),
  };
}

/** An endpoint that answers every datagram with the same bytes and remembers who sent it. */
async function echo(engine: (typeof UDP_ENGINES)[number], address: string, ipv6Only = false): Promise<{ ep: UdpEndpoint; peers: PeerAddress[] }> {
  const ep = await UdpEndpoint.bind({ address, engine, ipv6Only, recvBufferSize: 4 * 1024 * 1024 });
  const peers: PeerAddress[] = [];
  ep.onDatagram = (data, from) => {
    peers.push(from);
    ep.send(from, data);
  };
  return { ep, peers };
}

test("CI builds the native UDP engine (npm ci runs edge-agent's install script); elsewhere node:dgram may serve alone", () => {
  assert.ok(UDP_ENGINES.includes("dgram"));
  const forcedDgram = process.env["COAPS_EDGE_UDP"] === "dgram";
  if (process.env["CI"] === "true" && !forcedDgram) assert.ok(UDP_ENGINES.includes("native"), "edge-agent/native/udp did not build or load under npm ci");
  assert.equal(DEFAULT_UDP_ENGINE, forcedDgram || !nativeUdp ? "dgram" : "native");
  if (forcedDgram) assert.deepEqual(UDP_ENGINES, ["dgram"], "COAPS_EDGE_UDP=dgram keeps the addon out");
});

for (const engine of UDP_ENGINES) {
  describe(`UDP engine ${engine}`, () => {
    const cases = [
      { bind: "127.0.0.1", type: "udp4", from: "127.0.0.1", address: "127.0.0.1", family: "IPv4", local: "127.0.0.1" },
      { bind: "::1", type: "udp6", from: "::1", address: "::1", family: "IPv6", local: "::1" },
      { bind: "::", type: "udp4", from: "127.0.0.1", address: "::ffff:127.0.0.1", family: "IPv6", local: "::" },
      { bind: "::", type: "udp6", from: "::1", address: "::1", family: "IPv6", local: "::" },
    ] as const;
    for (const c of cases) {
      test(`bound to ${c.bind}, a ${c.type} peer is { address: "${c.address}", family: "${c.family}" } and the echo reaches it`, async () => {
        const { ep, peers } = await echo(engine, c.bind);
        const p = await peer(c.type, c.from);
        try {
          assert.equal(ep.engine, engine);
          assert.deepEqual({ address: ep.local.address, family: ep.local.family }, { address: c.local, family: c.local.includes(":") ? "IPv6" : "IPv4" });
          assert.ok(ep.local.port > 0, "port 0 resolves to the kernel's pick");
          await p.send(Uint8Array.of(1, 2, 3), ep.local.port, c.bind === "::" ? c.from : c.bind);
          await p.waitFor(1);
          assert.deepEqual(p.received.map((b) => [...b]), [[1, 2, 3]]);
          assert.deepEqual([peers[0]?.address, peers[0]?.family, peers[0]?.port], [c.address, c.family, p.port]);
          assert.deepEqual({ received: ep.stats.received, sent: ep.stats.sent, sendErrors: ep.stats.sendErrors }, { received: 1, sent: 1, sendErrors: 0 });
        } finally {
          p.socket.close();
          await ep.close();
        }
      });
    }

    test("IPV6_V6ONLY: a v6-only \"::\" socket does not hear IPv4 peers", async () => {
      const { ep, peers } = await echo(engine, "::", true);
      const p4 = await peer("udp4", "127.0.0.1");
      const p6 = await peer("udp6", "::1");
      try {
        await p4.send(Uint8Array.of(4), ep.local.port, "127.0.0.1");
        await p6.send(Uint8Array.of(6), ep.local.port, "::1");
        await p6.waitFor(1);
        await new Promise((r) => setTimeout(r, 30));
        assert.deepEqual(peers.map((x) => x.address), ["::1"]);
        assert.equal(p4.received.length, 0);
      } finally {
        p4.socket.close();
        p6.socket.close();
        await ep.close();
      }
    });

    test("a burst of 500 datagrams (many receive batches, more replies than the send ring) arrives whole, in order", async () => {
      const { ep } = await echo(engine, "127.0.0.1");
      const p = await peer("udp4", "127.0.0.1");
      try {
        for (let i = 0; i < 500; i++) p.socket.send(new Uint8Array(Uint16Array.of(i).buffer), ep.local.port, "127.0.0.1");
        await p.waitFor(500);
        assert.equal(p.received.length, 500);
        assert.deepEqual(
          p.received.map((b) => b.readUInt16LE(0)),
          Array.from({ length: 500 }, (_, i) => i),
        );
        assert.equal(ep.stats.received, 500);
      } finally {
        p.socket.close();
        await ep.close();
      }
    });

    test("one datagram answered by 300 (more than the send ring holds) delivers all 300", async () => {
      const ep = await UdpEndpoint.bind({ address: "127.0.0.1", engine });
      ep.onDatagram = (_data, from) => {
        for (let i = 0; i < 300; i++) ep.send(from, new Uint8Array(Uint16Array.of(i).buffer));
      };
      const p = await peer("udp4", "127.0.0.1");
      try {
        await p.send(Uint8Array.of(0), ep.local.port, "127.0.0.1");
        await p.waitFor(300);
        assert.equal(p.received.length, 300);
        assert.equal(ep.stats.sendErrors, 0);
      } finally {
        p.socket.close();
        await ep.close();
      }
    });

    test("one datagram answered by 20 × 60 KiB (more bytes than the native send arena) delivers all 20 intact", async () => {
      const ep = await UdpEndpoint.bind({ address: "127.0.0.1", engine });
      ep.onDatagram = (_data, from) => {
        for (let i = 0; i < 20; i++) ep.send(from, new Uint8Array(60 * 1024).fill(i));
      };
      const p = await peer("udp4", "127.0.0.1");
      try {
        await p.send(Uint8Array.of(0), ep.local.port, "127.0.0.1");
        await p.waitFor(20);
        assert.deepEqual(
          p.received.map((b) => [b.length, b[0], b[b.length - 1]]),
          Array.from({ length: 20 }, (_, i) => [60 * 1024, i, i]),
        );
        assert.equal(ep.stats.sendErrors, 0);
      } finally {
        p.socket.close();
        await ep.close();
      }
    });

    test("a 60 KiB datagram and a 65,507-byte one go both ways intact", async () => {
      const { ep } = await echo(engine, "127.0.0.1");
      const p = await peer("udp4", "127.0.0.1");
      try {
        for (const size of [60 * 1024, 65_507]) {
          const big = Buffer.alloc(size);
          for (let i = 0; i < big.length; i++) big[i] = (i * 7 + size) & 0xff;
          await p.send(big, ep.local.port, "127.0.0.1");
        }
        await p.waitFor(2);
        assert.equal(p.received.length, 2);
        assert.equal(p.received[0]!.length, 60 * 1024);
        assert.equal(p.received[1]!.length, 65_507);
        assert.ok(p.received.every((b) => b.every((v, i) => v === ((i * 7 + b.length) & 0xff))));
      } finally {
        p.socket.close();
        await ep.close();
      }
    });

    test("each datagram is handed up as its own bytes (the next batch does not overwrite it)", async () => {
      const ep = await UdpEndpoint.bind({ address: "127.0.0.1", engine });
      const kept: Uint8Array[] = [];
      ep.onDatagram = (data) => void kept.push(data);
      const p = await peer("udp4", "127.0.0.1");
      try {
        for (let i = 0; i < 200; i++) p.socket.send(Uint8Array.of(i, i, i), ep.local.port, "127.0.0.1");
        const deadline = Date.now() + 3000;
        while (kept.length < 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        assert.deepEqual(
          kept.map((d) => [...d]),
          Array.from({ length: 200 }, (_, i) => [i, i, i]),
        );
      } finally {
        p.socket.close();
        await ep.close();
      }
    });

    test("refused sends (broadcast without SO_BROADCAST: EACCES; an IPv6 peer on an IPv4 socket) are counted, not thrown, and the sends around them leave", async () => {
      const ep = await UdpEndpoint.bind({ address: "0.0.0.0", engine });
      const p = await peer("udp4", "127.0.0.1");
      try {
        const good = { address: "127.0.0.1", port: p.port, family: "IPv4" } as const;
        ep.send(good, Uint8Array.of(1));
        ep.send({ address: "255.255.255.255", port: 9, family: "IPv4" }, Uint8Array.of(0));
        ep.send(good, Uint8Array.of(2));
        ep.send({ address: "::1", port: 9, family: "IPv6" }, Uint8Array.of(0));
        ep.send(good, Uint8Array.of(3));
        await p.waitFor(3);
        await new Promise((r) => setTimeout(r, 20));
        assert.deepEqual(p.received.map((b) => [...b]), [[1], [2], [3]]);
        assert.equal(ep.stats.sent, 5);
        assert.equal(ep.stats.sendErrors, 2);
      } finally {
        p.socket.close();
        await ep.close();
      }
      assert.equal(ep.stats.sendErrors, 2, "still counted after close");
    });

    test("close() called by the datagram handler itself still sends the reply it just queued", async () => {
      const ep = await UdpEndpoint.bind({ address: "127.0.0.1", engine });
      let closed: Promise<void> | undefined;
      ep.onDatagram = (data, from) => {
        ep.send(from, data);
        closed = ep.close();
      };
      const p = await peer("udp4", "127.0.0.1");
      try {
        await p.send(Uint8Array.of(5), ep.local.port, "127.0.0.1");
        await p.waitFor(1);
        assert.deepEqual(p.received.map((b) => [...b]), [[5]]);
        await closed;
        assert.equal(ep.stats.received, 1);
      } finally {
        p.socket.close();
      }
    });

    test("a peer given by host name is resolved and reached", async () => {
      const ep = await UdpEndpoint.bind({ address: "127.0.0.1", engine });
      const p = await peer("udp4", "127.0.0.1");
      try {
        ep.send({ address: "localhost", port: p.port, family: "IPv4" }, Uint8Array.of(7));
        await p.waitFor(1);
        assert.deepEqual(p.received.map((b) => [...b]), [[7]]);
      } finally {
        p.socket.close();
        await ep.close();
      }
    });

    test("close() right after 20 sends delivers all 20; sends after close are ignored", async () => {
      const ep = await UdpEndpoint.bind({ address: "127.0.0.1", engine });
      const p = await peer("udp4", "127.0.0.1");
      try {
        const to = { address: "127.0.0.1", port: p.port, family: "IPv4" } as const;
        for (let i = 0; i < 20; i++) ep.send(to, Uint8Array.of(i));
        await ep.close();
        ep.send(to, Uint8Array.of(99));
        await p.waitFor(20);
        await new Promise((r) => setTimeout(r, 30));
        assert.deepEqual(
          p.received.map((b) => b[0]),
          Array.from({ length: 20 }, (_, i) => i),
        );
        assert.equal(ep.stats.sent, 20);
      } finally {
        p.socket.close();
      }
    });

    test("bufferSizes reports what the kernel granted for the sizes asked", async () => {
      const ep = await UdpEndpoint.bind({ address: "127.0.0.1", engine, recvBufferSize: 65536, sendBufferSize: 32768 });
      try {
        assert.deepEqual(ep.bufferSizes(), { recv: 2 * 65536, send: 2 * 32768 }); // Linux reports twice the value set
      } finally {
        await ep.close();
      }
    });

    test("binding a port in use fails with EADDRINUSE", async () => {
      const first = await UdpEndpoint.bind({ address: "127.0.0.1", engine });
      try {
        await assert.rejects(UdpEndpoint.bind({ address: "127.0.0.1", port: first.local.port, engine }), { code: "EADDRINUSE" });
      } finally {
        await first.close();
      }
    });
  });
}

describe("native engine: one PeerAddress object per peer", { skip: nativeUdp ? false : "native UDP addon not built" }, () => {
  for (const [type, address] of [
    ["udp4", "127.0.0.1"],
    ["udp6", "::1"],
  ] as const) {
    test(`${address}: repeated datagrams from one peer carry the identical object; another port, another object`, async () => {
      const { ep, peers } = await echo("native", type === "udp4" ? "::" : "::1");
      const a = await peer(type, address);
      const b = await peer(type, address);
      try {
        for (let i = 0; i < 3; i++) await a.send(Uint8Array.of(i), ep.local.port, address);
        await b.send(Uint8Array.of(9), ep.local.port, address);
        await b.waitFor(1);
        await a.waitFor(3);
        assert.equal(peers.length, 4);
        assert.equal(peers[0], peers[1]);
        assert.equal(peers[1], peers[2]);
        assert.notEqual(peers[3], peers[0]);
        assert.equal(peers[3]!.port, b.port);
      } finally {
        a.socket.close();
        b.socket.close();
        await ep.close();
      }
    });
  }

  test("link-local addresses keep their scope as node writes it (\"fe80::1%lo\")", () => {
    const meta = new Int32Array(nativeUdp!.META_INTS);
    assert.equal(nativeUdp!.encodeAddress("fe80::1%lo", 5683, meta, 0), 0);
    assert.equal(nativeUdp!.formatAddress(meta, 0), "fe80::1%lo");
    assert.equal(nativeUdp!.encodeAddress("FE80:0:0:0:0:0:0:1", 5683, meta, 0), 0);
    assert.equal(nativeUdp!.formatAddress(meta, 0), "fe80::1", "no scope: no suffix");
    assert.equal(nativeUdp!.encodeAddress("not-an-ip", 5683, meta, 0), -1);
  });
});

/**
 * A handler that throws must cost only its own datagram: node:dgram hands each datagram up in
 * its own 'message' event, the native engine a whole recvmmsg batch in one call. Run in a child
 * process, since the error has to reach process-level uncaughtException (the test runner treats
 * one in its own process as a failure).
 */
for (const engine of UDP_ENGINES) {
  test(`UDP engine ${engine}: a handler that throws loses no other datagram of its batch, and the error reaches uncaughtException`, async () => {
    const { execFile } = await import("node:child_process");
    const script = `
      const { UdpEndpoint } = await import(${JSON.stringify(new URL("../../../edge-agent/src/transport/udp.ts", import.meta.url).href)});
      const dgram = await import("node:dgram");
      const errors = [];
      process.on("uncaughtException", (e) => errors.push(e.message));
      const ep = await UdpEndpoint.bind({ address: "127.0.0.1", engine: ${JSON.stringify(engine)} });
      const seen = [];
      ep.onDatagram = (data) => {
        const n = data[0];
        seen.push(n);
        if (n % 4 === 0) throw new Error("boom " + n);
      };
      const s = dgram.createSocket("udp4");
      await new Promise((r) => s.bind(0, "127.0.0.1", r));
      for (let i = 1; i <= 12; i++) s.send(Uint8Array.of(i), ep.local.port, "127.0.0.1");
      const deadline = Date.now() + 3000;
      while (seen.length < 12 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 50));
      s.close();
      await ep.close();
      console.log(JSON.stringify({ seen, errors: errors.sort() }));
    `;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { timeout: 20_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    const result = JSON.parse(out.trim().split("\n").pop() ?? "{}") as { seen: number[]; errors: string[] };
    assert.deepEqual([...result.seen].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert.deepEqual(result.errors, ["boom 12", "boom 4", "boom 8"]);
  });
}
