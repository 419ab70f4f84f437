/**
 * ICMP messages for IPv4 (RFC 792), with the "fragmentation needed" next-hop MTU of RFC 1191 §4
 * and the error quoting rule of RFC 1812 §4.3.2.3.
 *
 * Layout: type (1) | code (1) | checksum (2) | 4 type-specific bytes | data.
 * - Echo / echo reply: identifier (2) | sequence (2) | data.
 * - Destination unreachable / time exceeded: unused (4, or unused (2) | next-hop MTU (2) for
 *   type 3 code 4) | the offending IP header and at least its first 8 data bytes.
 * - Parameter problem: pointer (1) | unused (3) | quoted datagram.
 * @module
 */

import { internetChecksum } from "./checksum.ts";
import type { ParseResult } from "./result.ts";
import { readU16, writeU16 } from "./bytes.ts";

/** Byte offset of the type. */
export const ICMP_TYPE_OFFSET = 0;
/** Byte offset of the code. */
export const ICMP_CODE_OFFSET = 1;
/** Byte offset of the checksum. */
export const ICMP_CHECKSUM_OFFSET = 2;
/** Byte offset of the echo identifier. */
export const ICMP_IDENTIFIER_OFFSET = 4;
/** Byte offset of the echo sequence number. */
export const ICMP_SEQUENCE_OFFSET = 6;
/** Byte offset of the parameter problem pointer (RFC 792). */
export const ICMP_POINTER_OFFSET = 4;
/** Byte offset of the next-hop MTU in "fragmentation needed" (RFC 1191 §4). */
export const ICMP_NEXT_HOP_MTU_OFFSET = 6;
/** Length of the fixed ICMP header (type, code, checksum and the 4 type-specific bytes). */
export const ICMP_HEADER_BYTES = 8;
/**
 * The most datagram bytes an error quotes: RFC 1812 §4.3.2.3 keeps the whole ICMP error datagram
 * within 576 bytes, so 576 - 20 (IP header) - 8 (ICMP header).
 */
export const ICMP_ERROR_MAX_QUOTE_BYTES = 548;

/** ICMP message types we handle (RFC 792). Unknown types are kept as plain numbers. */
export const IcmpType = {
  EchoReply: 0,
  DestinationUnreachable: 3,
  EchoRequest: 8,
  TimeExceeded: 11,
  ParameterProblem: 12,
} as const;

/** Codes of destination unreachable (RFC 792; code 4 carries an MTU per RFC 1191). */
export const IcmpUnreachableCode = {
  Net: 0,
  Host: 1,
  Protocol: 2,
  Port: 3,
  FragmentationNeeded: 4,
} as const;

/** Codes of time exceeded (RFC 792). */
export const IcmpTimeExceededCode = { TtlExceeded: 0, ReassemblyTimeout: 1 } as const;

/**
 * A zero-copy view over an ICMP message. Getters read and setters write `bytes` in place; setters
 * do not update the checksum (call {@link IcmpPacket.fillChecksum}). The checksum covers the whole
 * message, so the view spans exactly the message (the IP payload).
 * @example
 * ```ts
 * const packet = new IcmpPacket(new Uint8Array(8));
 * packet.type = IcmpType.EchoReply;
 * packet.fillChecksum();
 * ```
 */
export class IcmpPacket {
  /** The whole message. */
  readonly bytes: Uint8Array;

  /** Wraps `bytes` without copying or validating; use {@link parseIcmp} for untrusted input. */
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** Message type (see {@link IcmpType}). */
  get type(): number {
    return this.bytes[ICMP_TYPE_OFFSET];
  }
  set type(value: number) {
    this.bytes[ICMP_TYPE_OFFSET] = value;
  }

  /** Message code. */
  get code(): number {
    return this.bytes[ICMP_CODE_OFFSET];
  }
  set code(value: number) {
    this.bytes[ICMP_CODE_OFFSET] = value;
  }

  /** The checksum field as stored. */
  get checksum(): number {
    return readU16(this.bytes, ICMP_CHECKSUM_OFFSET);
  }
  set checksum(value: number) {
    writeU16(this.bytes, ICMP_CHECKSUM_OFFSET, value);
  }

  /** Echo identifier (bytes 4..6; meaningful for echo and echo reply). */
  get identifier(): number {
    return readU16(this.bytes, ICMP_IDENTIFIER_OFFSET);
  }
  set identifier(value: number) {
    writeU16(this.bytes, ICMP_IDENTIFIER_OFFSET, value);
  }

  /** Echo sequence number (bytes 6..8; meaningful for echo and echo reply). */
  get sequence(): number {
    return readU16(this.bytes, ICMP_SEQUENCE_OFFSET);
  }
  set sequence(value: number) {
    writeU16(this.bytes, ICMP_SEQUENCE_OFFSET, value);
  }

  /** Next-hop MTU (bytes 6..8; meaningful for type 3 code 4, RFC 1191 §4; else 0). */
  get nextHopMtu(): number {
    return readU16(this.bytes, ICMP_NEXT_HOP_MTU_OFFSET);
  }
  set nextHopMtu(value: number) {
    writeU16(this.bytes, ICMP_NEXT_HOP_MTU_OFFSET, value);
  }

  /** Parameter problem pointer (byte 4): the octet of the quoted header where the error is. */
  get pointer(): number {
    return this.bytes[ICMP_POINTER_OFFSET];
  }
  set pointer(value: number) {
    this.bytes[ICMP_POINTER_OFFSET] = value;
  }

  /** Everything from byte 8: echo data, or the quoted datagram of an error (a subarray). */
  get payload(): Uint8Array {
    return this.bytes.subarray(ICMP_HEADER_BYTES);
  }

