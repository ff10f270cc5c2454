/**
 * The message layer for reliable transports (RFC 8323): TCP, TLS, WebSocket, Unix stream
 * sockets. It stands where coap/message-layer.ts stands for UDP and offers the same surface
 * to server/ and client/ (it extends MessageLayer so both use it unchanged), but the UDP
 * machinery stays idle: no Message IDs, ACKs, retransmission or deduplication — the
 * transport is reliable and ordered (§3). One layer serves many connections (a listener)
 * or one (a client session); a connection's peer address is its key.
 *
 *     server/CoapServer (RequestSink)        client/Exchanges (ResponseSink, owner)
 *                 │ InboundRequest, respond()          │ sendConfirmable(), onResponse()
 *     ┌───────────┴───────────────────────────────────┴───────────┐
 *     │ stream-layer.ts  requests ↑ responses ↓ by token;          │
 *     │                  BERT ⇄ SZX 6 (bert.ts), sub-requests      │
 *     ├────────────────────────────────────────────────────────────┤
 *     │ connection.ts    CSM, Ping/Pong, Release, Abort; framing   │  one per connection
 *     ├────────────────────────────────────────────────────────────┤
 *     │ channel.ts       net.Socket / tls.TLSSocket / ws / memory  │  transport/{tcp,tls,ws,unix}.ts
 *     └────────────────────────────────────────────────────────────┘
 *
 * Requests go up as CON messages with Message ID 0 (the server then treats them as reliable:
 * errors are responses, never RSTs); "acceptSeparately" is a no-op (there is nothing to ACK).
 */
import { Code, EMPTY_BYTES, Method, MessageType, OptionNumber, bertBlockOption, type CoapMessage, type CoapOption, type StreamMessage } from "@coaps-edge/shared";
import { systemClock, type Clock } from "../../util/clock.js";
import { peerKey, type DatagramEndpoint, type DatagramHandler, type PeerAddress } from "../../transport/types.js";
import { MessageLayer, Transmission, type InboundRequest, type TransmissionOwner } from "../message-layer.js";
import { bertBlock1Answer, concatBytes, findBlock, replaceOptions, rewriteBlockSzx, splitBertPayload } from "./bert.js";
import type { StreamChannel, StreamTransport } from "./channel.js";
import { StreamConnection, type StreamConnectionOptions } from "./connection.js";

export interface StreamLayerOptions {
  readonly transport: StreamTransport;
  /** "coaps" for TLS and WSS. */
  readonly scheme: "coap" | "coaps";
  /** The listening (server) or local (client) address. */
  readonly local: PeerAddress;
  readonly clock?: Clock;
  /** Per-connection options: Max-Message-Size, Block-Wise-Transfer, CSM and Ping timeouts. */
  readonly connection?: StreamConnectionOptions;
  /** Releases what underlies the layer (the listening socket); called once by `endpoint.close()`. */
  readonly onClose?: () => Promise<void>;
}

export interface StreamLayerStats {
  connectionsOpened: number;
  connectionsClosed: number;
  requests: number;
  responses: number;
  /** Responses no request was waiting for (dropped; there is no RST over TCP). */
  unmatchedResponses: number;
  /** Responses to a peer whose connection was already gone. */
  dropped: number;
  /** Uploads that arrived as BERT Block1, and responses sent as BERT Block2. */
  bertUploads: number;
  bertResponses: number;
  /** Client side: responses that arrived as BERT (Block1/Block2 SZX 7), and BERT Block1 messages sent. */
  bertReceived: number;
  bertUploadsSent: number;
  /** Requests the layer made to the server on its own to (un)pack BERT. */
  subRequests: number;
  /** 1.xx / 6.xx codes (reserved), ignored. */
  malformed: number;
}

/** Client-side Block1 blocks being joined into one BERT message. */
interface UploadBatch {
  readonly code: number;
  /** Method and the options that stay the same across the body's blocks. */
  readonly shape: string;
  readonly firstNum: number;
  nextNum: number;
  /** Options of the first block, without Block1 (with its Size1). */
  readonly options: CoapOption[];
  readonly chunks: Uint8Array[];
  lastToken: Uint8Array;
}

