/**
 * The gateway key file: the gateway's id and Ed25519 key pair as JSON, readable by its owner
 * only (mode 0600, like an ssh private key):
 *
 *     { "gatewayId": "gw-1", "privateKey": "<base64url 32-byte seed>", "publicKey": "<base64url>" }
 *
 * JSON rather than PEM: the cloud side wants the public key as base64url in GATEWAY_KEYS
 * anyway, and one file carries id and keys together. The public key is stored for the operator
 * (copy it into GATEWAY_KEYS) and checked against the private key on load.
 */
import { GatewayKeyFileSchema, gatewayPublicKey, generateGatewayKeyPair, type GatewayKeyFile } from "@coaps-edge/shared";
import { open, readFile, stat } from "node:fs/promises";

export type GatewayKeyErrorCode =
  /** the file does not exist or cannot be read */
  | "unreadable"
  /** group or others may read or write it (POSIX mode & 0o077) */
  | "insecure-permissions"
  /** not JSON, or not {gatewayId, privateKey, publicKey} */
  | "invalid"
  /** publicKey is not the public half of privateKey */
  | "key-mismatch"
  /** save: the file exists and overwrite was not asked for */
  | "exists";

export class GatewayKeyError extends Error {
  override readonly name = "GatewayKeyError";
  constructor(
    readonly code: GatewayKeyErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface LoadGatewayKeyOptions {
  /** Accept a file that group/others can access (e.g. a demo key checked out by git). Default false. */
  readonly allowInsecurePermissions?: boolean;
}

/** A new key file value for `gatewayId` (random key pair). */
export function newGatewayKeyFile(gatewayId: string): GatewayKeyFile {
  const parsed = GatewayKeyFileSchema.safeParse({ gatewayId, ...generateGatewayKeyPair() });
  if (!parsed.success) throw new GatewayKeyError("invalid", `invalid gateway id ${JSON.stringify(gatewayId)}`);
  return parsed.data;
}

/** Reads and checks a key file. Throws GatewayKeyError. */
export async function loadGatewayKey(path: string, options: LoadGatewayKeyOptions = {}): Promise<GatewayKeyFile> {
  let text: string;
  try {
    if (process.platform !== "win32" && !options.allowInsecurePermissions) {
      const { mode } = await stat(path);
      if ((mode & 0o077) !== 0) {
        throw new GatewayKeyError(
          "insecure-permissions",
          `${path} is accessible by group/others (mode ${(mode & 0o777).toString(8)}): chmod 600 it`,
        );
      }
    }
    text = await readFile(path, "utf8");
  } catch (err) {
    if (err instanceof GatewayKeyError) throw err;
    throw new GatewayKeyError("unreadable", `cannot read gateway key ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new GatewayKeyError("invalid", `${path} is not JSON`);
  }
  const parsed = GatewayKeyFileSchema.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join(".") || "(root)").join(", ");
    throw new GatewayKeyError("invalid", `${path}: bad ${fields} (want {gatewayId, privateKey, publicKey}, keys base64url)`);
  }
  if (gatewayPublicKey(parsed.data.privateKey) !== parsed.data.publicKey) {
    throw new GatewayKeyError("key-mismatch", `${path}: publicKey is not the public key of privateKey`);
  }
  return parsed.data;
}

/** Writes a key file with mode 0600 (created exclusively unless `overwrite`). Throws GatewayKeyError. */
export async function saveGatewayKey(path: string, key: GatewayKeyFile, options: { overwrite?: boolean } = {}): Promise<void> {
  const parsed = GatewayKeyFileSchema.safeParse(key);
  if (!parsed.success) throw new GatewayKeyError("invalid", "not a valid gateway key");
  if (gatewayPublicKey(key.privateKey) !== key.publicKey) throw new GatewayKeyError("key-mismatch", "publicKey is not the public key of privateKey");
  let handle;
  try {
    // The mode applies at creation, so the key is never readable by others, not even briefly.
    handle = await open(path, options.overwrite ? "w" : "wx", 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") throw new GatewayKeyError("exists", `${path} exists`);
    throw new GatewayKeyError("unreadable", `cannot write ${path}: ${(err as Error).message}`);
  }
  try {
    await handle.chmod(0o600); // an overwritten file keeps its old mode otherwise
    await handle.writeFile(JSON.stringify({ gatewayId: key.gatewayId, privateKey: key.privateKey, publicKey: key.publicKey }, null, 2) + "\n");
  } finally {
    await handle.close();
  }
}
