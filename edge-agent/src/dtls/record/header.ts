/**
 * The DTLS record header (RFC 6347 §4.1):
 *
 *   struct {
 *        ContentType type;
 *        ProtocolVersion version;
 *        uint16 epoch;                                     // New field
 *        uint48 sequence_number;                           // New field
 *        uint16 length;
 *        opaque fragment[DTLSPlaintext.length];
 *      } DTLSPlaintext;
 *
 * Several records may share one datagram (§4.1.1); a record never spans datagrams.
 */
import { ByteReader, DecodeError, type ByteWriter } from "../codec/bytes.js";
import { MAX_CIPHERTEXT, RECORD_HEADER_LENGTH } from "../constants.js";

export interface RecordHeader {
  readonly type: number;
  readonly version: number;
  readonly epoch: number;
  /** 48-bit sequence number (exact as a number). */
  readonly sequence: number;
  readonly length: number;
}

export interface RawRecord {
  readonly header: RecordHeader;
  /** A view into the datagram: copy before keeping it. */
  readonly fragment: Uint8Array;
}

export function encodeRecordHeader(w: ByteWriter, h: RecordHeader): void {
  w.u8(h.type).u16(h.version).u16(h.epoch).u48(h.sequence).u16(h.length);
}

export function decodeRecordHeader(r: ByteReader): RecordHeader {
  const type = r.u8("record type");
  const version = r.u16("record version");
  const epoch = r.u16("record epoch");
  const sequence = r.u48("record sequence number");
  const length = r.u16("record length");
  // Every DTLS version has 0xFE as its major byte (RFC 6347 §4.1: 1's complement of 1.x).
  if (version >>> 8 !== 0xfe) throw new DecodeError(`not a DTLS record version: 0x${version.toString(16)}`);
  if (length > MAX_CIPHERTEXT) throw new DecodeError(`record length ${length} exceeds 2^14 + 2048`);
  return { type, version, epoch, sequence, length };
}

/**
 * The next record of a datagram read by `r`, or undefined when none can be delimited there: a
 * malformed header, or a length that runs past the datagram (what follows cannot be read either).
 * A receiver walks a datagram with it record by record, without collecting them (issue 7).
 */
export function decodeRecord(r: ByteReader): RawRecord | undefined {
  if (r.remaining < RECORD_HEADER_LENGTH) return undefined;
  try {
    const header = decodeRecordHeader(r);
    return { header, fragment: r.bytes(header.length, "record fragment") };
  } catch {
    return undefined;
  }
}

/**
 * Splits one datagram into its records. A malformed header or a length that runs past the
 * datagram ends the walk (what follows cannot be delimited); the records before it stand.
 */
export function splitRecords(datagram: Uint8Array): { records: RawRecord[]; malformed: boolean } {
  const records: RawRecord[] = [];
  const r = new ByteReader(datagram);
  while (r.remaining > 0) {
    const record = decodeRecord(r);
    if (!record) return { records, malformed: true };
    records.push(record);
  }
  return { records, malformed: false };
}
