/**
 * Kernel-side interface configuration with the classic `SIOC*IF*` ioctls (netdevice(7)) on an
 * AF_INET datagram socket: link up/down, MTU, IPv4 address, MAC, ifindex. No shelling out to `ip`.
 *
 * Each call opens its own short-lived socket because a socket belongs to the network namespace it
 * was created in: a cached socket would keep configuring the old namespace after `withNetns`
 * (ffi/netns.ts) switched the thread. The cost (two syscalls) does not matter
 * for configuration.
 * @module
 */

import {
  type Ipv4Addr,
  type Ipv4Cidr,
  type MacAddr,
  prefixMask,
  readIpv4,
  readMac,
  writeIpv4,
} from "../stack/wire/addr.ts";
import { check, ErrnoError } from "./errno.ts";
import { AF_INET, close, ioctl, SOCK_CLOEXEC, SOCK_DGRAM, socket } from "./libc.ts";

/** `IFNAMSIZ`: interface names are at most 15 bytes plus the terminating NUL. */
export const IFNAMSIZ = 16;
/** Size of `struct ifreq` on 64-bit Linux: the name, then a 24-byte union. */
export const IFREQ_BYTES = 40;
/** Offset of the `ifr_ifru` union (flags, mtu, ifindex, a sockaddr) in `struct ifreq`. */
export const IFREQ_UNION_OFFSET = 16;

/** `ifr_flags` bit: the interface is administratively up. */
export const IFF_UP = 0x1;

// Request numbers from <linux/sockios.h>.
const SIOCGIFFLAGS = 0x8913;
const SIOCSIFFLAGS = 0x8914;
const SIOCGIFADDR = 0x8915;
const SIOCSIFADDR = 0x8916;
const SIOCGIFNETMASK = 0x891b;
const SIOCSIFNETMASK = 0x891c;
const SIOCGIFMTU = 0x8921;
const SIOCSIFMTU = 0x8922;
const SIOCGIFHWADDR = 0x8927;
const SIOCGIFINDEX = 0x8933;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A zeroed `struct ifreq` with `ifr_name` set to `name`.
 * @throws {RangeError} when the name is empty, longer than 15 bytes, or contains NUL.
 */
export function newIfreq(name: string): Uint8Array {
  const bytes = encoder.encode(name);
  if (bytes.length === 0 || bytes.length >= IFNAMSIZ || bytes.includes(0)) {
    throw new RangeError(
      `Invalid interface name ${JSON.stringify(name)}: must be 1-${IFNAMSIZ - 1} bytes without NUL`,
    );
  }
  const ifr = new Uint8Array(IFREQ_BYTES);
  ifr.set(bytes);
  return ifr;
}

/** The `ifr_name` of a `struct ifreq` (the kernel rewrites it, e.g. expanding `tap%d`). */
export function ifreqName(ifr: Uint8Array): string {
  const end = ifr.subarray(0, IFNAMSIZ).indexOf(0);
  return decoder.decode(ifr.subarray(0, end < 0 ? IFNAMSIZ : end));
}

/** A DataView over the union part of `ifr` (offset 0 = `ifr_flags`/`ifr_mtu`/sockaddr start). */
function unionView(ifr: Uint8Array): DataView {
  return new DataView(ifr.buffer, ifr.byteOffset + IFREQ_UNION_OFFSET, IFREQ_BYTES - IFNAMSIZ);
}

