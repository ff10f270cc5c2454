/**
 * CoAP Content-Formats (RFC 7252 §12.3, IANA "CoAP Content-Formats" registry): the number carried
 * in the Content-Format and Accept options, and the media type it stands for. The common entries
 * are listed; any 16-bit number is still a valid Content-Format on the wire.
 */

/** Content-Format numbers by short name. */
export const ContentFormat = {
  text: 0,
  coseEncrypt0: 16,
  coseMac0: 17,
  coseSign1: 18,
  aceCbor: 19,
  gif: 21,
  jpeg: 22,
  png: 23,
  linkFormat: 40,
  xml: 41,
  octetStream: 42,
  exi: 47,
  json: 50,
  jsonPatch: 51,
  mergePatch: 52,
  cbor: 60,
  cwt: 61,
  multipartCore: 62,
  cborSeq: 63,
  coseEncrypt: 96,
  coseMac: 97,
  coseSign: 98,
  coseKey: 101,
  coseKeySet: 102,
  senmlJson: 110,
  sensmlJson: 111,
  senmlCbor: 112,
  sensmlCbor: 113,
  senmlExi: 114,
  sensmlExi: 115,
  coapGroupJson: 256,
  problemDetailsCbor: 257,
  pkixCert: 287,
  pkcs10: 286,
  pkcs8: 284,
  csrAttrs: 285,
  senmlXml: 310,
  sensmlXml: 311,
  senmlEtchJson: 320,
  senmlEtchCbor: 322,
  tdJson: 432,
  ocfCbor: 10000,
  lwm2mTlv: 11542,
  lwm2mJson: 11543,
  lwm2mCbor: 11544,
} as const;
export type ContentFormat = (typeof ContentFormat)[keyof typeof ContentFormat];

/** Media type (with parameters, as registered) of each listed Content-Format. */
const MEDIA_TYPES: ReadonlyMap<number, string> = new Map<number, string>([
  [0, "text/plain;charset=utf-8"],
  [16, 'application/cose;cose-type="cose-encrypt0"'],
  [17, 'application/cose;cose-type="cose-mac0"'],
  [18, 'application/cose;cose-type="cose-sign1"'],
  [19, "application/ace+cbor"],
  [21, "image/gif"],
  [22, "image/jpeg"],
  [23, "image/png"],
  [40, "application/link-format"],
  [41, "application/xml"],
  [42, "application/octet-stream"],
  [47, "application/exi"],
  [50, "application/json"],
  [51, "application/json-patch+json"],
  [52, "application/merge-patch+json"],
  [60, "application/cbor"],
  [61, "application/cwt"],
  [62, "application/multipart-core"],
  [63, "application/cbor-seq"],
  [96, 'application/cose;cose-type="cose-encrypt"'],
  [97, 'application/cose;cose-type="cose-mac"'],
  [98, 'application/cose;cose-type="cose-sign"'],
  [101, "application/cose-key"],
  [102, "application/cose-key-set"],
  [110, "application/senml+json"],
  [111, "application/sensml+json"],
  [112, "application/senml+cbor"],
  [113, "application/sensml+cbor"],
  [114, "application/senml-exi"],
  [115, "application/sensml-exi"],
  [256, "application/coap-group+json"],
  [257, "application/concise-problem-details+cbor"],
  [284, "application/pkcs8"],
  [285, "application/csrattrs"],
  [286, "application/pkcs10"],
  [287, "application/pkix-cert"],
  [310, "application/senml+xml"],
  [311, "application/sensml+xml"],
  [320, "application/senml-etch+json"],
  [322, "application/senml-etch+cbor"],
  [432, "application/td+json"],
  [10000, "application/vnd.ocf+cbor"],
  [11542, "application/vnd.oma.lwm2m+tlv"],
  [11543, "application/vnd.oma.lwm2m+json"],
  [11544, "application/vnd.oma.lwm2m+cbor"],
]);

/** Extra names accepted by `contentFormatFromName`, as coap-client's -t/-A take them. */
const ALIASES: Readonly<Record<string, number>> = {
  "text/plain": 0,
  plain: 0,
  link: 40,
  "link-format": 40,
  binary: 42,
  "octet-stream": 42,
  "json-patch": 51,
  "merge-patch": 52,
  "senml+json": 110,
  "sensml+json": 111,
  "senml+cbor": 112,
  "sensml+cbor": 113,
};

const BY_NAME: ReadonlyMap<string, number> = (() => {
  const m = new Map<string, number>();
  for (const [id, type] of MEDIA_TYPES) m.set(normalise(type), id);
  for (const [key, id] of Object.entries(ContentFormat)) m.set(key.toLowerCase(), id);
  for (const [alias, id] of Object.entries(ALIASES)) m.set(alias, id);
  return m;
})();

/** Lower-case, with the blanks around ";" and "=" that media types may carry removed. */
function normalise(s: string): string {
  return s.trim().toLowerCase().replace(/\s*([;=])\s*/g, "$1");
}

/** The registered media type of a Content-Format ("application/json" for 50), or undefined. */
export function contentFormatName(n: number): string | undefined {
  return MEDIA_TYPES.get(n);
}

/**
 * A Content-Format number from a media type ("application/json"), a short name ("json",
 * "linkFormat", "link", "octet-stream", case-insensitive) or a decimal number 0..65535 ("50"),
 * like coap-client's -t. Undefined when not recognised.
 */
export function contentFormatFromName(name: string): number | undefined {
  const t = name.trim();
  if (/^[0-9]+$/.test(t)) {
    const n = Number(t);
    return n <= 0xffff ? n : undefined;
  }
  return BY_NAME.get(normalise(t));
}
