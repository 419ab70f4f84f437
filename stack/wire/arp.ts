/**
 * ARP packets (RFC 826) for Ethernet hardware addresses and IPv4 protocol addresses only, which is
 * the only combination this stack resolves.
 *
 * Layout (RFC 826 "Packet format"): hardware type (2) | protocol type (2) | hardware length (1) |
 * protocol length (1) | operation (2) | sender MAC (6) | sender IP (4) | target MAC (6) |
 * target IP (4).
 * @module
 */

import { type Ipv4Addr, type MacAddr, readIpv4, readMac, writeIpv4, writeMac } from "./addr.ts";
import type { ParseResult } from "./result.ts";
import { readU16, writeU16 } from "./bytes.ts";

/** Byte offset of the hardware type (ar$hrd). */
export const ARP_HARDWARE_TYPE_OFFSET = 0;
/** Byte offset of the protocol type (ar$pro). */
export const ARP_PROTOCOL_TYPE_OFFSET = 2;
/** Byte offset of the hardware address length (ar$hln). */
export const ARP_HARDWARE_LENGTH_OFFSET = 4;
/** Byte offset of the protocol address length (ar$pln). */
export const ARP_PROTOCOL_LENGTH_OFFSET = 5;
/** Byte offset of the operation (ar$op). */
export const ARP_OPERATION_OFFSET = 6;
/** Byte offset of the sender hardware address (ar$sha). */
export const ARP_SENDER_MAC_OFFSET = 8;
/** Byte offset of the sender protocol address (ar$spa). */
export const ARP_SENDER_IP_OFFSET = 14;
/** Byte offset of the target hardware address (ar$tha). */
export const ARP_TARGET_MAC_OFFSET = 18;
/** Byte offset of the target protocol address (ar$tpa). */
export const ARP_TARGET_IP_OFFSET = 24;
/** Length of an Ethernet/IPv4 ARP packet. */
export const ARP_PACKET_BYTES = 28;

/** Hardware type for Ethernet (RFC 826; IANA ARP parameters: 1). */
export const ARP_HARDWARE_ETHERNET = 1;
/** Protocol type for IPv4: its EtherType (RFC 826). */
export const ARP_PROTOCOL_IPV4 = 0x0800;

/** ARP operation codes (RFC 826: ares_op$REQUEST = 1, ares_op$REPLY = 2). */
export const ArpOperation = { Request: 1, Reply: 2 } as const;

/** The validated content of an Ethernet/IPv4 ARP packet. */
export interface ArpRepr {
  /** Operation; see {@link ArpOperation}. Unknown values are kept. */
  operation: number;
  /** Sender hardware address. */
  senderMac: MacAddr;
  /** Sender protocol address. */
  senderIp: Ipv4Addr;
  /** Target hardware address (zero in requests, by convention). */
  targetMac: MacAddr;
  /** Target protocol address. */
  targetIp: Ipv4Addr;
}

/**
 * A zero-copy view over an ARP packet. Getters read and setters write `bytes` in place; nothing is
 * validated (use {@link parseArp}).
 * @example
 * ```ts
 * const packet = new ArpPacket(new Uint8Array(28));
 * packet.operation = ArpOperation.Reply;
 * ```
 */
export class ArpPacket {
  /** The packet bytes. */
  readonly bytes: Uint8Array;

  /** Wraps `bytes` without copying or validating. */
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** Hardware type (1 for Ethernet). */
  get hardwareType(): number {
    return readU16(this.bytes, ARP_HARDWARE_TYPE_OFFSET);
  }
  set hardwareType(value: number) {
    writeU16(this.bytes, ARP_HARDWARE_TYPE_OFFSET, value);
  }

  /** Protocol type (0x0800 for IPv4). */
  get protocolType(): number {
    return readU16(this.bytes, ARP_PROTOCOL_TYPE_OFFSET);
  }
  set protocolType(value: number) {
    writeU16(this.bytes, ARP_PROTOCOL_TYPE_OFFSET, value);
  }

  /** Hardware address length in bytes (6 for Ethernet). */
  get hardwareLength(): number {
    return this.bytes[ARP_HARDWARE_LENGTH_OFFSET];
  }
  set hardwareLength(value: number) {
    this.bytes[ARP_HARDWARE_LENGTH_OFFSET] = value;
  }

