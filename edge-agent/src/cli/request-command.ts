/**
 * `coaps-edge get|post|put|delete|fetch|patch|ipatch URI` and `coaps-edge request -m METHOD URI`:
 * one request with coap-client's flags, the body on stdout (or -o FILE), the exit code from
 * the response class (exit-codes.ts). `-s SECONDS` observes instead (RFC 7641, runObserve);
 * `-a ADDR` / `-p PORT` bind the local side, as coap-client's (its `-t` is the Content-Format,
 * `-A` Accept: issue 6's "-A content format, -a accept" would break coap-client scripts).
 *
 * coaps:// with coap-client's PSK flags: `-u IDENTITY -k KEY` (text key, both required
 * together), `-h FILE` (lines `hint,user,key`: the server's identity hint picks the
 * credentials, -u/-k otherwise). Certificates with its PKI flags: `-c CERT -j KEY` (ours, sent
 * when the server asks), `-C CAFILE` (the server's chain must end at these CAs), `-R ROOTS`
 * (trusted roots, no common-CA requirement), `-n` (do not check the server's certificate). The
 * server's certificate must also name the URI host (SAN or CN). Without -C/-R (or with -n) the
 * server is NOT authenticated by certificate: a warning says so; with no credentials at all the
 * client is anonymous (ECDHE, libcoap's COAP_PROTO_DTLS without credentials). PSK and PKI may be
 * given together. A failed DTLS handshake exits 6; `-v 5` and up print the negotiated suite.
 *
 * RFC 8323 (transportLayerFactory): `coap+tcp://`, `coap+ws://`, and `coaps+tcp://` /
 * `coaps+ws://` over node:tls with the same -u/-k, -h and -c/-j/-C/-R/-n flags (node:tls hands
 * the server's identity hint to the PSK callback, so -h lines choose there too). Unix-domain
 * sockets as libcoap writes them: the percent-encoded path as host, `coap+tcp://%2Ftmp%2Fa.sock/hello`
 * (stream), `coap://%2Ftmp%2Fa.sock/hello` (datagram, needs the unix-dgram module).
 */
import { readFile, writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { Command } from "commander";
import { codeName, contentFormatName, optionName, type CoapOption } from "@coaps-edge/shared";
import { CoapClient, type CoapClientRequest, type CoapClientResponse } from "../client/client.js";
import type { CoapNotification } from "../client/observe.js";
import { CoapClientError } from "../client/errors.js";
import { transportLayerFactory, type TransportClientOptions } from "../coap/stream/client-factory.js";
import { DtlsError, type SessionInfo } from "../dtls/index.js";
import { dtlsEndpointFactory, pskHintChooser, type DtlsConnectorOptions } from "../dtls-connector.js";
import { PkiError, loadCredentials, loadTrustStore, type CertificateInput } from "../pki/index.js";
import { ExitCode } from "./exit-codes.js";
import { createLogger, levelFromVerbosity } from "./logger.js";
import {
  UsageError,
  parseBlockArg,
  parseContentFormatArg,
  parseOptionArg,
  parsePort,
  parsePskFile,
  parseSeconds,
  parseTokenArg,
  parseVerbosity,
} from "./parse-args.js";

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
}

