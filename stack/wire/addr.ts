/**
 * Address value types. IPv4 addresses are unsigned 32-bit numbers and MAC addresses are 48-bit
 * numbers (exact in a JS double), so the hot path compares with `===` and uses them as Map keys
 * without allocating strings. Parsing and formatting live here and nowhere else.
 * @module
 */

import { readU32, writeU32 } from "./bytes.ts";

/** An IPv4 address as an unsigned 32-bit integer in host order (10.0.0.1 is 0x0a000001). */
export type Ipv4Addr = number;

/** A MAC address as a 48-bit unsigned integer (ff:ff:ff:ff:ff:ff is 0xffffffffffff). */
export type MacAddr = number;

/** The Ethernet broadcast address. */
export const MAC_BROADCAST: MacAddr = 0xffff_ffff_ffff;

/** The all-zero MAC, used as "unknown target" in ARP requests. */
export const MAC_ZERO: MacAddr = 0;

/** The limited broadcast address 255.255.255.255. */
export const IPV4_BROADCAST: Ipv4Addr = 0xffff_ffff;

/** An IPv4 address with its prefix length, as in `10.0.0.2/24`. */
export interface Ipv4Cidr {
  /** The interface address. */
  readonly address: Ipv4Addr;
  /** Prefix length in bits, 0..32. */
  readonly prefixLength: number;
}

const IPV4_TEXT = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/**
 * Parses dotted-quad text; returns `undefined` for anything else.
 * @example
 * ```ts
 * parseIpv4("10.0.0.1"); // 0x0a000001
 * ```
 */
export function parseIpv4(text: string): Ipv4Addr | undefined {
  const m = IPV4_TEXT.exec(text);
  if (!m) return undefined;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

/** Formats an address as dotted-quad text. */
export function formatIpv4(addr: Ipv4Addr): string {
  return `${addr >>> 24}.${(addr >>> 16) & 0xff}.${(addr >>> 8) & 0xff}.${addr & 0xff}`;
}

/** Parses `ADDR/PREFIX` text; returns `undefined` when malformed. */
export function parseIpv4Cidr(text: string): Ipv4Cidr | undefined {
  const slash = text.indexOf("/");
  if (slash < 0) return undefined;
  const address = parseIpv4(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (address === undefined || !/^\d{1,2}$/.test(prefixText)) return undefined;
  const prefixLength = Number(prefixText);
  if (prefixLength > 32) return undefined;
  return { address, prefixLength };
}

/** Formats an address with prefix as `ADDR/PREFIX`. */
export function formatIpv4Cidr(cidr: Ipv4Cidr): string {
  return `${formatIpv4(cidr.address)}/${cidr.prefixLength}`;
}

/** The netmask of a prefix length as a 32-bit number (24 gives 0xffffff00). */
export function prefixMask(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffff_ffff << (32 - prefixLength)) >>> 0;
}

/** Whether `addr` lies in the subnet of `cidr`. */
export function inSubnet(cidr: Ipv4Cidr, addr: Ipv4Addr): boolean {
  const mask = prefixMask(cidr.prefixLength);
  return ((cidr.address & mask) >>> 0) === ((addr & mask) >>> 0);
}

/** The directed broadcast address of the subnet of `cidr`. */
export function subnetBroadcast(cidr: Ipv4Cidr): Ipv4Addr {
  return (cidr.address | ~prefixMask(cidr.prefixLength)) >>> 0;
}

/** Reads a big-endian IPv4 address from `bytes` at `offset`. */
export function readIpv4(bytes: Uint8Array, offset: number): Ipv4Addr {
  return readU32(bytes, offset);
}

/** Writes a big-endian IPv4 address into `bytes` at `offset`. */
export function writeIpv4(bytes: Uint8Array, offset: number, addr: Ipv4Addr): void {
  writeU32(bytes, offset, addr);
}

const MAC_TEXT =
  /^([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$/i;

/** Parses `aa:bb:cc:dd:ee:ff` text; returns `undefined` when malformed. */
export function parseMac(text: string): MacAddr | undefined {
  const m = MAC_TEXT.exec(text);
  if (!m) return undefined;
  let value = 0;
  for (let i = 1; i <= 6; i++) value = value * 256 + parseInt(m[i], 16);
  return value;
}

/** Formats a MAC as lower-case colon-separated hex. */
export function formatMac(mac: MacAddr): string {
  const parts: string[] = [];
  for (let shift = 40; shift >= 0; shift -= 8) {
    parts.push((Math.floor(mac / 2 ** shift) & 0xff).toString(16).padStart(2, "0"));
  }
  return parts.join(":");
}

/** Reads a 6-byte MAC from `bytes` at `offset`. */
export function readMac(bytes: Uint8Array, offset: number): MacAddr {
  const high = (bytes[offset] << 8) | bytes[offset + 1];
  const low = ((bytes[offset + 2] << 24) | (bytes[offset + 3] << 16) | (bytes[offset + 4] << 8) |
    bytes[offset + 5]) >>> 0;
  return high * 0x1_0000_0000 + low;
}

/** Writes a 6-byte MAC into `bytes` at `offset`. */
export function writeMac(bytes: Uint8Array, offset: number, mac: MacAddr): void {
  const high = Math.floor(mac / 0x1_0000_0000);
  const low = mac >>> 0;
  bytes[offset] = high >>> 8;
  bytes[offset + 1] = high;
  bytes[offset + 2] = low >>> 24;
  bytes[offset + 3] = low >>> 16;
  bytes[offset + 4] = low >>> 8;
  bytes[offset + 5] = low;
}

/** Whether the MAC has the group (multicast/broadcast) bit set. */
export function isMulticastMac(mac: MacAddr): boolean {
  return (Math.floor(mac / 0x100_0000_0000) & 1) === 1;
}

/**
 * A random unicast, locally administered MAC (RFC 7042 §2.1: bit 1 of the first octet set,
 * bit 0 clear), drawn from `randomU32`.
 */
export function randomLocalMac(randomU32: () => number): MacAddr {
  const first = ((randomU32() & 0xfc) | 0x02) & 0xff;
  const rest = ((randomU32() & 0xff) * 0x1_0000_0000) + (randomU32() >>> 0);
  return first * 0x100_0000_0000 + rest;
}
