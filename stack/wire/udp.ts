/**
 * UDP datagrams (RFC 768) over IPv4, with the pseudo-header checksum of RFC 768 "Fields" and the
 * receive rules of RFC 1122 §4.1.3.4.
 *
 * Layout: source port (2) | destination port (2) | length (2, header included) | checksum (2) |
 * data.
 * @module
 */

import type { Ipv4Addr } from "./addr.ts";
import { finishChecksum, pseudoHeaderSum, sumWords } from "./checksum.ts";
import type { ParseResult } from "./result.ts";
import { readU16, writeU16 } from "./bytes.ts";

/** Byte offset of the source port. */
export const UDP_SOURCE_PORT_OFFSET = 0;
/** Byte offset of the destination port. */
export const UDP_DESTINATION_PORT_OFFSET = 2;
/** Byte offset of the length. */
export const UDP_LENGTH_OFFSET = 4;
/** Byte offset of the checksum. */
export const UDP_CHECKSUM_OFFSET = 6;
/** Length of the UDP header. */
export const UDP_HEADER_BYTES = 8;
/** The most data one UDP datagram carries over IPv4: 65535 - 20 (IP header) - 8. */
export const UDP_MAX_PAYLOAD_BYTES = 65507;

/** IP protocol number of UDP (IANA). */
const PROTOCOL_UDP = 17;

/**
 * A zero-copy view over a UDP datagram. Getters read and setters write `bytes` in place; setters do
 * not update the checksum (call {@link UdpDatagram.fillChecksum}).
 * @example
 * ```ts
 * const datagram = new UdpDatagram(new Uint8Array(8));
 * datagram.destinationPort = 53;
 * ```
 */
export class UdpDatagram {
  /** The bytes this view was made over (may extend beyond `length`). */
  readonly bytes: Uint8Array;

  /** Wraps `bytes` without copying or validating; use {@link parseUdp} for untrusted input. */
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** Source port (0 when no reply is expected, RFC 768). */
  get sourcePort(): number {
    return readU16(this.bytes, UDP_SOURCE_PORT_OFFSET);
  }
  set sourcePort(value: number) {
    writeU16(this.bytes, UDP_SOURCE_PORT_OFFSET, value);
  }

  /** Destination port. */
  get destinationPort(): number {
    return readU16(this.bytes, UDP_DESTINATION_PORT_OFFSET);
  }
  set destinationPort(value: number) {
    writeU16(this.bytes, UDP_DESTINATION_PORT_OFFSET, value);
  }

  /** Length of header plus data in bytes. */
  get length(): number {
    return readU16(this.bytes, UDP_LENGTH_OFFSET);
  }
  set length(value: number) {
    writeU16(this.bytes, UDP_LENGTH_OFFSET, value);
  }

  /** The checksum field as stored (0 means none was computed, RFC 768). */
  get checksum(): number {
    return readU16(this.bytes, UDP_CHECKSUM_OFFSET);
  }
  set checksum(value: number) {
    writeU16(this.bytes, UDP_CHECKSUM_OFFSET, value);
  }

  /** The data: `bytes[8..length]` (a subarray). */
  get payload(): Uint8Array {
    return this.bytes.subarray(UDP_HEADER_BYTES, this.length);
  }

  /** Whether the checksum verifies for the given pseudo-header addresses (a zero field passes). */
  verifyChecksum(source: Ipv4Addr, destination: Ipv4Addr): boolean {
    if (this.checksum === 0) return true;
    const length = this.length;
    const sum = sumWords(
      this.bytes.subarray(0, length),
      pseudoHeaderSum(source, destination, PROTOCOL_UDP, length),
    );
    return finishChecksum(sum) === 0;
  }

  /**
   * Computes and stores the checksum over the pseudo-header, header and data. A computed zero is
   * stored as 0xffff, since zero means "no checksum" (RFC 768).
   */
  fillChecksum(source: Ipv4Addr, destination: Ipv4Addr): void {
    const length = this.length;
    this.checksum = 0;
    const sum = sumWords(
      this.bytes.subarray(0, length),
      pseudoHeaderSum(source, destination, PROTOCOL_UDP, length),
    );
    this.checksum = finishChecksum(sum) || 0xffff;
  }
}

/** Options for {@link parseUdp}. */
export interface ParseUdpOptions {
  /** Verify a nonzero checksum (default true). */
  verifyChecksum?: boolean;
}

