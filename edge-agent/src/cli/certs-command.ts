/**
 * `coaps-edge certs --out DIR [--devices N | --device CN ...] [--intermediate] [--days N] [--force]`:
 * a test PKI as PEM files (EC P-256), so nobody needs openssl incantations: a CA, a server
 * certificate for localhost / 127.0.0.1 / ::1, and device certificates (pki/generate.ts).
 *
 *   DIR/ca.crt ca.key                     the CA (give ca.crt to -C on both sides)
 *   DIR/intermediate.crt .key             with --intermediate (leaves are issued by it)
 *   DIR/server.crt server.key             for `coaps-edge agent -c … -j …` or coap-server
 *   DIR/device-001.crt device-001.key …   for coap-client / `coaps-edge get -c … -j …`
 *
 * Keys are written 0600, the directory 0700. Existing files are kept unless --force.
 */
import { join } from "node:path";
import { PkiError, generateTestPki, writeTestPki } from "../pki/index.js";
import { ExitCode } from "./exit-codes.js";
import { UsageError } from "./parse-args.js";
import type { CliIo } from "./request-command.js";

interface CertsFlags {
  out?: string;
  devices?: string;
  device?: string[];
  intermediate?: boolean;
  days?: string;
  force?: boolean;
}

function positiveInt(text: string, flag: string, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) throw new UsageError(`${flag} expects a number 1..${max}, got "${text}"`);
  return Number(text);
}

/** Writes the test PKI; returns the exit code. */
export async function runCerts(flags: CertsFlags, io: CliIo): Promise<number> {
  let devices: number | string[];
  let days: number | undefined;
  try {
    if (flags.out === undefined || flags.out === "") throw new UsageError("--out DIR is required");
    if (flags.device !== undefined && flags.devices !== undefined) throw new UsageError("--devices and --device are exclusive");
    devices = flags.device ?? (flags.devices === undefined ? 1 : positiveInt(flags.devices, "--devices", 1000));
    for (const cn of Array.isArray(devices) ? devices : []) {
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(cn)) throw new UsageError(`--device: "${cn}" must be 1-64 of A-Z a-z 0-9 . _ - (it names the files)`);
    }
    if (flags.days !== undefined) days = positiveInt(flags.days, "--days", 36500);
  } catch (e) {
    io.stderr.write(`coaps-edge: ${(e as Error).message}\n`);
    return ExitCode.Usage;
  }
  const dir = flags.out;
  try {
    const pki = generateTestPki({ devices, intermediate: flags.intermediate === true, ...(days !== undefined ? { days } : {}) });
    const written = writeTestPki(pki, dir, { overwrite: flags.force === true });
    io.stdout.write(`${written.files.join("\n")}\n`);
    const device = pki.devices[0]?.commonName ?? "device-001";
    io.stderr.write(
      [
        `test PKI in ${dir} (P-256; keys 0600). Try:`,
        `  coaps-edge agent -c ${join(dir, "server.crt")} -j ${join(dir, "server.key")} -C ${join(dir, "ca.crt")}`,
        `  coap-client-openssl -B 5 -c ${join(dir, `${device}.crt`)} -j ${join(dir, `${device}.key`)} -C ${join(dir, "ca.crt")} coaps://127.0.0.1/hello`,
        "",
      ].join("\n"),
    );
    return ExitCode.Ok;
  } catch (e) {
    io.stderr.write(`coaps-edge: ${(e as Error).message}\n`);
    return e instanceof PkiError && e.code === "file-exists" ? ExitCode.Usage : ExitCode.Failure;
  }
}
