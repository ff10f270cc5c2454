/** Edge → cloud forwarding (DESIGN.md §3): HTTP and embedded forwarders, gateway tokens and key files. */
export type { CloudForwarder, ForwardFailure, ForwardFailureKind, ForwardRequest, ForwardResult, RegistryResult } from "./types.js";
export { HttpCloudForwarder, type HttpCloudForwarderOptions } from "./http.js";
export { EmbeddedCloudForwarder, type EmbeddedCloudForwarderOptions, type FetchApp } from "./embedded.js";
export { GatewayTokenSource, type GatewayTokenSourceOptions } from "./token-source.js";
export { DEFAULT_UNAVAILABLE_MAX_AGE_S, buildRequestEnvelope, failureResult, interpretAnswer, interpretRegistryAnswer, type CloudAnswer } from "./exchange.js";
export { GatewayKeyError, loadGatewayKey, newGatewayKeyFile, saveGatewayKey, type GatewayKeyErrorCode, type LoadGatewayKeyOptions } from "./gateway-key.js";
export { RegistryView, registryLinks, type RegistryLookup } from "./registry-view.js";
export { CloudRoutes, type CloudRoutesLogger, type CloudRoutesOptions, type CloudRoutesStats, type ForwardOutcomes } from "./cloud-routes.js";
export { isEndToEndOption, toForwardRequest, type CompleteRequest } from "./request.js";
export { EMBEDDED_GATEWAY_ID, forwarderFromConfig, type ConfiguredForwarder } from "./from-config.js";
