/**
 * IPv4 headers (RFC 791 §3.1), with the header checksum of RFC 791 §3.1 / RFC 1071.
 *
 * Layout: version+IHL (1) | type of service (1) | total length (2) | identification (2) |
 * flags+fragment offset (2) | TTL (1) | protocol (1) | header checksum (2) | source (4) |
 * destination (4) | options (IHL*4 - 20) | data.
 * @module
 */

import { type Ipv4Addr, readIpv4, writeIpv4 } from "./addr.ts";
import { internetChecksum } from "./checksum.ts";
import type { ParseResult } from "./result.ts";
import { readU16, writeU16 } from "./bytes.ts";

/** Byte offset of version (high nibble) and IHL (low nibble). */
export const IPV4_VERSION_IHL_OFFSET = 0;
/** Byte offset of the type of service (DSCP/ECN, RFC 2474 / RFC 3168). */
export const IPV4_TOS_OFFSET = 1;
/** Byte offset of the total length. */
export const IPV4_TOTAL_LENGTH_OFFSET = 2;
/** Byte offset of the identification. */
export const IPV4_IDENTIFICATION_OFFSET = 4;
/** Byte offset of the flags (3 bits) and fragment offset (13 bits). */
export const IPV4_FLAGS_FRAGMENT_OFFSET = 6;
/** Byte offset of the time to live. */
export const IPV4_TTL_OFFSET = 8;
/** Byte offset of the protocol. */
export const IPV4_PROTOCOL_OFFSET = 9;
/** Byte offset of the header checksum. */
export const IPV4_CHECKSUM_OFFSET = 10;
/** Byte offset of the source address. */
export const IPV4_SOURCE_OFFSET = 12;
/** Byte offset of the destination address. */
export const IPV4_DESTINATION_OFFSET = 16;
/** Length of a header without options (IHL 5). */
export const IPV4_MIN_HEADER_BYTES = 20;
/** Longest header: IHL is 4 bits, so 15 words. */
export const IPV4_MAX_HEADER_BYTES = 60;
/** The total length field is 16 bits (RFC 791 §3.1). */
export const IPV4_MAX_PACKET_BYTES = 65535;

const FLAG_RESERVED = 0x8000;
const FLAG_DONT_FRAGMENT = 0x4000;
const FLAG_MORE_FRAGMENTS = 0x2000;
const FRAGMENT_OFFSET_MASK = 0x1fff;

/**
 * A zero-copy view over an IPv4 packet. Getters read and setters write `bytes` in place; setters do
 * not update the checksum (call {@link Ipv4Packet.fillChecksum} when done). Nothing is validated
 * here: use {@link parseIpv4} for untrusted input.
 * @example
 * ```ts
 * const packet = new Ipv4Packet(new Uint8Array(20));
 * packet.version = 4;
 * packet.headerLength = 20;
 * packet.ttl = 64;
 * packet.fillChecksum();
 * ```
 */
export class Ipv4Packet {
  /** The bytes this view was made over (may extend beyond `totalLength`, e.g. Ethernet padding). */
  readonly bytes: Uint8Array;

  /** Wraps `bytes` without copying or validating. */
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** IP version (4). */
  get version(): number {
    return this.bytes[IPV4_VERSION_IHL_OFFSET] >>> 4;
  }
  set version(value: number) {
    const b = this.bytes[IPV4_VERSION_IHL_OFFSET];
    this.bytes[IPV4_VERSION_IHL_OFFSET] = ((value & 0x0f) << 4) | (b & 0x0f);
  }

  /** Header length in BYTES (the IHL field times 4). Setting it stores `bytes / 4`. */
  get headerLength(): number {
    return (this.bytes[IPV4_VERSION_IHL_OFFSET] & 0x0f) * 4;
  }
  set headerLength(bytes: number) {
    const b = this.bytes[IPV4_VERSION_IHL_OFFSET];
    this.bytes[IPV4_VERSION_IHL_OFFSET] = (b & 0xf0) | ((bytes >>> 2) & 0x0f);
  }