interface RequestFlags {
  method?: string;
  payload?: string;
  file?: string;
  contentFormat?: string;
  accept?: string;
  block?: string;
  non?: boolean;
  wait?: string;
  output?: string;
  json?: boolean;
  verbose?: string;
  token?: string;
  option?: string[];
  /** -s: observe for this many seconds (RFC 7641). */
  observe?: string;
  /** -a / -p: the local address and port to send from (coap-client's). */
  localAddress?: string;
  localPort?: string;
  /** DTLS (coap-client's flags). */
  user?: string;
  key?: string;
  hintFile?: string;
  cert?: string;
  certKey?: string;
  ca?: string;
  roots?: string;
  skipPeerCheck?: boolean;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Adds coap-client's request flags to `cmd`. */
export function withRequestFlags(cmd: Command, method: boolean): Command {
  if (method) cmd.option("-m, --method <method>", "request method (get, post, put, delete, fetch, patch, ipatch)", "get");
  return cmd
    .option("-e, --payload <text>", "payload text")
    .option("-f, --file <file>", "payload from a file ('-' for stdin)")
    .option("-t, --content-format <type>", "Content-Format of the payload (name or number)")
    .option("-A, --accept <type>", "Accept: the wanted Content-Format (name or number)")
    .option("-b, --block <[num,]size>", "block size 16..1024 for Block1/Block2, optional first Block2 number")
    .option("-N, --non", "send NON instead of CON")
    .option("-B, --wait <seconds>", "give up after this many seconds", "90")
    .option("-a, --local-address <addr>", "local address to send from (coap-client -a)")
    .option("-p, --local-port <port>", "local port to send from (coap-client -p)")
    .option("-s, --observe <seconds>", "observe the resource (RFC 7641) for this many seconds, printing every notification; deregisters at the end")
    .option("-o, --output <file>", "write the response body to a file instead of stdout")
    .option("--json", "print the whole response (code, options, content format, payload) as one JSON object")
    .option("-v, --verbose <level>", "verbosity 0..9 (libcoap levels; 5+ prints the response header to stderr)")
    .option("-T, --token <token>", "token: up to 8 bytes of text, or 0x-prefixed hex")
    .option("-O, --option <num,value>", "add option num with a text (or 0x hex) value; repeatable", collect)
    .helpOption("--help", "display help for command") // -h is coap-client's hint file
    .option("-u, --user <identity>", "coaps: PSK identity (with -k)")
    .option("-k, --key <key>", "coaps: pre-shared key as text (with -u)")
    .option("-h, --hint-file <file>", "coaps: lines hint,user,key; the server's identity hint picks the PSK")
    .option("-c, --cert <file>", "coaps: our PEM certificate (chain), sent when the server asks")
    .option("-j, --cert-key <file>", "coaps: PEM private key of -c (default: in the -c file)")
    .option("-C, --ca <file>", "coaps: CA file the server's certificate must chain to")
    .option("-R, --roots <file>", "coaps: trusted root CAs for the server's certificate (no common-CA requirement)")
    .option("-n, --skip-peer-check", "coaps: do not check the server's certificate");
}

/** What the DTLS flags configure, and whether the server goes unauthenticated (warned about). */
type DtlsSetup = Omit<DtlsConnectorOptions, "onConnected" | "dtls"> & { pki?: NonNullable<DtlsConnectorOptions["dtls"]>["pki"]; unverified: boolean };

/** Certificate options from -c/-j/-C/-R/-n, or undefined without them. */
function pkiFlags(flags: RequestFlags): DtlsSetup["pki"] {
  if ([flags.cert, flags.certKey, flags.ca, flags.roots, flags.skipPeerCheck].every((f) => f === undefined)) return undefined;
  if (flags.certKey !== undefined && flags.cert === undefined) throw new UsageError("-j needs -c CERT");
  try {
    const credentials = flags.cert === undefined ? undefined : loadCredentials({ path: flags.cert }, { path: flags.certKey ?? flags.cert });
    const cas: CertificateInput[] = [];
    if (flags.ca !== undefined) cas.push({ path: flags.ca });
    if (flags.roots !== undefined) cas.push({ path: flags.roots });
    const verify = cas.length > 0 && !flags.skipPeerCheck;
    return {
      ...(credentials ? { credentials } : {}),
      ...(cas.length > 0 ? { trust: loadTrustStore(...cas) } : {}),
      // libcoap coap-client: -C checks for a common CA, -R (trusted roots) turns that off.
      policy: { verifyPeerCert: verify, checkCommonCa: flags.ca !== undefined && flags.roots === undefined },
    };
  } catch (e) {
    if (e instanceof PkiError) throw new UsageError(e.message);
    throw e;
  }
}

/** DTLS client options from the flags (coaps:// only). */
async function dtlsFlags(flags: RequestFlags): Promise<DtlsSetup> {
  if ((flags.user === undefined) !== (flags.key === undefined)) throw new UsageError("-u and -k go together (PSK identity and key)");
  if (flags.key === "") throw new UsageError("-k: the key must not be empty");
  const encoder = new TextEncoder();
  const psk = flags.user !== undefined && flags.key !== undefined ? { identity: flags.user, key: encoder.encode(flags.key) } : undefined;
  let pskHints: DtlsConnectorOptions["pskHints"];
  if (flags.hintFile !== undefined) {
    const file = flags.hintFile;
    const text = await readFile(file, "utf8").catch((e: Error) => {
      throw new UsageError(`-h: cannot read ${file}: ${e.message}`);
    });
    pskHints = parsePskFile(text, `-h ${file}`).map((l) => ({ hint: l.hint, identity: l.identity, key: encoder.encode(l.key) }));
  }
  const pki = pkiFlags(flags);
  // The server proves itself by the PSK, or by a certificate checked against -C/-R.
  const unverified = pki ? pki.policy?.verifyPeerCert === false : psk === undefined && pskHints === undefined;
  return { ...(psk ? { psk } : {}), ...(pskHints ? { pskHints } : {}), ...(pki ? { pki } : {}), unverified };
}

async function readStdin(stdin: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}

/** Runs one request; returns the exit code. */
export async function runRequest(method: string, uri: string, flags: RequestFlags, io: CliIo): Promise<number> {
  let payload: Uint8Array | undefined;
  let contentFormat: number | undefined;
  let accept: number | undefined;
  let block: { num: number; size: number } | undefined;
  let token: Uint8Array | undefined;
  let verbosity = 4;
  const options: CoapOption[] = [];
  let waitSeconds: number;
  let observeSeconds: number | undefined;
  let local: { address?: string; port?: number } | undefined;
  let dtls: Awaited<ReturnType<typeof dtlsFlags>> | undefined;
  try {
    if (flags.payload !== undefined && flags.file !== undefined) throw new UsageError("-e and -f are exclusive");
    if (flags.payload !== undefined) payload = new TextEncoder().encode(flags.payload);
    if (flags.file !== undefined) payload = flags.file === "-" ? await readStdin(io.stdin) : await readFile(flags.file);
    if (flags.contentFormat !== undefined) contentFormat = parseContentFormatArg(flags.contentFormat, "-t");
    if (flags.accept !== undefined) accept = parseContentFormatArg(flags.accept, "-A");
    if (flags.block !== undefined) block = parseBlockArg(flags.block);
    if (flags.token !== undefined) token = parseTokenArg(flags.token);
    if (flags.verbose !== undefined) verbosity = parseVerbosity(flags.verbose);
    for (const o of flags.option ?? []) options.push(parseOptionArg(o));
    waitSeconds = parseSeconds(flags.wait ?? "90");
    if (flags.observe !== undefined) observeSeconds = parseSeconds(flags.observe, "-s");
    if (flags.localAddress !== undefined || flags.localPort !== undefined) {
      if (flags.localAddress !== undefined && isIP(flags.localAddress) === 0) throw new UsageError(`-a expects an IP address, got "${flags.localAddress}"`);
      local = {
        ...(flags.localAddress !== undefined ? { address: flags.localAddress } : {}),
        ...(flags.localPort !== undefined ? { port: parsePort(flags.localPort, "-p") } : {}),
      };
    }
    if (/^coaps(?:\+tcp|\+ws)?:\/\//i.test(uri)) dtls = await dtlsFlags(flags);
  } catch (e) {
    io.stderr.write(`coaps-edge: ${(e as Error).message}\n`);
    return ExitCode.Usage;
  }

  const log = createLogger(levelFromVerbosity(verbosity));
  // coaps://: a DTLS client session per target, the handshake bounded by -B like the request.
  if (dtls?.unverified) io.stderr.write("coaps-edge: warning: the server's certificate is not verified (give -C CAFILE or -R ROOTS)\n");
  // -a/-p bind coap:// sockets too: the DTLS connector's factory serves plain targets as well.
  const endpointFactory =
    (dtls || local) &&
    dtlsEndpointFactory({
      ...(local ? { local } : {}),
      ...(dtls?.psk ? { psk: dtls.psk } : {}),
      ...(dtls?.pskHints ? { pskHints: dtls.pskHints } : {}),
      dtls: { handshakeTimeoutMs: waitSeconds * 1000, ...(dtls?.pki ? { pki: dtls.pki } : {}) },
      verifyHost: true,
      onConnected: (c) => {
        const info = c.sessionInfo();
        if (!info) return;
        log.info({ suite: info.cipherSuite.name, identity: info.identity.identity, auth: info.identity.kind, hint: info.pskIdentityHint }, "dtls session established");
        if (verbosity >= 5) io.stderr.write(`${describeSession(info)}\n`);
      },
    });
  const layerFactory = transportLayerFactory({ connectTimeoutMs: waitSeconds * 1000, ...(local ? { local } : {}), ...(dtls ? { tls: tlsFlags(dtls) } : {}) });
  const client = new CoapClient(endpointFactory ? { endpointFactory, layerFactory } : { layerFactory });
  const request = {
    method,
    uri,
    payload,
    contentFormat,
    accept,
    options,
    confirmable: !flags.non,
    token,
    blockSize: block?.size,
    block2Start: block?.num,
    timeoutMs: waitSeconds * 1000,
  };
  try {
    if (observeSeconds !== undefined) return await runObserve(client, request, observeSeconds, flags, verbosity, io);
    const res = await client.request(request);
    log.debug({ code: res.codeText, bytes: res.payload.length, messages: res.messages }, "response");
    if (verbosity >= 5) io.stderr.write(`${describeResponse(res)}\n`);
    const cls = res.code >> 5;
    if (flags.json) {
      // Machine-readable: one JSON object on stdout whatever the class; the exit code still says it.
      await write(io.stdout, new TextEncoder().encode(`${JSON.stringify(responseJson(res))}\n`));
      return cls === 2 ? ExitCode.Ok : cls === 4 ? ExitCode.ClientError : ExitCode.ServerError;
    }
    if (cls === 2) {
      if (flags.output !== undefined) await writeFile(flags.output, res.payload);
      else if (res.payload.length > 0) await write(io.stdout, res.payload);
      return ExitCode.Ok;
    }
    // 4.xx/5.xx: the code and the diagnostic payload go to stderr, stdout stays empty.
    const diagnostic = res.payload.length ? ` ${Buffer.from(res.payload).toString("utf8")}` : "";
    io.stderr.write(`${res.codeText} ${codeName(res.code) ?? ""}${diagnostic}\n`);
    return cls === 4 ? ExitCode.ClientError : ExitCode.ServerError;
  } catch (e) {
    if (e instanceof DtlsError) {
      io.stderr.write(`coaps-edge: DTLS handshake failed: ${e.message}\n`);
      return ExitCode.HandshakeFailed;
    }
    if (e instanceof CoapClientError) {
      io.stderr.write(`coaps-edge: ${e.message}\n`);
      if (e.code === "timeout") return ExitCode.Timeout;
      // coaps+tcp / coaps+ws: a TLS alert (wrong PSK, refused certificate) is a failed handshake too.
      if (e.code === "connect-failed" && isTlsFailure(e.cause)) return ExitCode.HandshakeFailed;
      if (e.code === "bad-uri" || e.code === "bad-request" || e.code === "unsupported-scheme") return ExitCode.Usage;
      return ExitCode.Failure;
    }
    io.stderr.write(`coaps-edge: ${(e as Error).message}\n`);
    return ExitCode.Failure;
  } finally {
    await client.close();
  }
}

/** An OpenSSL error of node:tls (an alert, a refused certificate): not a refused TCP connect. */
function isTlsFailure(e: unknown): boolean {
  const err = e as { code?: unknown; library?: unknown } | undefined;
  return (typeof err?.code === "string" && err.code.startsWith("ERR_SSL_")) || err?.library === "SSL routines";
}

/** `-v 5`: code, name, content format and option sizes of a response. */
function describeResponse(res: CoapClientResponse): string {
  const name = codeName(res.code) ?? "";
  const opts = res.options.map((o) => `${optionName(o.number)}:${o.value.length}B`).join(" ");
  const ct = res.contentFormat === undefined ? "" : ` ct=${contentFormatName(res.contentFormat) ?? res.contentFormat}`;
  return `${res.codeText} ${name}${ct} ${opts}`;
}

/** The exit code of a response's class. */
function exitFor(code: number): number {
  const cls = code >> 5;
  return cls === 2 ? ExitCode.Ok : cls === 4 ? ExitCode.ClientError : ExitCode.ServerError;
}

/**
 * `-s SECONDS` (coap-client -s): registers, prints the registration response and every
 * notification as it comes (the body and a newline; with --json one object per line, with its
 * `observe` number), and after SECONDS deregisters (GET with Observe=1, RFC 7641 §3.6). The
 * exit code is that of the last response. A server that does not register us ends it early.
 */
async function runObserve(client: CoapClient, request: CoapClientRequest, seconds: number, flags: RequestFlags, verbosity: number, io: CliIo): Promise<number> {
  let last: CoapNotification | undefined;
  const print = (n: CoapNotification): void => {
    last = n;
    if (verbosity >= 5) io.stderr.write(`${describeResponse(n)} observe=${n.observe ?? "-"}\n`);
    if (flags.json) {
      io.stdout.write(`${JSON.stringify({ ...responseJson(n), observe: n.observe ?? null })}\n`);
    } else if ((n.code >> 5) === 2) {
      io.stdout.write(Buffer.concat([n.payload, Buffer.from("\n")]));
    } else {
      const diagnostic = n.payload.length ? ` ${Buffer.from(n.payload).toString("utf8")}` : "";
      io.stderr.write(`${n.codeText} ${codeName(n.code) ?? ""}${diagnostic}\n`);
    }
  };
  const observation = await client.observe(request, print);
  if (observation.active) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([observation.ended, new Promise<void>((resolve) => (timer = setTimeout(resolve, seconds * 1000)))]);
    clearTimeout(timer);
    await observation.cancel();
  }
  await write(io.stdout, new Uint8Array(0));
  return last ? exitFor(last.code) : ExitCode.Failure;
}

/** TLS client credentials (coaps+tcp, coaps+ws) from the DTLS flags: the same PSK and certificate options. */
function tlsFlags(dtls: DtlsSetup): NonNullable<TransportClientOptions["tls"]> {
  const pki = dtls.pki;
  const chooser = pskHintChooser(dtls.pskHints, dtls.psk);
  // -h lines pick by the server's hint (node:tls passes it to the PSK callback); -u/-k otherwise.
  const psk = dtls.psk || chooser ? { identity: dtls.psk?.identity ?? "", key: dtls.psk?.key ?? new Uint8Array(0), ...(chooser ? { hintCallback: chooser } : {}) } : undefined;
  return {
    ...(psk ? { psk } : {}),
    ...(pki?.credentials ? { certificate: pki.credentials } : {}),
    ...(pki?.trust ? { trust: pki.trust } : {}),
    ...(pki ? { policy: { ...pki.policy, purpose: "server" as const } } : {}),
  };
}

/** `-v 5`: "DTLS 1.2 TLS_PSK_WITH_AES_128_CCM_8 (0xc0a8) identity "me" hint "CoAP"" or the server's certificate. */
function describeSession(info: SessionInfo): string {
  const suite = `DTLS 1.2 ${info.cipherSuite.name} (0x${info.cipherSuite.id.toString(16).padStart(4, "0")})`;
  if (info.pskIdentity !== undefined) {
    const hint = info.pskIdentityHint === undefined ? "" : ` hint "${info.pskIdentityHint}"`;
    return `${suite} identity "${info.pskIdentity}"${hint}`;
  }
  const cert = info.identity.kind === "x509" ? ` server "${info.identity.identity ?? ""}" sha256 ${info.identity.certificateSha256 ?? "?"}` : "";
  return `${suite}${cert}${info.ecdheGroup ? ` ${info.ecdheGroup}` : ""}`;
}

function write(stream: NodeJS.WritableStream, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => stream.write(data, (err) => (err ? reject(err) : resolve())));
}

/** The `--json` view of a response: text payloads as text, anything else as base64. */
function responseJson(res: CoapClientResponse): Record<string, unknown> {
  const text = new TextDecoder("utf-8", { fatal: true });
  let payloadText: string | undefined;
  try {
    payloadText = text.decode(res.payload);
  } catch {
    payloadText = undefined;
  }
  return {
    code: res.codeText,
    name: codeName(res.code) ?? null,
    contentFormat: res.contentFormat ?? null,
    options: res.options.map((o) => ({ number: o.number, name: optionName(o.number) ?? null, value: Buffer.from(o.value).toString("hex") })),
    ...(payloadText !== undefined ? { payload: payloadText } : { payloadBase64: Buffer.from(res.payload).toString("base64") }),
  };
}
