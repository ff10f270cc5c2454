/**
 * `coaps-edge keys --out FILE [--gateway-id ID] [--force]`: creates the gateway's Ed25519 key
 * file (forward/gateway-key.ts: {gatewayId, privateKey, publicKey}, mode 0600, never
 * overwritten without --force) and prints the public key, base64url, on stdout — nothing else,
 * so scripts can capture it. The cloud must trust it: the Worker reads `GATEWAY_KEYS`, a JSON
 * object {"<gateway id>": "<public key>"}, from its environment:
 *
 *   production  wrangler secret put GATEWAY_KEYS --env production -c infra/wrangler/wrangler.jsonc
 *               (paste {"gw-1":"<public key>"}; list every gateway of the deployment)
 *   local       npm run dev:cloud -- --var GATEWAY_KEYS:'{"gw-1":"<public key>"}'  (or .dev.vars)
 *
 * then run the agent with `--cloud URL --gateway-key FILE` (or cloud.keyFile in its config).
 * The gateway id defaults to the host name (reduced to the allowed characters A-Z a-z 0-9 . _ : -).
 */
import { hostname } from "node:os";
import { GatewayKeyError, newGatewayKeyFile, saveGatewayKey } from "../forward/gateway-key.js";
import { ExitCode } from "./exit-codes.js";
import type { CliIo } from "./request-command.js";

export interface KeysFlags {
  out?: string;
  gatewayId?: string;
  force?: boolean;
}

/** The default gateway id: the host name with other characters dropped (at most 128), or "gateway". */
export function defaultGatewayId(host = hostname()): string {
  const id = host.replace(/[^A-Za-z0-9._:-]/g, "").slice(0, 128);
  return id === "" ? "gateway" : id;
}

/** Writes the key file and prints the public key; returns the exit code. */
export async function runKeys(flags: KeysFlags, io: CliIo): Promise<number> {
  if (flags.out === undefined || flags.out === "") {
    io.stderr.write("coaps-edge: keys needs --out FILE\n");
    return ExitCode.Usage;
  }
  const gatewayId = flags.gatewayId ?? defaultGatewayId();
  let key;
  try {
    key = newGatewayKeyFile(gatewayId);
  } catch (e) {
    io.stderr.write(`coaps-edge: ${(e as Error).message} (1-128 of A-Z a-z 0-9 . _ : -)\n`);
    return ExitCode.Usage;
  }
  try {
    await saveGatewayKey(flags.out, key, { overwrite: flags.force === true });
  } catch (e) {
    if (e instanceof GatewayKeyError && e.code === "exists") {
      io.stderr.write(`coaps-edge: ${flags.out} exists; not overwriting a gateway key without --force\n`);
      return ExitCode.Failure;
    }
    io.stderr.write(`coaps-edge: ${(e as Error).message}\n`);
    return ExitCode.Failure;
  }
  io.stdout.write(`${key.publicKey}\n`);
  io.stderr.write(
    `wrote ${flags.out} (mode 0600) for gateway ${gatewayId}. Let the cloud trust it: GATEWAY_KEYS=${JSON.stringify({ [gatewayId]: key.publicKey })}\n`,
  );
  return ExitCode.Ok;
}