  /** Type of service byte (DSCP and ECN). */
  get tos(): number {
    return this.bytes[IPV4_TOS_OFFSET];
  }
  set tos(value: number) {
    this.bytes[IPV4_TOS_OFFSET] = value;
  }

  /** Total length of the datagram in bytes, header included. */
  get totalLength(): number {
    return readU16(this.bytes, IPV4_TOTAL_LENGTH_OFFSET);
  }
  set totalLength(value: number) {
    writeU16(this.bytes, IPV4_TOTAL_LENGTH_OFFSET, value);
  }

  /** Identification, shared by all fragments of one datagram (RFC 791 §3.2). */
  get identification(): number {
    return readU16(this.bytes, IPV4_IDENTIFICATION_OFFSET);
  }
  set identification(value: number) {
    writeU16(this.bytes, IPV4_IDENTIFICATION_OFFSET, value);
  }

  /** The reserved flag bit (must be zero per RFC 791; kept visible so it can be checked). */
  get reservedFlag(): boolean {
    return (readU16(this.bytes, IPV4_FLAGS_FRAGMENT_OFFSET) & FLAG_RESERVED) !== 0;
  }
  set reservedFlag(value: boolean) {
    this.#setFlag(FLAG_RESERVED, value);
  }

  /** The DF ("don't fragment") flag. */
  get dontFragment(): boolean {
    return (readU16(this.bytes, IPV4_FLAGS_FRAGMENT_OFFSET) & FLAG_DONT_FRAGMENT) !== 0;
  }
  set dontFragment(value: boolean) {
    this.#setFlag(FLAG_DONT_FRAGMENT, value);
  }

  /** The MF ("more fragments") flag. */
  get moreFragments(): boolean {
    return (readU16(this.bytes, IPV4_FLAGS_FRAGMENT_OFFSET) & FLAG_MORE_FRAGMENTS) !== 0;
  }
  set moreFragments(value: boolean) {
    this.#setFlag(FLAG_MORE_FRAGMENTS, value);
  }

  /**
   * Fragment offset in BYTES (the 13-bit field counts 8-byte units, RFC 791 §3.1). Setting it
   * stores `bytes / 8`, so it must be a multiple of 8.
   */
  get fragmentOffset(): number {
    return (readU16(this.bytes, IPV4_FLAGS_FRAGMENT_OFFSET) & FRAGMENT_OFFSET_MASK) * 8;
  }
  set fragmentOffset(bytes: number) {
    const word = readU16(this.bytes, IPV4_FLAGS_FRAGMENT_OFFSET);
    writeU16(
      this.bytes,
      IPV4_FLAGS_FRAGMENT_OFFSET,
      (word & ~FRAGMENT_OFFSET_MASK) | ((bytes >>> 3) & FRAGMENT_OFFSET_MASK),
    );
  }

  /** Whether this packet is a fragment (MF set or a nonzero offset). */
  get isFragment(): boolean {
    return (readU16(this.bytes, IPV4_FLAGS_FRAGMENT_OFFSET) &
      (FLAG_MORE_FRAGMENTS | FRAGMENT_OFFSET_MASK)) !== 0;
  }

  /** Time to live. */
  get ttl(): number {
    return this.bytes[IPV4_TTL_OFFSET];
  }
  set ttl(value: number) {
    this.bytes[IPV4_TTL_OFFSET] = value;
  }

  /** Protocol number of the payload (see `IpProtocol` in `stack/layer.ts`). */
  get protocol(): number {
    return this.bytes[IPV4_PROTOCOL_OFFSET];
  }
  set protocol(value: number) {
    this.bytes[IPV4_PROTOCOL_OFFSET] = value;
  }

  /** The header checksum field as stored. */
  get checksum(): number {
    return readU16(this.bytes, IPV4_CHECKSUM_OFFSET);
  }
  set checksum(value: number) {
    writeU16(this.bytes, IPV4_CHECKSUM_OFFSET, value);
  }

