/**
 * TCP segment format (RFC 9293 §3.1) and options: MSS (RFC 9293 §3.2, §3.7.1), window scale and
 * timestamps (RFC 7323 §2.2, §3.2), SACK-permitted and SACK (RFC 2018 §2, §3).
 *
 * {@link TcpSegment} is a zero-copy view over the bytes; {@link parseTcp} validates lengths, the
 * options and (optionally) the checksum over the IPv4 pseudo-header; {@link emitTcp} writes a
 * header, options and payload with the checksum into a caller-provided buffer.
 * @module
 */

import type { Ipv4Addr } from "./addr.ts";
import { finishChecksum, pseudoHeaderSum, sumWords } from "./checksum.ts";
import type { ParseResult } from "./result.ts";
import { readU16, readU32, writeU16, writeU32 } from "./bytes.ts";

/** The TCP header flags (RFC 9293 §3.1; ECE and CWR from RFC 3168 §23.2). */
export const TcpFlags = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

/** TCP option kinds (IANA "TCP Option Kind Numbers"). */
export const TcpOptionKind = {
  End: 0,
  Nop: 1,
  Mss: 2,
  WindowScale: 3,
  SackPermitted: 4,
  Sack: 5,
  Timestamps: 8,
} as const;

/** Length of a header without options. */
export const TCP_HEADER_LENGTH = 20;
/** Most option bytes a header can carry (data offset 15 words). */
export const TCP_MAX_OPTIONS_LENGTH = 40;

const SRC_PORT = 0;
const DST_PORT = 2;
const SEQ = 4;
const ACK = 8;
const DATA_OFFSET = 12;
const FLAGS = 13;
const WINDOW = 14;
const CHECKSUM = 16;
const URGENT = 18;

/** One SACK block: the bytes `[start, end)` were received (RFC 2018 §3). */
export interface SackBlock {
  /** First sequence number of the block. */
  readonly start: number;
  /** Sequence number just past the block. */
  readonly end: number;
}

/** The TCP options this stack understands; unknown kinds are skipped when parsing. */
export interface TcpOptions {
  /** Maximum segment size (kind 2), SYN only. */
  mss?: number;
  /** Window scale shift count (kind 3), SYN only. Kept as received (RFC 7323 §2.3 clamps to 14). */
  windowScale?: number;
  /** SACK permitted (kind 4), SYN only. */
  sackPermitted?: boolean;
  /** SACK blocks (kind 5). */
  sackBlocks?: SackBlock[];
  /** Timestamps (kind 8): TSval and TSecr. */
  timestamps?: { value: number; echo: number };
}

/** Why an options area was refused. */
export type TcpOptionDropReason =
  | "option-truncated"
  | "option-bad-length"
  | "option-bad-mss-length"
  | "option-bad-window-scale-length"
  | "option-bad-sack-permitted-length"
  | "option-bad-sack-length"
  | "option-bad-timestamps-length";

/** Why a segment was refused. */
export type TcpDropReason =
  | "truncated"
  | "bad-data-offset"
  | "truncated-header"
  | "bad-checksum"
  | TcpOptionDropReason;

/**
 * Parses an options area (RFC 9293 §3.1 "Options"). Unknown kinds are skipped using their length
 * byte; a length below 2 or past the end, or a known option with the wrong length, is refused.
 * @example
 * ```ts
 * parseTcpOptions(new Uint8Array([2, 4, 5, 0xb4])); // { ok: true, value: { mss: 1460 } }
 * ```
 */
