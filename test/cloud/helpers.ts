// Test helpers for the cloud app: envelopes, tokens, and calling POST /v1/coap in process.
import {
  createGatewayToken,
  decodeBase64,
  encodeBase64,
  generateGatewayKeyPair,
  type RequestEnvelope,
  type ResponseEnvelope,
} from "@coaps-edge/shared";
import type { Hono } from "hono";
import type { CloudEnv } from "@coaps-edge/cloud/lib";

export const GATEWAY_ID = "gw-test";
export const gatewayKeys = generateGatewayKeyPair();
export const ENV = { GATEWAY_KEYS: JSON.stringify({ [GATEWAY_ID]: gatewayKeys.publicKey }) };

export const utf8 = (s: string) => new TextEncoder().encode(s);
export const text = (b64: string) => Buffer.from(decodeBase64(b64) ?? new Uint8Array(0)).toString("utf8");

export function token(nowMs = Date.now(), gatewayId = GATEWAY_ID, privateKey = gatewayKeys.privateKey): string {
  return createGatewayToken({ gatewayId, privateKey, nowMs });
}

export interface EnvelopeInput {
  method?: RequestEnvelope["method"];
  path?: string;
  query?: string[];
  payload?: Uint8Array | string;
  contentFormat?: number;
  accept?: number;
  peer?: Partial<RequestEnvelope["peer"]>;
  options?: RequestEnvelope["options"];
  gatewayId?: string;
}

export function envelope(input: EnvelopeInput = {}): RequestEnvelope {
  const payload = typeof input.payload === "string" ? utf8(input.payload) : (input.payload ?? new Uint8Array(0));
  return {
    version: 1,
    requestId: "req-1",
    gatewayId: input.gatewayId ?? GATEWAY_ID,
    receivedAt: 1767225600000,
    peer: { address: "fd00::1", port: 49152, auth: "psk", identity: "demo", ...input.peer },
    method: input.method ?? "GET",
    uriPath: (input.path ?? "/hello").split("/").filter((s) => s !== ""),
    uriQuery: input.query ?? [],
    options: input.options ?? [],
    ...(input.contentFormat !== undefined && { contentFormat: input.contentFormat }),
    ...(input.accept !== undefined && { accept: input.accept }),
    payload: encodeBase64(payload),
  };
}

/** POST /v1/coap with a fresh valid token; returns the HTTP status and the parsed body. */
export async function coap(
  app: Hono<CloudEnv>,
  input: EnvelopeInput | RequestEnvelope,
  env: Record<string, unknown> = ENV,
  authorization = `Bearer ${token()}`,
): Promise<{ status: number; body: ResponseEnvelope & { error?: string; message?: string } }> {
  const env0 = "version" in input ? input : envelope(input);
  const res = await app.request("/v1/coap", { method: "POST", headers: { authorization, "content-type": "application/json" }, body: JSON.stringify(env0) }, env);
  return { status: res.status, body: (await res.json()) as ResponseEnvelope & { error?: string } };
}
