/**
 * `coaps-edge get|post|put|delete|fetch|patch|ipatch URI` and `coaps-edge request -m METHOD URI`:
 * one request with coap-client's flags, the body on stdout (or -o FILE), the exit code from
 * the response class (exit-codes.ts).
 */
import { readFile, writeFile } from "node:fs/promises";
import { Command } from "commander";
import { codeName, contentFormatName, optionName, type CoapOption } from "@coaps-edge/shared";
import { CoapClient } from "../client/client.js";
import { CoapClientError } from "../client/errors.js";
import { ExitCode } from "./exit-codes.js";
import { createLogger, levelFromVerbosity } from "./logger.js";
import {
  UsageError,
  parseBlockArg,
  parseContentFormatArg,
  parseOptionArg,
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
  verbose?: string;
  token?: string;
  option?: string[];
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
    .option("-o, --output <file>", "write the response body to a file instead of stdout")
    .option("-v, --verbose <level>", "verbosity 0..9 (libcoap levels; 5+ prints the response header to stderr)")
    .option("-T, --token <token>", "token: up to 8 bytes of text, or 0x-prefixed hex")
    .option("-O, --option <num,value>", "add option num with a text (or 0x hex) value; repeatable", collect);
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
  } catch (e) {
    io.stderr.write(`coaps-edge: ${(e as Error).message}\n`);
    return ExitCode.Usage;
  }

  const log = createLogger(levelFromVerbosity(verbosity));
  // The DTLS seam: coaps:// URIs need `endpointFactory` here (a DTLS client endpoint built
  // from PSK/PKI flags such as coap-client's -u/-k); without one they exit 2 (unsupported-scheme).
  const client = new CoapClient();
  try {
    const res = await client.request({
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
    });
    log.debug({ code: res.codeText, bytes: res.payload.length, messages: res.messages }, "response");
    if (verbosity >= 5) {
      const name = codeName(res.code) ?? "";
      const opts = res.options.map((o) => `${optionName(o.number)}:${o.value.length}B`).join(" ");
      const ct = res.contentFormat === undefined ? "" : ` ct=${contentFormatName(res.contentFormat) ?? res.contentFormat}`;
      io.stderr.write(`${res.codeText} ${name}${ct} ${opts}\n`);
    }
    const cls = res.code >> 5;
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
    if (e instanceof CoapClientError) {
      io.stderr.write(`coaps-edge: ${e.message}\n`);
      if (e.code === "timeout") return ExitCode.Timeout;
      if (e.code === "bad-uri" || e.code === "bad-request" || e.code === "unsupported-scheme") return ExitCode.Usage;
      return ExitCode.Failure;
    }
    io.stderr.write(`coaps-edge: ${(e as Error).message}\n`);
    return ExitCode.Failure;
  } finally {
    await client.close();
  }
}

function write(stream: NodeJS.WritableStream, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => stream.write(data, (err) => (err ? reject(err) : resolve())));
}