export function parseTcpOptions(
  bytes: Uint8Array,
): ParseResult<TcpOptions, TcpOptionDropReason> {
  const options: TcpOptions = {};
  let i = 0;
  while (i < bytes.length) {
    const kind = bytes[i];
    if (kind === TcpOptionKind.End) break;
    if (kind === TcpOptionKind.Nop) {
      i++;
      continue;
    }
    if (i + 1 >= bytes.length) return { ok: false, reason: "option-truncated" };
    const length = bytes[i + 1];
    if (length < 2) return { ok: false, reason: "option-bad-length" };
    if (i + length > bytes.length) return { ok: false, reason: "option-truncated" };
    const body = i + 2;
    switch (kind) {
      case TcpOptionKind.Mss:
        if (length !== 4) return { ok: false, reason: "option-bad-mss-length" };
        options.mss = (bytes[body] << 8) | bytes[body + 1];
        break;
      case TcpOptionKind.WindowScale:
        if (length !== 3) return { ok: false, reason: "option-bad-window-scale-length" };
        options.windowScale = bytes[body];
        break;
      case TcpOptionKind.SackPermitted:
        if (length !== 2) return { ok: false, reason: "option-bad-sack-permitted-length" };
        options.sackPermitted = true;
        break;
      case TcpOptionKind.Sack: {
        // RFC 2018 §3: 8 bytes per block, at least one block.
        if (length < 10 || (length - 2) % 8 !== 0) {
          return { ok: false, reason: "option-bad-sack-length" };
        }
        const blocks: SackBlock[] = [];
        for (let b = body; b < i + length; b += 8) {
          blocks.push({ start: readU32(bytes, b), end: readU32(bytes, b + 4) });
        }
        options.sackBlocks = blocks;
        break;
      }
      case TcpOptionKind.Timestamps:
        if (length !== 10) return { ok: false, reason: "option-bad-timestamps-length" };
        options.timestamps = { value: readU32(bytes, body), echo: readU32(bytes, body + 4) };
        break;
      default:
        // Unknown option: skip it by its length (RFC 9293 §3.2, MUST-68).
        break;
    }
    i += length;
  }
  return { ok: true, value: options };
}

/** Bytes {@link emitTcpOptions} writes for `options`, padded to a multiple of 4. */
export function tcpOptionsLength(options: TcpOptions | undefined): number {
  if (!options) return 0;
  let n = 0;
  if (options.mss !== undefined) n += 4;
  if (options.timestamps) n += 12; // (NOP NOP | SACK-permitted) + 10
  else if (options.sackPermitted) n += 4;
  if (options.windowScale !== undefined) n += 4;
  if (options.sackBlocks && options.sackBlocks.length > 0) n += 4 + 8 * options.sackBlocks.length;
  return n;
}

/**
 * Writes `options` at `offset` in the layout Linux uses (MSS; SACK-permitted folded into the
 * timestamp padding; NOP + window scale; NOP NOP + SACK), padded with NOPs to 32-bit words.
 * Returns the number of bytes written. Throws if they would exceed 40 bytes (a caller bug).
 */
export function emitTcpOptions(buffer: Uint8Array, offset: number, options: TcpOptions): number {
  const length = tcpOptionsLength(options);
  if (length > TCP_MAX_OPTIONS_LENGTH) {
    throw new RangeError(`TCP options need ${length} bytes, at most 40 fit`);
  }
  let i = offset;
  if (options.mss !== undefined) {
    buffer[i++] = TcpOptionKind.Mss;
    buffer[i++] = 4;
    buffer[i++] = options.mss >>> 8;
    buffer[i++] = options.mss & 0xff;
  }
  if (options.timestamps) {
    if (options.sackPermitted) {
      buffer[i++] = TcpOptionKind.SackPermitted;
      buffer[i++] = 2;
    } else {
      buffer[i++] = TcpOptionKind.Nop;
      buffer[i++] = TcpOptionKind.Nop;
    }
    buffer[i++] = TcpOptionKind.Timestamps;
    buffer[i++] = 10;
    writeU32(buffer, i, options.timestamps.value);
    writeU32(buffer, i + 4, options.timestamps.echo);
    i += 8;
  } else if (options.sackPermitted) {
    buffer[i++] = TcpOptionKind.Nop;
    buffer[i++] = TcpOptionKind.Nop;
    buffer[i++] = TcpOptionKind.SackPermitted;
    buffer[i++] = 2;
  }
  if (options.windowScale !== undefined) {
    buffer[i++] = TcpOptionKind.Nop;
    buffer[i++] = TcpOptionKind.WindowScale;
    buffer[i++] = 3;
    buffer[i++] = options.windowScale;
  }
  if (options.sackBlocks && options.sackBlocks.length > 0) {
    buffer[i++] = TcpOptionKind.Nop;
    buffer[i++] = TcpOptionKind.Nop;
    buffer[i++] = TcpOptionKind.Sack;
    buffer[i++] = 2 + 8 * options.sackBlocks.length;
    for (const block of options.sackBlocks) {
      writeU32(buffer, i, block.start);
      writeU32(buffer, i + 4, block.end);
      i += 8;
    }
  }
  return i - offset;
}

