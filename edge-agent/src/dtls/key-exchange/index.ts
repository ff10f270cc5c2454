/** Key exchanges by name: one module each. */
import type { KeyExchangeName } from "../suites/cipher-suites.js";
import { ecdheEcdsaKeyExchange } from "./ecdhe-ecdsa.js";
import { pskKeyExchange } from "./psk.js";
import type { KeyExchange } from "./types.js";

const modules: Record<KeyExchangeName, KeyExchange> = { psk: pskKeyExchange, ecdhe_ecdsa: ecdheEcdsaKeyExchange };

export function keyExchangeFor(name: KeyExchangeName): KeyExchange | undefined {
  return modules[name];
}

export type { KeyExchange } from "./types.js";
export { pskKeyExchange, pskPreMasterSecret, pskTable, type PskClientCredentials, type PskServerCredentials } from "./psk.js";
export { ecdheEcdsaKeyExchange, type EcdheState } from "./ecdhe-ecdsa.js";
export {
  resolveClientPki,
  resolveServerPki,
  type ClientPkiConfig,
  type DtlsClientPki,
  type DtlsServerPki,
  type ServerPkiConfig,
} from "./pki-options.js";
