/**
 * The forwarder a config's `cloud` section asks for (shared/src/schemas/config.ts):
 *
 *   remote                 HttpCloudForwarder to cloud.url, signing with cloud.keyFile (mode 0600)
 *   embedded + keyFile     the cloud app in process, signing with that key
 *   embedded (the default) the cloud app in process with a throwaway in-memory key: the app's
 *                          GATEWAY_KEYS is derived from the same key, so nothing is configured
 *                          and no private key sits on disk (the demo key in infra/wrangler is
 *                          for `npm run dev:cloud`, not for this)
 *
 * The cloud package is loaded only in embedded mode (a dynamic import), so a gateway forwarding
 * to a remote Worker never loads the cloud app and its dependencies.
 */
import { generateGatewayKeyPair, type AgentConfig } from "@coaps-edge/shared";
import { EmbeddedCloudForwarder } from "./embedded.js";
import { GatewayKeyError, loadGatewayKey } from "./gateway-key.js";
import { HttpCloudForwarder } from "./http.js";
import type { CloudForwarder } from "./types.js";

/** The gateway id of an embedded cloud without a key file. */
export const EMBEDDED_GATEWAY_ID = "embedded";

export interface ConfiguredForwarder {
  readonly forwarder: CloudForwarder;
  readonly mode: AgentConfig["cloud"]["mode"];
  readonly gatewayId: string;
  /** The public key the cloud must trust (base64url). */
  readonly publicKey: string;
  /** Set when the configured gateway id differs from the key file's (the configured one is used). */
  readonly warning?: string;
}

/** Builds the forwarder of `cloud`. Throws GatewayKeyError (key file), TypeError/RangeError (url, id). */
export async function forwarderFromConfig(cloud: AgentConfig["cloud"]): Promise<ConfiguredForwarder> {
  let gatewayId: string;
  let privateKey: string;
  let warning: string | undefined;
  if (cloud.keyFile !== undefined) {
    const file = await loadGatewayKey(cloud.keyFile);
    gatewayId = cloud.gatewayId ?? file.gatewayId;
    privateKey = file.privateKey;
    if (gatewayId !== file.gatewayId) {
      warning = `gateway id ${gatewayId} (configured) differs from ${file.gatewayId} in ${cloud.keyFile}: GATEWAY_KEYS must list ${gatewayId}`;
    }
  } else if (cloud.mode === "remote") {
    throw new GatewayKeyError("unreadable", "remote cloud mode needs a gateway key file (cloud.keyFile / --gateway-key)");
  } else {
    gatewayId = cloud.gatewayId ?? EMBEDDED_GATEWAY_ID;
    privateKey = generateGatewayKeyPair().privateKey;
  }

  if (cloud.mode === "remote") {
    if (cloud.url === undefined) throw new TypeError("remote cloud mode needs cloud.url (--cloud URL)");
    const forwarder = new HttpCloudForwarder({
      url: cloud.url,
      gatewayId,
      gatewayKey: privateKey,
      timeoutMs: cloud.timeoutMs,
      maxConcurrent: cloud.maxConcurrent,
      unavailableMaxAge: cloud.unavailableMaxAge,
    });
    return { forwarder, mode: "remote", gatewayId, publicKey: forwarder.publicKey, ...(warning !== undefined && { warning }) };
  }
  const { createDefaultCloudApp } = await import("@coaps-edge/cloud/lib");
  const forwarder = new EmbeddedCloudForwarder({
    app: createDefaultCloudApp(),
    gatewayId,
    gatewayKey: privateKey,
    timeoutMs: cloud.timeoutMs,
  });
  return { forwarder, mode: "embedded", gatewayId, publicKey: forwarder.publicKey, ...(warning !== undefined && { warning }) };
}