  /** Source address. */
  get source(): Ipv4Addr {
    return readIpv4(this.bytes, IPV4_SOURCE_OFFSET);
  }
  set source(addr: Ipv4Addr) {
    writeIpv4(this.bytes, IPV4_SOURCE_OFFSET, addr);
  }

  /** Destination address. */
  get destination(): Ipv4Addr {
    return readIpv4(this.bytes, IPV4_DESTINATION_OFFSET);
  }
  set destination(addr: Ipv4Addr) {
    writeIpv4(this.bytes, IPV4_DESTINATION_OFFSET, addr);
  }

  /** The header, options included: `bytes[0..headerLength]` (a subarray). */
  get header(): Uint8Array {
    return this.bytes.subarray(0, this.headerLength);
  }

  /** The options: `bytes[20..headerLength]` (a subarray, empty for IHL 5). */
  get options(): Uint8Array {
    return this.bytes.subarray(IPV4_MIN_HEADER_BYTES, this.headerLength);
  }

  /** The data: `bytes[headerLength..totalLength]` (a subarray; link padding excluded). */
  get payload(): Uint8Array {
    return this.bytes.subarray(this.headerLength, this.totalLength);
  }

  /** Whether the header checksum verifies (RFC 1071: the sum over a correct header is 0). */
  verifyChecksum(): boolean {
    return internetChecksum(this.header) === 0;
  }

  /** Computes and stores the header checksum (RFC 791 §3.1: computed with the field as zero). */
  fillChecksum(): void {
    this.checksum = 0;
    this.checksum = internetChecksum(this.header);
  }

  #setFlag(flag: number, value: boolean): void {
    const word = readU16(this.bytes, IPV4_FLAGS_FRAGMENT_OFFSET);
    writeU16(this.bytes, IPV4_FLAGS_FRAGMENT_OFFSET, value ? word | flag : word & ~flag);
  }
}

/** Why {@link parseIpv4} dropped a packet. */
export type Ipv4DropReason =
  | "truncated"
  | "bad-version"
  | "bad-header-length"
  | "bad-total-length"
  | "bad-checksum";

/** Options for {@link parseIpv4}. */
export interface ParseIpv4Options {
  /** Verify the header checksum (default true). */
  verifyChecksum?: boolean;
}

/**
 * Validates an IPv4 packet and returns a view over it. Checks, in order: at least 20 bytes
 * (`truncated`), version 4 (`bad-version`), IHL >= 5 (`bad-header-length`), the header fits in
 * `bytes` (`truncated`), headerLength <= totalLength <= bytes.length (`bad-total-length`), and the
 * header checksum (`bad-checksum`). Bytes beyond the total length (Ethernet padding) are allowed
 * and excluded from `payload`. Options and flags are not interpreted here.
 * @example
 * ```ts
 * const bytes = new Uint8Array(20);
 * const repr = { source: 0x0a000001, destination: 0x0a000002, protocol: 17, ttl: 64 };
 * emitIpv4Header({ ...repr, payloadLength: 0 }, bytes);
 * const result = parseIpv4(bytes);
 * if (result.ok) result.value.ttl; // 64
 * ```
 */
export function parseIpv4(
  bytes: Uint8Array,
  options?: ParseIpv4Options,
): ParseResult<Ipv4Packet, Ipv4DropReason> {
  if (bytes.length < IPV4_MIN_HEADER_BYTES) return { ok: false, reason: "truncated" };
  const packet = new Ipv4Packet(bytes);
  if (packet.version !== 4) return { ok: false, reason: "bad-version" };
  const headerLength = packet.headerLength;
  if (headerLength < IPV4_MIN_HEADER_BYTES) return { ok: false, reason: "bad-header-length" };
  if (headerLength > bytes.length) return { ok: false, reason: "truncated" };
  const totalLength = packet.totalLength;
  if (totalLength < headerLength || totalLength > bytes.length) {
    return { ok: false, reason: "bad-total-length" };
  }
  if ((options?.verifyChecksum ?? true) && !packet.verifyChecksum()) {
    return { ok: false, reason: "bad-checksum" };
  }
  return { ok: true, value: packet };
}

