// Loads the CoAP JSON vectors under test/vectors/coap/ and converts their hex/text fields.
import { readFileSync } from "node:fs";
import type { CoapMessage, CoapOption, MessageType } from "@coaps-edge/shared";

const DIR = new URL("../vectors/coap/", import.meta.url);

/** Parsed JSON of test/vectors/coap/<name>. */
export function loadVectors<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, DIR), "utf8")) as T;
}

export function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, "hex"));
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString("hex");
}

export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

interface JsonOption {
  number: number;
  text?: string;
  hex?: string;
}

export interface JsonMessage {
  type: number;
  code: number;
  messageId: number;
  token: string;
  options: JsonOption[];
  payload?: string;
  payloadText?: string;
}

/** A CoapMessage from a vector's JSON form (token/payload/option hex, or text for UTF-8). */
export function messageFromJson(m: JsonMessage): CoapMessage {
  const options: CoapOption[] = m.options.map((o) => ({
    number: o.number,
    value: o.text !== undefined ? utf8(o.text) : hex(o.hex ?? ""),
  }));
  return {
    type: m.type as MessageType,
    code: m.code,
    messageId: m.messageId,
    token: hex(m.token),
    options,
    payload: m.payloadText !== undefined ? utf8(m.payloadText) : hex(m.payload ?? ""),
  };
}
