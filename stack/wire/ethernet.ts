/**
 * Ethernet II frames (IEEE 802.3 with the DIX EtherType interpretation; RFC 894 for carrying IPv4).
 * The frame check sequence is not part of what a TAP device or a raw socket hands us, so it is not
 * modelled here.
 *
 * Layout: destination MAC (6) | source MAC (6) | EtherType (2) | payload.
 * @module
 */

import { type MacAddr, readMac, writeMac } from "./addr.ts";
import type { ParseResult } from "./result.ts";
import { readU16, writeU16 } from "./bytes.ts";

/** Byte offset of the destination MAC. */
export const ETHERNET_DESTINATION_OFFSET = 0;
/** Byte offset of the source MAC. */
export const ETHERNET_SOURCE_OFFSET = 6;
/** Byte offset of the EtherType. */
export const ETHERNET_ETHERTYPE_OFFSET = 12;
/** Length of the Ethernet II header (no 802.1Q tag). */
export const ETHERNET_HEADER_BYTES = 14;
/** Smallest frame on the wire without FCS (IEEE 802.3 minimum of 64 bytes less the 4-byte FCS). */
export const ETHERNET_MIN_FRAME_BYTES = 60;

/**
 * EtherType values we know (IANA "IEEE 802 Numbers"). Kept as plain numbers so unknown types pass
 * through and can be counted rather than rejected.
 */
export const EtherType = { Ipv4: 0x0800, Arp: 0x0806, Ipv6: 0x86dd } as const;

/**
 * A zero-copy view over an Ethernet II frame. Getters read and setters write `bytes` in place.
 * @example
 * ```ts
 * const frame = new EthernetFrame(new Uint8Array(14));
 * frame.etherType = EtherType.Arp;
 * frame.bytes[12]; // 0x08
 * ```
 */
export class EthernetFrame {
  /** The whole frame. */
  readonly bytes: Uint8Array;

  /** Wraps `bytes` without copying or validating; use {@link parseEthernet} for untrusted input. */
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** Destination MAC address. */
  get destination(): MacAddr {
    return readMac(this.bytes, ETHERNET_DESTINATION_OFFSET);
  }
  set destination(mac: MacAddr) {
    writeMac(this.bytes, ETHERNET_DESTINATION_OFFSET, mac);
  }

  /** Source MAC address. */
  get source(): MacAddr {
    return readMac(this.bytes, ETHERNET_SOURCE_OFFSET);
  }
  set source(mac: MacAddr) {
    writeMac(this.bytes, ETHERNET_SOURCE_OFFSET, mac);
  }

  /** The EtherType (see {@link EtherType}). */
  get etherType(): number {
    return readU16(this.bytes, ETHERNET_ETHERTYPE_OFFSET);
  }
  set etherType(value: number) {
    writeU16(this.bytes, ETHERNET_ETHERTYPE_OFFSET, value);
  }

  /** Everything after the header, padding included (a subarray, not a copy). */
  get payload(): Uint8Array {
    return this.bytes.subarray(ETHERNET_HEADER_BYTES);
  }
}

/**
 * Validates that `bytes` holds at least an Ethernet header and returns a view over it.
 * @example
 * ```ts
 * const result = parseEthernet(new Uint8Array(60));
 * if (result.ok) result.value.etherType; // 0
 * ```
 */
export function parseEthernet(bytes: Uint8Array): ParseResult<EthernetFrame, "truncated"> {
  if (bytes.length < ETHERNET_HEADER_BYTES) return { ok: false, reason: "truncated" };
  return { ok: true, value: new EthernetFrame(bytes) };
}

/** The fields of an Ethernet II header. */
export interface EthernetHeader {
  /** Destination MAC address. */
  destination: MacAddr;
  /** Source MAC address. */
  source: MacAddr;
  /** EtherType. */
  etherType: number;
}

/**
 * Writes the 14-byte header into `buf[0..14]`. Throws a RangeError if `buf` is shorter (a
 * programmer error: the caller sizes the buffer).
 * @example
 * ```ts
 * const buf = new Uint8Array(14);
 * emitEthernetHeader(buf, {
 *   destination: 0xffffffffffff,
 *   source: 0x525400123456,
 *   etherType: EtherType.Arp,
 * });
 * ```
 */
export function emitEthernetHeader(buf: Uint8Array, header: EthernetHeader): void {
  if (buf.length < ETHERNET_HEADER_BYTES) {
    throw new RangeError(`Cannot emit Ethernet header: buffer has ${buf.length} bytes, need 14`);
  }
  writeMac(buf, ETHERNET_DESTINATION_OFFSET, header.destination);
  writeMac(buf, ETHERNET_SOURCE_OFFSET, header.source);
  buf[ETHERNET_ETHERTYPE_OFFSET] = header.etherType >>> 8;
  buf[ETHERNET_ETHERTYPE_OFFSET + 1] = header.etherType;
}