/** A response as the layers above hand it down. */
type Response = Omit<CoapMessage, "type" | "messageId">;

/**
 * The layer's DatagramEndpoint face: what server/ and client/ key their layers by. It carries
 * no datagrams; `close()` closes the layer's connections and what lies beneath them.
 */
export class StreamEndpoint implements DatagramEndpoint {
  onDatagram: DatagramHandler = () => {};
  layer: StreamLayer | undefined;
  #closing: Promise<void> | undefined;

  constructor(
    readonly scheme: "coap" | "coaps",
    readonly local: PeerAddress,
    private readonly onClose: (() => Promise<void>) | undefined,
  ) {}

  send(): void {
    // Never used: the stream layer sends through its connections.
  }

  maxMessageSize(peer: PeerAddress): number {
    return this.layer?.maxMessageSize(peer) ?? 1152;
  }

  close(): Promise<void> {
    return (this.#closing ??= (async () => {
      this.layer?.close();
      await this.onClose?.();
    })());
  }
}

export class StreamLayer extends MessageLayer {
  readonly transport: StreamTransport;
  readonly streamStats: StreamLayerStats = {
    connectionsOpened: 0,
    connectionsClosed: 0,
    requests: 0,
    responses: 0,
    unmatchedResponses: 0,
    dropped: 0,
    bertUploads: 0,
    bertResponses: 0,
    bertReceived: 0,
    bertUploadsSent: 0,
    subRequests: 0,
    malformed: 0,
  };
  /** Called when a connection is ready (peer CSM in) and when it closes (OpenThread's client-connected callback). */
  onConnection: ((conn: StreamConnection, up: boolean) => void) | undefined;
  readonly #connectionOptions: StreamConnectionOptions;
  readonly #connections = new Map<string, StreamConnection>();
  readonly #transmissions = new Map<StreamConnection, Set<Transmission<unknown>>>();
  /** Sub-requests the layer made itself, and where their responses go. */
  readonly #subs = new Map<InboundRequest, (r: Response) => void>();
  /** Requests whose sliced response may go out as BERT Block2. */
  readonly #bert2 = new WeakSet<InboundRequest>();
  /** Client side: 1024-byte Block1 blocks being joined into one BERT message, per connection. */
  readonly #uploads = new Map<StreamConnection, UploadBatch>();
  /** Last sub-request of a BERT upload → the upload's Block1. */
  readonly #bert1 = new WeakMap<InboundRequest, { num: number; more: boolean; szx: number }>();
  #streamClosed = false;

  constructor(options: StreamLayerOptions) {
    const endpoint = new StreamEndpoint(options.scheme, options.local, options.onClose);
    const clock = options.clock ?? options.connection?.clock ?? systemClock;
    super(endpoint, { clock });
    endpoint.layer = this;
    this.transport = options.transport;
    this.#connectionOptions = { ...options.connection, clock };
  }