  /** Protocol address length in bytes (4 for IPv4). */
  get protocolLength(): number {
    return this.bytes[ARP_PROTOCOL_LENGTH_OFFSET];
  }
  set protocolLength(value: number) {
    this.bytes[ARP_PROTOCOL_LENGTH_OFFSET] = value;
  }

  /** Operation (see {@link ArpOperation}). */
  get operation(): number {
    return readU16(this.bytes, ARP_OPERATION_OFFSET);
  }
  set operation(value: number) {
    writeU16(this.bytes, ARP_OPERATION_OFFSET, value);
  }

  /** Sender hardware address. */
  get senderMac(): MacAddr {
    return readMac(this.bytes, ARP_SENDER_MAC_OFFSET);
  }
  set senderMac(mac: MacAddr) {
    writeMac(this.bytes, ARP_SENDER_MAC_OFFSET, mac);
  }

  /** Sender protocol address. */
  get senderIp(): Ipv4Addr {
    return readIpv4(this.bytes, ARP_SENDER_IP_OFFSET);
  }
  set senderIp(addr: Ipv4Addr) {
    writeIpv4(this.bytes, ARP_SENDER_IP_OFFSET, addr);
  }

  /** Target hardware address. */
  get targetMac(): MacAddr {
    return readMac(this.bytes, ARP_TARGET_MAC_OFFSET);
  }
  set targetMac(mac: MacAddr) {
    writeMac(this.bytes, ARP_TARGET_MAC_OFFSET, mac);
  }

  /** Target protocol address. */
  get targetIp(): Ipv4Addr {
    return readIpv4(this.bytes, ARP_TARGET_IP_OFFSET);
  }
  set targetIp(addr: Ipv4Addr) {
    writeIpv4(this.bytes, ARP_TARGET_IP_OFFSET, addr);
  }
}

/**
 * Parses an Ethernet/IPv4 ARP packet (the Ethernet payload; trailing padding is ignored).
 * RFC 826 "Packet Reception": a receiver checks that it speaks the hardware type (with its address
 * length) and the protocol type (with its address length) before looking at anything else.
 * Unknown operations are returned for the caller to count, not rejected here.
 * @example
 * ```ts
 * const result = parseArp(new Uint8Array(28));
 * if (!result.ok) result.reason; // "unsupported-hardware"
 * ```
 */
export function parseArp(
  bytes: Uint8Array,
): ParseResult<ArpRepr, "truncated" | "unsupported-hardware" | "unsupported-protocol"> {
  if (bytes.length < ARP_PACKET_BYTES) return { ok: false, reason: "truncated" };
  const packet = new ArpPacket(bytes);
  if (packet.hardwareType !== ARP_HARDWARE_ETHERNET || packet.hardwareLength !== 6) {
    return { ok: false, reason: "unsupported-hardware" };
  }
  if (packet.protocolType !== ARP_PROTOCOL_IPV4 || packet.protocolLength !== 4) {
    return { ok: false, reason: "unsupported-protocol" };
  }
  return {
    ok: true,
    value: {
      operation: packet.operation,
      senderMac: packet.senderMac,
      senderIp: packet.senderIp,
      targetMac: packet.targetMac,
      targetIp: packet.targetIp,
    },
  };
}

/**
 * Writes `repr` as a 28-byte Ethernet/IPv4 ARP packet into `buf[0..28]`. Throws a RangeError if
 * `buf` is shorter.
 * @example
 * ```ts
 * const buf = new Uint8Array(28);
 * emitArp({
 *   operation: ArpOperation.Request,
 *   senderMac: 0x525400123456,
 *   senderIp: 0x0a000001,
 *   targetMac: 0,
 *   targetIp: 0x0a000002,
 * }, buf);
 * ```
 */
export function emitArp(repr: ArpRepr, buf: Uint8Array): void {
  if (buf.length < ARP_PACKET_BYTES) {
    throw new RangeError(`Cannot emit ARP packet: buffer has ${buf.length} bytes, need 28`);
  }
  const packet = new ArpPacket(buf);
  packet.hardwareType = ARP_HARDWARE_ETHERNET;
  packet.protocolType = ARP_PROTOCOL_IPV4;
  packet.hardwareLength = 6;
  packet.protocolLength = 4;
  packet.operation = repr.operation;
  packet.senderMac = repr.senderMac;
  packet.senderIp = repr.senderIp;
  packet.targetMac = repr.targetMac;
  packet.targetIp = repr.targetIp;
}