/**
 * A zero-copy view over one TCP segment (header, options, payload). It trusts its bytes: use
 * {@link parseTcp} on input from the network.
 */
export class TcpSegment {
  /** The segment bytes (header through payload). */
  readonly bytes: Uint8Array;
  #options: TcpOptions | undefined;

  /** Wraps `bytes`; `options` may be supplied when already parsed. */
  constructor(bytes: Uint8Array, options?: TcpOptions) {
    this.bytes = bytes;
    this.#options = options;
  }

  /** Source port. */
  get sourcePort(): number {
    return readU16(this.bytes, SRC_PORT);
  }
  /** Destination port. */
  get destinationPort(): number {
    return readU16(this.bytes, DST_PORT);
  }
  /** Sequence number. */
  get seq(): number {
    return readU32(this.bytes, SEQ);
  }
  /** Acknowledgment number. */
  get ack(): number {
    return readU32(this.bytes, ACK);
  }
  /** Header length in 32-bit words (5..15). */
  get dataOffset(): number {
    return this.bytes[DATA_OFFSET] >>> 4;
  }
  /** Header length in bytes, options included. */
  get headerLength(): number {
    return this.dataOffset * 4;
  }
  /** Flag bits (see {@link TcpFlags}). */
  get flags(): number {
    return this.bytes[FLAGS];
  }
  /** Whether every bit of `flag` is set. */
  has(flag: number): boolean {
    return (this.bytes[FLAGS] & flag) === flag;
  }
  /** Advertised window (unscaled, as on the wire). */
  get window(): number {
    return readU16(this.bytes, WINDOW);
  }
  /** Checksum as on the wire. */
  get checksum(): number {
    return readU16(this.bytes, CHECKSUM);
  }
  /** Urgent pointer. */
  get urgent(): number {
    return readU16(this.bytes, URGENT);
  }
  /** The raw options area. */
  get optionBytes(): Uint8Array {
    return this.bytes.subarray(TCP_HEADER_LENGTH, this.headerLength);
  }
  /** Parsed options (empty when the area is malformed; {@link parseTcp} refuses those). */
  get options(): TcpOptions {
    if (!this.#options) {
      const parsed = parseTcpOptions(this.optionBytes);
      this.#options = parsed.ok ? parsed.value : {};
    }
    return this.#options;
  }
  /** The data after the header. */
  get payload(): Uint8Array {
    return this.bytes.subarray(this.headerLength);
  }
  /** Sequence space the segment occupies: data length plus one each for SYN and FIN. */
  get seqLength(): number {
    return this.payload.length + (this.bytes[FLAGS] & TcpFlags.SYN ? 1 : 0) +
      (this.bytes[FLAGS] & TcpFlags.FIN ? 1 : 0);
  }
}

/** The checksum `bytes` should carry (computed with its checksum field treated as zero). */
export function tcpChecksum(bytes: Uint8Array, source: Ipv4Addr, destination: Ipv4Addr): number {
  const stored = (bytes[CHECKSUM] << 8) | bytes[CHECKSUM + 1];
  return finishChecksum(
    sumWords(bytes, pseudoHeaderSum(source, destination, 6, bytes.length)) - stored,
  );
}

/** Options for {@link parseTcp}. */
export interface ParseTcpOptions {
  /** Check the checksum over the pseudo-header (default true). */
  verifyChecksum?: boolean;
}

/**
 * Validates a segment received from `source` for `destination`: length, data offset, options
 * and (unless disabled) the checksum (RFC 9293 §3.1). Never throws.
 * @example
 * ```ts
 * const result = parseTcp(bytes, 0x0a000001, 0x0a000002);
 * if (result.ok) console.log(result.value.destinationPort);
 * ```
 */