  /** The open connections. */
  get connections(): StreamConnection[] {
    return [...this.#connections.values()];
  }

  /** The connection to `peer`, if open. */
  connection(peer: PeerAddress): StreamConnection | undefined {
    return this.#connections.get(peerKey(peer));
  }

  /**
   * Takes a new channel: creates its connection and sends our CSM. Requests are served once
   * the peer's CSM is in (`conn.ready`). A channel to a peer already connected replaces nothing:
   * the new one is aborted.
   */
  addChannel(channel: StreamChannel): StreamConnection {
    const conn = new StreamConnection(
      channel,
      {
        onReady: (c) => this.onConnection?.(c, true),
        onMessage: (c, msg) => this.#onMessage(c, msg),
        onClosed: (c) => this.#onClosed(c),
      },
      this.#connectionOptions,
    );
    const key = peerKey(channel.remote);
    if (this.#streamClosed || this.#connections.has(key)) {
      conn.start();
      conn.abort(this.#streamClosed ? "shutting down" : "duplicate peer address");
      return conn;
    }
    this.#connections.set(key, conn);
    this.#transmissions.set(conn, new Set());
    this.streamStats.connectionsOpened++;
    conn.start();
    return conn;
  }

  /** The largest message to `peer`: the smaller of its Max-Message-Size and ours (we send nothing we would refuse). */
  override maxMessageSize(peer: PeerAddress): number {
    const c = this.#connections.get(peerKey(peer));
    if (!c) return 1152;
    return Math.min(c.peerMaxMessageSize, c.maxMessageSize);
  }

  /** Requests waiting for a response on every connection. */
  override get outstanding(): number {
    let n = 0;
    for (const s of this.#transmissions.values()) n += s.size;
    return n;
  }

  /** Unused: connections deliver messages themselves. */
  override receive(): void {}

  // ---------------------------------------------------------------- server side

  override respond(req: InboundRequest, response: Response): boolean {
    if (req.state === "answered" || this.#streamClosed) return false;
    const sub = this.#subs.get(req);
    if (sub) {
      req.state = "answered";
      this.#subs.delete(req);
      sub(response);
      return true;
    }
    const conn = this.#connections.get(peerKey(req.peer));
    if (!conn || conn.state === "closed") {
      req.state = "answered";
      this.streamStats.dropped++;
      return true;
    }
    const b1 = this.#bert1.get(req);
    const out = b1 ? bertBlock1Answer(response, b1) : response;
    if (conn.bert && this.#bert2.has(req)) {
      const b2 = findBlock(out.options, OptionNumber.Block2);
      if (b2 && b2.szx === 6 && b2.more) {
        req.state = "answered";
        this.streamStats.responses++;
        this.#sendBertBlock2(conn, req, out, b2.num).catch(() => void this.stats.internalErrors++);
        return true;
      }
    }
    conn.send(out); // throws RangeError on an unencodable response: the request stays answerable
    req.state = "answered";
    this.streamStats.responses++;
    return true;
  }

  /** Nothing to acknowledge on a reliable transport (RFC 8323 §3: no ACK messages). */
  override acceptSeparately(): void {}

  /** There is no Reset over reliable transports; the request is dropped (counted). */
  override reject(req: InboundRequest): void {
    if (req.state === "answered") return;
    const sub = this.#subs.get(req);
    req.state = "answered";
    if (sub) {
      this.#subs.delete(req);
      sub({ code: Code.BadOption, token: req.message.token, options: [], payload: EMPTY_BYTES });
    } else this.streamStats.dropped++;
  }

  #onMessage(conn: StreamConnection, msg: StreamMessage): void {
    if (this.#streamClosed) return;
    const cls = msg.code >> 5;
    try {
      if (cls === 0) this.#onRequest(conn, msg);
      else if (cls >= 2 && cls <= 5) this.#onResponse(conn, msg);
      else this.streamStats.malformed++;
    } catch {
      this.stats.internalErrors++;
    }
  }

  #onRequest(conn: StreamConnection, msg: StreamMessage): void {
    this.streamStats.requests++;
    const message: CoapMessage = { ...msg, type: MessageType.CON, messageId: 0 };
    const req = this.#inbound(conn, message);
    if (!this.requestSink) {
      conn.send({ code: Code.NotImplemented, token: msg.token, options: [], payload: EMPTY_BYTES });
      return;
    }
    if (conn.bert) {
      const b2 = findBlock(msg.options, OptionNumber.Block2);
      const b1 = findBlock(msg.options, OptionNumber.Block1);
      // SZX 7 reaches the server as 6 (same NUM unit); no Block2 lets us choose BERT for a large body.
      const up = b2?.szx === 7 ? { ...req, message: rewriteBlockSzx(message, OptionNumber.Block2, 7, 6) } : req;
      if (!b2 || b2.szx === 7) this.#bert2.add(up);
      if (b1?.szx === 7) {
        this.#receiveBertUpload(conn, up, b1).catch(() => void this.stats.internalErrors++);
        return;
      }
      this.requestSink.onRequest(up);
      return;
    }
    this.requestSink.onRequest(req);
  }

  #inbound(conn: StreamConnection, message: CoapMessage): InboundRequest {
    return { message, peer: conn.channel.remote, identity: conn.channel.identity, layer: this, state: "new", entry: undefined };
  }

  /** A BERT Block1 request: one sub-request per 1024-byte block, the last one answered to the peer. */
  async #receiveBertUpload(conn: StreamConnection, req: InboundRequest, b1: { num: number; more: boolean; szx: number }): Promise<void> {
    this.streamStats.bertUploads++;
    const m = req.message;
    const chunks = splitBertPayload(b1, m.payload);
    if (typeof chunks === "string") {
      this.respond(req, { code: Code.BadRequest, token: m.token, options: [], payload: new TextEncoder().encode(chunks) });
      return;
    }
    const base = replaceOptions(m.options, [OptionNumber.Block1]);
    for (let i = 0; i < chunks.length; i++) {
      const last = i === chunks.length - 1;
      const block = { num: b1.num + i, more: last ? b1.more : true, szx: 6 };
      const message: CoapMessage = { ...m, options: [...base, bertBlockOption(OptionNumber.Block1, block)], payload: chunks[i] as Uint8Array };
      if (!last) {
        const res = await this.#subRequest(req, message);
        if (res.code !== Code.Continue) {
          // The server refused mid-way (4.08, 4.13 …): that is the answer to the BERT request.
          this.respond(req, bertBlock1Answer(res, b1));
          return;
        }
        continue;
      }
      const final: InboundRequest = { ...req, message, state: "new" };
      this.#bert1.set(final, b1);
      if (this.#bert2.has(req)) this.#bert2.add(final);
      this.requestSink?.onRequest(final);
    }
  }

  /** Tops up a sliced response with further 1024-byte blocks from the server and sends it as BERT. */
  async #sendBertBlock2(conn: StreamConnection, req: InboundRequest, first: Response, num: number): Promise<void> {
    const head = { ...first, payload: EMPTY_BYTES };
    // Header + token + options + marker, with room for a longer Block2 value.
    const overhead = 8 + first.token.length + first.options.reduce((n, o) => n + 5 + o.value.length, 0);
    const capacity = Math.floor((this.maxMessageSize(req.peer) - overhead) / 1024);
    const parts = [first.payload];
    let more = true;
    const base = replaceOptions(req.message.options, [OptionNumber.Block1, OptionNumber.Block2, OptionNumber.Size1]);
    while (more && parts.length < capacity && conn.state !== "closed") {
      const next = num + parts.length;
      const res = await this.#subRequest(req, {
        ...req.message,
        options: [...base, bertBlockOption(OptionNumber.Block2, { num: next, more: false, szx: 6 })],
        payload: req.message.code === Method.FETCH ? req.message.payload : EMPTY_BYTES,
      });
      const b = findBlock(res.options, OptionNumber.Block2);
      if (res.code !== first.code || !b || b.szx !== 6 || b.num !== next || (b.more && res.payload.length !== 1024)) break;
      parts.push(res.payload);
      more = b.more;
    }
    if (conn.state === "closed") return;
    const options = replaceOptions(head.options, [OptionNumber.Block2], [bertBlockOption(OptionNumber.Block2, { num, more, szx: 7 })]);
    try {
      conn.send({ code: first.code, token: first.token, options, payload: concatBytes(parts) });
      this.streamStats.bertResponses++;
    } catch {
      conn.send(first); // cannot happen when the capacity was right; the plain block is always valid
    }
  }

  /** Hands a request the layer made itself to the server; resolves with its response. */
  #subRequest(parent: InboundRequest, message: CoapMessage): Promise<Response> {
    this.streamStats.subRequests++;
    return new Promise((resolve) => {
      const sub: InboundRequest = { message, peer: parent.peer, identity: parent.identity, layer: this, state: "new", entry: undefined };
      this.#subs.set(sub, resolve);
      if (!this.requestSink) {
        this.#subs.delete(sub);
        resolve({ code: Code.NotImplemented, token: message.token, options: [], payload: EMPTY_BYTES });
        return;
      }
      this.requestSink.onRequest(sub);
    });
  }

  // ---------------------------------------------------------------- client side

  /**
   * Sends a request to `peer`'s connection. There is no ACK: the Transmission stays "sent"
   * until its response arrives (the client cancels it then) or the connection closes
   * (owner.onAborted). Throws RangeError when the request does not encode or exceeds the
   * peer's Max-Message-Size.
   */
  override sendConfirmable<C>(peer: PeerAddress, message: Omit<CoapMessage, "messageId">, owner: TransmissionOwner<C>, context: C): Transmission<C> {
    const tx = new Transmission<C>(peer, 0, EMPTY_BYTES, owner, context, peerKey(peer));
    const conn = this.#connections.get(peerKey(peer));
    if (!conn || conn.state === "closed" || conn.state === "closing" || this.#streamClosed) {
      tx.state = "done";
      queueMicrotask(() => owner.onAborted(tx));
      return tx;
    }
    const out = this.#outbound(conn, message);
    if (conn.bert && this.#batchUpload(conn, tx, out)) return tx;
    conn.send(out);
    tx.state = "sent";
    this.#transmissions.get(conn)?.add(tx as Transmission<unknown>);
    return tx;
  }

  /**
   * BERT for uploads (§6): the client sends Block1 in 1024-byte blocks; consecutive blocks of
   * one body are held and acknowledged here (a local 2.31), until as many as fit the peer's
   * Max-Message-Size are in or the last block comes; then they go out as ONE Block1 BERT
   * message whose real answer goes to the block that completed it. Returns false when
   * `msg` is not a BERT candidate (it is then sent as it is).
   */
  #batchUpload<C>(conn: StreamConnection, tx: Transmission<C>, msg: StreamMessage): boolean {
    const b1 = findBlock(msg.options, OptionNumber.Block1);
    let batch = this.#uploads.get(conn);
    const candidate = b1 !== undefined && b1.szx === 6 && (!b1.more || msg.payload.length === 1024);
    // The body's identity: method and options, less what changes from block to block (Block1,
    // Size1 on the first, an early Block2 on the last).
    const rest = candidate ? replaceOptions(msg.options, [OptionNumber.Block1, OptionNumber.Size1, OptionNumber.Block2]) : [];
    const shape = `${msg.code}|${rest.map((o) => `${o.number}:${Buffer.from(o.value).toString("hex")}`).join(",")}`;
    if (batch && (!candidate || batch.shape !== shape || batch.nextNum !== b1.num)) {
      // Blocks we acknowledged locally must still reach the server, in order.
      this.#uploads.delete(conn);
      this.#sendBatch(conn, batch, batch.lastToken, batch.options, true);
      batch = undefined;
    }
    if (!candidate) return false;
    if (!batch) {
      if (!b1.more) return false; // a lone last block: nothing to join
      batch = { code: msg.code, shape, firstNum: b1.num, nextNum: b1.num, options: replaceOptions(msg.options, [OptionNumber.Block1]), chunks: [], lastToken: msg.token };
      this.#uploads.set(conn, batch);
    }
    batch.chunks.push(msg.payload);
    batch.nextNum++;
    batch.lastToken = msg.token;
    const overhead = 8 + msg.token.length + batch.options.reduce((n, o) => n + 5 + o.value.length, 0) + 8;
    const capacity = Math.floor((this.maxMessageSize(conn.channel.remote) - overhead) / 1024);
    if (b1.more && batch.chunks.length < capacity) {
      tx.state = "done";
      const ack: CoapMessage = { type: MessageType.ACK, code: Code.Continue, messageId: 0, token: msg.token, options: [bertBlockOption(OptionNumber.Block1, b1)], payload: EMPTY_BYTES };
      queueMicrotask(() => tx.owner.onAcknowledged(tx, ack, conn.channel.identity));
      return true;
    }
    this.#uploads.delete(conn);
    if (batch.chunks.length === 1) return false; // room for one block only: plain block-wise
    // The first block's Size1 with this block's other options (an early Block2 rides on the last).
    const size1 = batch.options.filter((o) => o.number === OptionNumber.Size1);
    this.#sendBatch(conn, batch, msg.token, [...replaceOptions(msg.options, [OptionNumber.Block1, OptionNumber.Size1]), ...size1], b1.more);
    tx.state = "sent";
    this.#transmissions.get(conn)?.add(tx as Transmission<unknown>);
    return true;
  }

  #sendBatch(conn: StreamConnection, batch: UploadBatch, token: Uint8Array, options: CoapOption[], more: boolean): void {
    this.streamStats.bertUploadsSent++;
    conn.send({ code: batch.code, token, options: [...options, bertBlockOption(OptionNumber.Block1, { num: batch.firstNum, more, szx: 7 })], payload: concatBytes(batch.chunks) });
  }

  /** Over a reliable transport NON and CON are the same message; returns 0 (no Message ID). */
  override sendNonConfirmable(peer: PeerAddress, message: Omit<CoapMessage, "messageId">): number {
    const conn = this.#connections.get(peerKey(peer));
    if (conn && conn.state === "open") conn.send(this.#outbound(conn, message));
    return 0;
  }

  /** A 7.02 Ping; the Pong is reported as `onReset`, as the RST answering a UDP ping is. */
  override ping<C>(peer: PeerAddress, owner: TransmissionOwner<C>, context: C): Transmission<C> {
    const tx = new Transmission<C>(peer, 0, EMPTY_BYTES, owner, context, peerKey(peer));
    const conn = this.#connections.get(peerKey(peer));
    tx.state = "sent";
    if (!conn) {
      tx.state = "done";
      queueMicrotask(() => owner.onAborted(tx));
      return tx;
    }
    conn.ping().then(
      () => {
        if (tx.state === "done") return;
        tx.state = "done";
        owner.onReset(tx);
      },
      (e: { code?: string }) => {
        if (tx.state === "done") return;
        tx.state = "done";
        if (e.code === "timeout") owner.onTimeout(tx);
        else owner.onAborted(tx);
      },
    );
    return tx;
  }

  override cancel(tx: Transmission<unknown>): void {
    if (tx.state === "done") return;
    tx.state = "done";
    const conn = this.#connections.get(tx.key);
    this.#transmissions.get(conn as StreamConnection)?.delete(tx);
  }

  #outbound(conn: StreamConnection, message: Omit<CoapMessage, "messageId">): StreamMessage {
    const msg: StreamMessage = { code: message.code, token: message.token, options: message.options, payload: message.payload };
    // Ask for BERT where 1024-byte blocks were asked for (libcoap does the same).
    return conn.bert ? rewriteBlockSzx(msg, OptionNumber.Block2, 6, 7) : msg;
  }

  #onResponse(conn: StreamConnection, msg: StreamMessage): void {
    let m = msg;
    if (conn.bert) {
      m = rewriteBlockSzx(m, OptionNumber.Block2, 7, 6);
      m = rewriteBlockSzx(m, OptionNumber.Block1, 7, 6);
      if (m !== msg) this.streamStats.bertReceived++;
    }
    const matched = this.responseSink?.onResponse({ ...m, type: MessageType.NON, messageId: 0 }, conn.channel.remote, conn.channel.identity) ?? false;
    if (!matched) this.streamStats.unmatchedResponses++;
  }

  // ---------------------------------------------------------------- lifecycle

  #onClosed(conn: StreamConnection): void {
    const key = peerKey(conn.channel.remote);
    if (this.#connections.get(key) === conn) this.#connections.delete(key);
    this.streamStats.connectionsClosed++;
    const txs = this.#transmissions.get(conn);
    this.#transmissions.delete(conn);
    this.#uploads.delete(conn);
    for (const tx of txs ?? []) {
      if (tx.state === "done") continue;
      tx.state = "done";
      tx.owner.onAborted(tx);
    }
    this.onConnection?.(conn, false);
  }

  /** Sends Release on every connection and closes them; pending requests are aborted. */
  override close(): void {
    if (this.#streamClosed) return;
    this.#streamClosed = true;
    for (const conn of [...this.#connections.values()]) conn.release();
    super.close();
  }
}