/** The fields needed to emit an option-less IPv4 header. */
export interface Ipv4Repr {
  /** Source address. */
  source: Ipv4Addr;
  /** Destination address. */
  destination: Ipv4Addr;
  /** Protocol number. */
  protocol: number;
  /** Time to live. */
  ttl: number;
  /** Bytes of data following the header (total length is this plus 20). */
  payloadLength: number;
  /** Identification (default 0). */
  identification?: number;
  /** DF flag (default false). */
  dontFragment?: boolean;
  /** MF flag (default false). */
  moreFragments?: boolean;
  /** Fragment offset in bytes, a multiple of 8 (default 0). */
  fragmentOffset?: number;
  /** Type of service byte (default 0). */
  tos?: number;
}

/**
 * Writes a 20-byte header (no options) with its checksum into `buf[0..20]` and returns 20. The
 * data is not touched. Throws a RangeError for a buffer shorter than 20 bytes, a total length over
 * 65535, or a fragment offset that is not a multiple of 8 or exceeds the 13-bit field.
 * @example
 * ```ts
 * const buf = new Uint8Array(28);
 * const n = emitIpv4Header({
 *   source: 0x0a000001, destination: 0x0a000002, protocol: 17, ttl: 64, payloadLength: 8,
 * }, buf); // n === 20
 * ```
 */
export function emitIpv4Header(repr: Ipv4Repr, buf: Uint8Array): number {
  if (buf.length < IPV4_MIN_HEADER_BYTES) {
    throw new RangeError(`Cannot emit IPv4 header: buffer has ${buf.length} bytes, need 20`);
  }
  const totalLength = IPV4_MIN_HEADER_BYTES + repr.payloadLength;
  if (!(repr.payloadLength >= 0) || totalLength > IPV4_MAX_PACKET_BYTES) {
    throw new RangeError(
      `Cannot emit IPv4 header: total length ${totalLength} is outside 20..65535`,
    );
  }
  const offset = repr.fragmentOffset ?? 0;
  if (offset % 8 !== 0 || offset < 0 || offset > FRAGMENT_OFFSET_MASK * 8) {
    throw new RangeError(
      `Cannot emit IPv4 header: fragment offset ${offset} is not a multiple of 8 in 0..65528`,
    );
  }
  buf[IPV4_VERSION_IHL_OFFSET] = 0x45;
  buf[IPV4_TOS_OFFSET] = repr.tos ?? 0;
  writeU16(buf, IPV4_TOTAL_LENGTH_OFFSET, totalLength);
  writeU16(buf, IPV4_IDENTIFICATION_OFFSET, repr.identification ?? 0);
  writeU16(
    buf,
    IPV4_FLAGS_FRAGMENT_OFFSET,
    (repr.dontFragment ? FLAG_DONT_FRAGMENT : 0) | (repr.moreFragments ? FLAG_MORE_FRAGMENTS : 0) |
      (offset >>> 3),
  );
  buf[IPV4_TTL_OFFSET] = repr.ttl;
  buf[IPV4_PROTOCOL_OFFSET] = repr.protocol;
  writeU16(buf, IPV4_CHECKSUM_OFFSET, 0);
  writeIpv4(buf, IPV4_SOURCE_OFFSET, repr.source);
  writeIpv4(buf, IPV4_DESTINATION_OFFSET, repr.destination);
  writeU16(
    buf,
    IPV4_CHECKSUM_OFFSET,
    internetChecksum(buf.subarray(0, IPV4_MIN_HEADER_BYTES)),
  );
  return IPV4_MIN_HEADER_BYTES;
}
