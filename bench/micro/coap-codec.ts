/**
 * CoAP codec micro-benchmark (shared/src/coap): encode and decode of the request and response
 * the load workloads exchange, and the generator's template path for comparison.
 * Run alone: node --import tsx bench/micro/coap-codec.ts [seconds-per-case]
 */
import { ContentFormat, decodeMessage, encodeMessage, MessageType, Method, OptionNumber, uintOption, uriPathOptions, utf8Encode, type CoapMessage } from "@coaps-edge/shared";
import { GetTemplate } from "../load/wire.js";
import { microTable, runCases, type MicroCase } from "./measure.js";

const request: CoapMessage = {
  type: MessageType.CON,
  code: Method.GET,
  messageId: 0x1234,
  token: Uint8Array.of(0x12, 0x34),
  options: uriPathOptions("hello"),
  payload: new Uint8Array(0),
};
const response: CoapMessage = {
  type: MessageType.ACK,
  code: 0x45,
  messageId: 0x1234,
  token: Uint8Array.of(0x12, 0x34),
  options: [uintOption(OptionNumber.ContentFormat, ContentFormat.text)],
  payload: utf8Encode("Hello from coaps-edge"),
};
const requestBytes = encodeMessage(request);
const responseBytes = encodeMessage(response);
const template = new GetTemplate("hello");
let mid = 0;

export function codecCases(): MicroCase[] {
  return [
    { group: "coap", name: "encode GET /hello", fn: () => encodeMessage(request), note: `${requestBytes.length}-byte CON GET, 2-byte token` },
    { group: "coap", name: "decode GET /hello", fn: () => decodeMessage(requestBytes) },
    { group: "coap", name: "encode 2.05 response", fn: () => encodeMessage(response), note: `${responseBytes.length}-byte ACK 2.05, Content-Format, 21-byte payload` },
    { group: "coap", name: "decode 2.05 response", fn: () => decodeMessage(responseBytes) },
    { group: "coap", name: "generator GET template", fn: () => template.next((mid = (mid + 1) & 0xffff)), note: "copy + patch ID/token (bench/load/wire.ts)" },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(microTable(runCases(codecCases(), Number(process.argv[2] ?? 1))));
