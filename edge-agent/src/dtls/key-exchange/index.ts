/** Key exchanges by name (issue 4 adds "ecdhe_ecdsa"). */
import type { KeyExchangeName } from "../suites/cipher-suites.js";
import { pskKeyExchange } from "./psk.js";
import type { KeyExchange } from "./types.js";

const modules: Partial<Record<KeyExchangeName, KeyExchange>> = { psk: pskKeyExchange };

export function keyExchangeFor(name: KeyExchangeName): KeyExchange | undefined {
  return modules[name];
}

export type { KeyExchange } from "./types.js";
export { pskKeyExchange, pskPreMasterSecret, pskTable, type PskClientCredentials, type PskServerCredentials } from "./psk.js";