export function parseTcp(
  bytes: Uint8Array,
  source: Ipv4Addr,
  destination: Ipv4Addr,
  options: ParseTcpOptions = {},
): ParseResult<TcpSegment, TcpDropReason> {
  if (bytes.length < TCP_HEADER_LENGTH) return { ok: false, reason: "truncated" };
  const headerLength = (bytes[DATA_OFFSET] >>> 4) * 4;
  if (headerLength < TCP_HEADER_LENGTH) return { ok: false, reason: "bad-data-offset" };
  if (headerLength > bytes.length) return { ok: false, reason: "truncated-header" };
  if (options.verifyChecksum ?? true) {
    const sum = sumWords(bytes, pseudoHeaderSum(source, destination, 6, bytes.length));
    if (finishChecksum(sum) !== 0) return { ok: false, reason: "bad-checksum" };
  }
  const parsed = parseTcpOptions(bytes.subarray(TCP_HEADER_LENGTH, headerLength));
  if (!parsed.ok) return parsed;
  return { ok: true, value: new TcpSegment(bytes, parsed.value) };
}

/** Header fields for {@link emitTcp}. */
export interface TcpHeaderFields {
  /** Source port. */
  sourcePort: number;
  /** Destination port. */
  destinationPort: number;
  /** Sequence number. */
  seq: number;
  /** Acknowledgment number (write 0 when ACK is not set). */
  ack: number;
  /** Flag bits (see {@link TcpFlags}). */
  flags: number;
  /** Window field as it goes on the wire (already scaled down). */
  window: number;
  /** Urgent pointer (default 0). */
  urgent?: number;
  /** Options to write. */
  options?: TcpOptions;
}

/** Total bytes {@link emitTcp} needs for `fields` and `payloadLength` bytes of data. */
export function tcpSegmentLength(fields: TcpHeaderFields, payloadLength: number): number {
  return TCP_HEADER_LENGTH + tcpOptionsLength(fields.options) + payloadLength;
}

/**
 * Writes a segment (header, options, payload) into `buffer` from offset 0 and fills in the
 * checksum over the pseudo-header for `source` -> `destination`. Returns the segment length.
 * With `checksum: "partial"` only the folded pseudo-header sum is written (the CHECKSUM_PARTIAL
 * convention of Linux and virtio-net): the device that segments the frame finishes the sum.
 * Throws a RangeError when `buffer` is too small (a caller bug).
 * @example
 * ```ts
 * const fields = { sourcePort: 1, destinationPort: 2, seq: 0, ack: 0, flags: TcpFlags.SYN, window: 1024 };
 * const buffer = new Uint8Array(tcpSegmentLength(fields, 0));
 * emitTcp(buffer, fields, new Uint8Array(0), 0x0a000001, 0x0a000002);
 * ```
 */
export function emitTcp(
  buffer: Uint8Array,
  fields: TcpHeaderFields,
  payload: Uint8Array,
  source: Ipv4Addr,
  destination: Ipv4Addr,
  checksum: "full" | "partial" = "full",
): number {
  const total = tcpSegmentLength(fields, payload.length);
  if (buffer.length < total) {
    throw new RangeError(`TCP segment needs ${total} bytes, buffer has ${buffer.length}`);
  }
  writeU16(buffer, SRC_PORT, fields.sourcePort);
  writeU16(buffer, DST_PORT, fields.destinationPort);
  writeU32(buffer, SEQ, fields.seq >>> 0);
  writeU32(buffer, ACK, fields.ack >>> 0);
  const optionsLength = fields.options
    ? emitTcpOptions(buffer, TCP_HEADER_LENGTH, fields.options)
    : 0;
  const headerLength = TCP_HEADER_LENGTH + optionsLength;
  buffer[DATA_OFFSET] = (headerLength / 4) << 4;
  buffer[FLAGS] = fields.flags;
  writeU16(buffer, WINDOW, fields.window);
  writeU16(buffer, CHECKSUM, 0);
  writeU16(buffer, URGENT, fields.urgent ?? 0);
  buffer.set(payload, headerLength);
  const pseudo = pseudoHeaderSum(source, destination, 6, total);
  if (checksum === "partial") {
    // finishChecksum complements; the partial form is the folded sum itself.
    writeU16(buffer, CHECKSUM, ~finishChecksum(pseudo) & 0xffff);
    return total;
  }
  const sum = sumWords(buffer.subarray(0, total), pseudo);
  writeU16(buffer, CHECKSUM, finishChecksum(sum));
  return total;
}