/** Runs one ioctl on `name` with a fresh socket; `fill` prepares the union. Returns the ifreq. */
function ifIoctl(
  name: string,
  request: number,
  requestName: string,
  fill?: (union: DataView) => void,
): Uint8Array {
  const ifr = newIfreq(name);
  fill?.(unionView(ifr));
  const fd = check(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket(AF_INET, SOCK_DGRAM)");
  try {
    check(ioctl(fd, request, ifr), `${requestName} ${name}`);
  } finally {
    close(fd);
  }
  return ifr;
}

/** Writes a `struct sockaddr_in` for `addr` (port 0) at the start of the union. */
function writeSockaddrIn(union: DataView, addr: Ipv4Addr): void {
  union.setUint16(0, AF_INET, true); // sin_family is host order
  union.setUint16(2, 0); // sin_port
  writeIpv4(new Uint8Array(union.buffer, union.byteOffset + 4, 4), 0, addr); // sin_addr, BE
}

/**
 * Brings the interface up or down (`ip link set NAME up|down`), keeping its other flags.
 * @throws {ErrnoError} e.g. `ENODEV` when there is no such interface in this namespace.
 * @example
 * ```ts
 * setLinkUp("gonet0", true);
 * ```
 */
export function setLinkUp(name: string, up: boolean): void {
  const flags = unionView(ifIoctl(name, SIOCGIFFLAGS, "SIOCGIFFLAGS")).getUint16(0, true);
  const wanted = up ? flags | IFF_UP : flags & ~IFF_UP;
  ifIoctl(name, SIOCSIFFLAGS, "SIOCSIFFLAGS", (u) => u.setUint16(0, wanted, true));
}

/** Whether the interface is administratively up (`IFF_UP`). */
export function isLinkUp(name: string): boolean {
  return (unionView(ifIoctl(name, SIOCGIFFLAGS, "SIOCGIFFLAGS")).getUint16(0, true) & IFF_UP) !== 0;
}

/**
 * Sets the interface MTU (the largest IP packet, not counting the Ethernet header).
 * @throws {RangeError} when `mtu` is not a positive integer.
 * @throws {ErrnoError} `EINVAL` when the device refuses the value (a TAP takes 68..65535).
 */
export function setMtu(name: string, mtu: number): void {
  if (!Number.isInteger(mtu) || mtu <= 0 || mtu > 0x7fff_ffff) {
    throw new RangeError(`Invalid MTU ${mtu}: must be a positive integer`);
  }
  ifIoctl(name, SIOCSIFMTU, "SIOCSIFMTU", (u) => u.setInt32(0, mtu, true));
}

/** The interface MTU. */
export function getMtu(name: string): number {
  return unionView(ifIoctl(name, SIOCGIFMTU, "SIOCGIFMTU")).getInt32(0, true);
}

/** `SIOCSIFTXQLEN`: set the transmit queue length (`ifr_qlen`). */
const SIOCSIFTXQLEN = 0x8943;
/** `SIOCGIFTXQLEN`: get the transmit queue length. */
const SIOCGIFTXQLEN = 0x8942;

/**
 * Sets how many frames the kernel queues for the interface before dropping (`ip link set ...
 * txqueuelen N`). For a TAP these are the frames waiting for the user-space reader.
 */
export function setTxQueueLength(name: string, frames: number): void {
  if (!Number.isInteger(frames) || frames <= 0 || frames > 0x7fff_ffff) {
    throw new RangeError(`Invalid queue length ${frames}: must be a positive integer`);
  }
  ifIoctl(name, SIOCSIFTXQLEN, "SIOCSIFTXQLEN", (u) => u.setInt32(0, frames, true));
}

/** The transmit queue length. */
export function getTxQueueLength(name: string): number {
  return unionView(ifIoctl(name, SIOCGIFTXQLEN, "SIOCGIFTXQLEN")).getInt32(0, true);
}

/**
 * Gives the interface the IPv4 address and prefix of `cidr`, replacing the address it had under
 * this name (SIOCSIFADDR changes the address labelled NAME; it does not add a second one).
 *
 * The kernel first applies the classful mask of the address (SIOCSIFADDR), then the real one
 * (SIOCSIFNETMASK), which also sets the broadcast address. When the link is up, the connected
 * route (e.g. 10.0.0.0/24, proto kernel, scope link) appears with the address; when it is down,
 * it appears once the link comes up. Call this before {@link setLinkUp} so that the classful
 * route (10.0.0.0/8 for 10.x) never exists, not even for the moment between the two ioctls.
 * @example
 * ```ts
 * setIpv4Address("gonet0", parseIpv4Cidr("10.0.0.1/24")!);
 * ```
 */
export function setIpv4Address(name: string, cidr: Ipv4Cidr): void {
  if (!Number.isInteger(cidr.prefixLength) || cidr.prefixLength < 0 || cidr.prefixLength > 32) {
    throw new RangeError(`Invalid prefix length ${cidr.prefixLength}: must be 0..32`);
  }
  ifIoctl(name, SIOCSIFADDR, "SIOCSIFADDR", (u) => writeSockaddrIn(u, cidr.address));
  ifIoctl(
    name,
    SIOCSIFNETMASK,
    "SIOCSIFNETMASK",
    (u) => writeSockaddrIn(u, prefixMask(cidr.prefixLength)),
  );
}

/** The interface's IPv4 address and prefix, or `undefined` when it has none. */
export function getIpv4Address(name: string): Ipv4Cidr | undefined {
  let address: Ipv4Addr;
  try {
    address = readIpv4(ifIoctl(name, SIOCGIFADDR, "SIOCGIFADDR"), IFREQ_UNION_OFFSET + 4);
  } catch (err) {
    // The kernel answers EADDRNOTAVAIL when the interface exists but has no IPv4 address.
    if (err instanceof ErrnoError && err.code === "EADDRNOTAVAIL") return undefined;
    throw err;
  }
  const mask = readIpv4(ifIoctl(name, SIOCGIFNETMASK, "SIOCGIFNETMASK"), IFREQ_UNION_OFFSET + 4);
  // Count leading one bits; the kernel only accepts contiguous masks.
  let prefixLength = 0;
  while (prefixLength < 32 && (mask & (0x8000_0000 >>> prefixLength)) !== 0) prefixLength++;
  return { address, prefixLength };
}

/** The interface's hardware (MAC) address. */
export function getMac(name: string): MacAddr {
  // ifr_hwaddr is a struct sockaddr: 2-byte sa_family, then the address in sa_data.
  return readMac(ifIoctl(name, SIOCGIFHWADDR, "SIOCGIFHWADDR"), IFREQ_UNION_OFFSET + 2);
}

/** The interface index (as in `ip link`, and `sin6_scope_id`/`SO_BINDTOIFINDEX` users). */
export function getIfIndex(name: string): number {
  return unionView(ifIoctl(name, SIOCGIFINDEX, "SIOCGIFINDEX")).getInt32(0, true);
}
