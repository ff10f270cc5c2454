/**
 * Gateway identity: the id a gateway signs its tokens as, and its Ed25519 keys (DESIGN.md §3).
 * Keys are base64url without padding (RFC 4648 §5): 32-byte seed (RFC 8032 §5.1.5 private key)
 * and 32-byte public key.
 *
 * Gateway key file (JSON, mode 0600 on the gateway):
 *
 *     { "gatewayId": "gw-1", "privateKey": "<43 chars>", "publicKey": "<43 chars>" }
 *
 * The cloud holds the public half in its `GATEWAY_KEYS` variable: `{"gw-1": "<publicKey>"}`.
 */
import * as z from "zod/mini";
import { decodeBase64Url } from "./base64.js";

/** Letters, digits, `.`, `_`, `-`, `:`; 1..128 characters. */
export const GatewayIdSchema = z.string().check(z.regex(/^[A-Za-z0-9._:-]{1,128}$/, "1-128 of A-Z a-z 0-9 . _ : -"));

/** 32 bytes as unpadded base64url: an Ed25519 seed or public key. */
export const Ed25519KeySchema = z.string().check(
  z.refine((s) => decodeBase64Url(s)?.length === 32, "32 bytes of unpadded base64url"),
);

export const GatewayKeyFileSchema = z.object({
  gatewayId: GatewayIdSchema,
  privateKey: Ed25519KeySchema,
  publicKey: Ed25519KeySchema,
});
export type GatewayKeyFile = z.infer<typeof GatewayKeyFileSchema>;

/** `GATEWAY_KEYS` in the Worker environment: gateway id → public key. */
export const GatewayKeysSchema = z.record(GatewayIdSchema, Ed25519KeySchema);
export type GatewayKeys = z.infer<typeof GatewayKeysSchema>;