  /** Whether the checksum over the whole message verifies. */
  verifyChecksum(): boolean {
    return internetChecksum(this.bytes) === 0;
  }

  /** Computes and stores the checksum over the whole message (RFC 792: zero while summing). */
  fillChecksum(): void {
    this.checksum = 0;
    this.checksum = internetChecksum(this.bytes);
  }
}

/**
 * Validates an ICMP message (the IP payload, exactly) and returns a view over it: at least 8 bytes
 * (`truncated`) and a checksum over the whole message that verifies (`bad-checksum`). Types and
 * codes are not interpreted here; unknown ones are the caller's to count.
 * @example
 * ```ts
 * const bytes = new Uint8Array(8);
 * const echo = { type: IcmpType.EchoRequest, identifier: 7, sequence: 1 };
 * emitIcmpEcho({ ...echo, data: new Uint8Array() }, bytes);
 * const result = parseIcmp(bytes);
 * if (result.ok && result.value.type === IcmpType.EchoRequest) result.value.identifier; // 7
 * ```
 */
export function parseIcmp(
  bytes: Uint8Array,
): ParseResult<IcmpPacket, "truncated" | "bad-checksum"> {
  if (bytes.length < ICMP_HEADER_BYTES) return { ok: false, reason: "truncated" };
  if (internetChecksum(bytes) !== 0) return { ok: false, reason: "bad-checksum" };
  return { ok: true, value: new IcmpPacket(bytes) };
}

/** An echo request or reply to emit. */
export interface IcmpEcho {
  /** {@link IcmpType.EchoRequest} or {@link IcmpType.EchoReply}. */
  type: number;
  /** Identifier (RFC 792: matches replies to requests). */
  identifier: number;
  /** Sequence number. */
  sequence: number;
  /** Echo data, returned unchanged by the replier (RFC 792). */
  data: Uint8Array;
}

/**
 * Writes an echo message (code 0) with its checksum into `buf` and returns its length,
 * `8 + data.length`. Throws a RangeError if `buf` is too short.
 * @example
 * ```ts
 * const data = new TextEncoder().encode("hello");
 * const buf = new Uint8Array(64);
 * const n = emitIcmpEcho({ type: IcmpType.EchoRequest, identifier: 1, sequence: 1, data }, buf);
 * // n === 13
 * ```
 */
export function emitIcmpEcho(echo: IcmpEcho, buf: Uint8Array): number {
  const length = ICMP_HEADER_BYTES + echo.data.length;
  if (buf.length < length) {
    throw new RangeError(`Cannot emit ICMP echo: buffer has ${buf.length} bytes, need ${length}`);
  }
  const packet = new IcmpPacket(buf.subarray(0, length));
  packet.type = echo.type;
  packet.code = 0;
  packet.identifier = echo.identifier;
  packet.sequence = echo.sequence;
  buf.set(echo.data, ICMP_HEADER_BYTES);
  packet.fillChecksum();
  return length;
}

/** An ICMP error message to emit. */
export interface IcmpError {
  /** {@link IcmpType.DestinationUnreachable}, TimeExceeded or ParameterProblem. */
  type: number;
  /** Code for that type. */
  code: number;
  /** Next-hop MTU for type 3 code 4 (RFC 1191 §4); default 0. */
  nextHopMtu?: number;
  /** Pointer for parameter problem (RFC 792); default 0. */
  pointer?: number;
  /**
   * The offending datagram's IP header and at least its first 8 data bytes (RFC 792); RFC 1812
   * §4.3.2.3 allows up to {@link ICMP_ERROR_MAX_QUOTE_BYTES}. See {@link quoteForIcmpError}.
   */
  quoted: Uint8Array;
}

/**
 * Writes an error message (unused bytes zero, next-hop MTU or pointer when given, quoted datagram)
 * with its checksum into `buf` and returns its length, `8 + quoted.length`. Throws a RangeError if
 * `buf` is too short.
 * @example
 * ```ts
 * const offendingPacket = new Uint8Array(28); // IP header + 8 bytes of the datagram
 * const buf = new Uint8Array(8 + 28);
 * const n = emitIcmpError({
 *   type: IcmpType.DestinationUnreachable,
 *   code: IcmpUnreachableCode.Port,
 *   quoted: quoteForIcmpError(offendingPacket),
 * }, buf);
 * ```
 */
export function emitIcmpError(error: IcmpError, buf: Uint8Array): number {
  const length = ICMP_HEADER_BYTES + error.quoted.length;
  if (buf.length < length) {
    throw new RangeError(`Cannot emit ICMP error: buffer has ${buf.length} bytes, need ${length}`);
  }
  const packet = new IcmpPacket(buf.subarray(0, length));
  packet.type = error.type;
  packet.code = error.code;
  buf.fill(0, ICMP_IDENTIFIER_OFFSET, ICMP_HEADER_BYTES);
  if (error.pointer !== undefined) packet.pointer = error.pointer;
  if (error.nextHopMtu !== undefined) packet.nextHopMtu = error.nextHopMtu;
  buf.set(error.quoted, ICMP_HEADER_BYTES);
  packet.fillChecksum();
  return length;
}

/**
 * The part of an offending IP datagram (header first) that an error should quote: as much as fits
 * in a 576-byte error datagram (RFC 1812 §4.3.2.3), which always includes the header and the first
 * 8 data bytes RFC 792 requires. Returns a subarray of `datagram`.
 */
export function quoteForIcmpError(datagram: Uint8Array): Uint8Array {
  return datagram.subarray(0, Math.min(datagram.length, ICMP_ERROR_MAX_QUOTE_BYTES));
}