/**
 * Validates a UDP datagram (the IP payload) and returns a view over it: at least 8 bytes
 * (`truncated`), 8 <= length <= bytes.length (`bad-length`), and, if the checksum field is
 * nonzero, a checksum that verifies against the pseudo-header of `source`/`destination`
 * (`bad-checksum`; RFC 1122 §4.1.3.4 says to discard silently). A zero checksum means the sender
 * computed none (RFC 768) and is accepted. Bytes after `length` are ignored.
 * @example
 * ```ts
 * const source = 0x0a000001;
 * const destination = 0x0a000002;
 * const bytes = new Uint8Array(8);
 * const ports = { sourcePort: 40000, destinationPort: 53 };
 * emitUdp({ ...ports, payload: new Uint8Array() }, bytes, source, destination);
 * const result = parseUdp(bytes, source, destination);
 * if (result.ok) result.value.destinationPort; // 53
 * ```
 */
export function parseUdp(
  bytes: Uint8Array,
  source: Ipv4Addr,
  destination: Ipv4Addr,
  options?: ParseUdpOptions,
): ParseResult<UdpDatagram, "truncated" | "bad-length" | "bad-checksum"> {
  if (bytes.length < UDP_HEADER_BYTES) return { ok: false, reason: "truncated" };
  const datagram = new UdpDatagram(bytes);
  const length = datagram.length;
  if (length < UDP_HEADER_BYTES || length > bytes.length) {
    return { ok: false, reason: "bad-length" };
  }
  if ((options?.verifyChecksum ?? true) && !datagram.verifyChecksum(source, destination)) {
    return { ok: false, reason: "bad-checksum" };
  }
  return { ok: true, value: datagram };
}

/** The ports of a UDP header to emit, with the length of data already in place. */
export interface UdpHeader {
  /** Source port. */
  sourcePort: number;
  /** Destination port. */
  destinationPort: number;
  /** Length of the data already at `buf[8..8 + payloadLength]`. */
  payloadLength: number;
}

/**
 * Writes the header and checksum for data already in place at `buf[8..8 + payloadLength]` and
 * returns the datagram length. Saves a copy when the caller built the payload in the frame.
 * Throws a RangeError if `buf` is too short or the datagram would exceed 65535 - 20 bytes.
 * @example
 * ```ts
 * const data = new TextEncoder().encode("query");
 * const [source, destination] = [0x0a000001, 0x0a000002];
 * const buf = new Uint8Array(8 + data.length);
 * buf.set(data, 8);
 * const n = emitUdpHeader({ sourcePort: 5353, destinationPort: 53, payloadLength: data.length },
 *   buf, source, destination);
 * ```
 */
export function emitUdpHeader(
  header: UdpHeader,
  buf: Uint8Array,
  source: Ipv4Addr,
  destination: Ipv4Addr,
): number {
  checkUdpRoom(header.payloadLength, buf);
  const length = UDP_HEADER_BYTES + header.payloadLength;
  const datagram = new UdpDatagram(buf.subarray(0, length));
  datagram.sourcePort = header.sourcePort;
  datagram.destinationPort = header.destinationPort;
  datagram.length = length;
  datagram.fillChecksum(source, destination);
  return length;
}

/** A UDP datagram to emit. */
export interface UdpRepr {
  /** Source port. */
  sourcePort: number;
  /** Destination port. */
  destinationPort: number;
  /** Data, copied to `buf[8..]`. */
  payload: Uint8Array;
}

/**
 * Writes header, a copy of the payload and the checksum into `buf` and returns `8 + payload
 * length`. A computed checksum of 0 is sent as 0xffff (RFC 768). Throws a RangeError if `buf` is
 * too short or the payload exceeds {@link UDP_MAX_PAYLOAD_BYTES}.
 * @example
 * ```ts
 * const data = new TextEncoder().encode("query");
 * const [source, destination] = [0x0a000001, 0x0a000002];
 * const buf = new Uint8Array(8 + data.length);
 * emitUdp({ sourcePort: 40000, destinationPort: 53, payload: data }, buf, source, destination);
 * ```
 */
export function emitUdp(
  d: UdpRepr,
  buf: Uint8Array,
  source: Ipv4Addr,
  destination: Ipv4Addr,
): number {
  const header = {
    sourcePort: d.sourcePort,
    destinationPort: d.destinationPort,
    payloadLength: d.payload.length,
  };
  checkUdpRoom(header.payloadLength, buf);
  buf.set(d.payload, UDP_HEADER_BYTES);
  return emitUdpHeader(header, buf, source, destination);
}

function checkUdpRoom(payloadLength: number, buf: Uint8Array): void {
  if (!(payloadLength >= 0) || payloadLength > UDP_MAX_PAYLOAD_BYTES) {
    throw new RangeError(
      `Cannot emit UDP datagram: ${payloadLength} bytes of data exceed ${UDP_MAX_PAYLOAD_BYTES}`,
    );
  }
  const length = UDP_HEADER_BYTES + payloadLength;
  if (buf.length < length) {
    throw new RangeError(
      `Cannot emit UDP datagram: buffer has ${buf.length} bytes, need ${length}`,
    );
  }
}
