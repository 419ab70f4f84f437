/**
 * The `struct virtio_net_hdr` in front of every frame of a TAP opened with IFF_VNET_HDR
 * (include/uapi/linux/virtio_net.h), and the offloads it carries: the ioctls that ask for them,
 * the header's fields, and how outgoing frames get theirs. `ffi/tap.ts` is its one user.
 * @module
 */

import type { SegmentationRequest } from "../stack/link/link.ts";
import { check } from "./errno.ts";
import { ioctl, ioctlValue } from "./libc.ts";

/** `TUNSETOFFLOAD = _IOW('T', 208, unsigned int)`: offloads the reader can handle. */
export const TUNSETOFFLOAD = 0x400454d0;
/** `TUNSETVNETHDRSZ = _IOW('T', 216, int)`: size of the vnet header. */
export const TUNSETVNETHDRSZ = 0x400454d8;
/** TUNSETOFFLOAD flags: partial checksums, TCP segmentation for IPv4 and IPv6, UDP (Linux 6.2+). */
const TUN_F_CSUM = 0x01;
const TUN_F_TSO4 = 0x02;
const TUN_F_TSO6 = 0x04;
const TUN_F_USO4 = 0x20;
const TUN_F_USO6 = 0x40;
/** Size of `struct virtio_net_hdr` (no `num_buffers`). */
export const VNET_HDR_BYTES = 10;
/** virtio_net_hdr flag: the transport checksum is left to the reader (NEEDS_CSUM). */
export const VNET_F_NEEDS_CSUM = 1;
/** virtio_net_hdr flag: the transport checksum was already checked (DATA_VALID). */
export const VNET_F_DATA_VALID = 2;
/** virtio_net_hdr gso_type for TCP over IPv4. */
export const VNET_GSO_TCPV4 = 1;
/** virtio_net_hdr gso_type for UDP segmentation (USO). */
export const VNET_GSO_UDP_L4 = 5;

/** Stores `value` little-endian at `bytes[at]` (the vnet header's byte order). */
function setU16le(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value & 0xff;
  bytes[at + 1] = value >>> 8;
}

/**
 * Writes the vnet header of an outgoing frame at `bytes[at]`: all zero for a frame as it is,
 * or the fields that ask the kernel to cut a TCP super-frame (`request`).
 */
export function writeVnetHeader(
  bytes: Uint8Array,
  at: number,
  request: SegmentationRequest | undefined,
): void {
  if (request === undefined) {
    bytes.fill(0, at, at + VNET_HDR_BYTES);
    return;
  }
  bytes[at] = VNET_F_NEEDS_CSUM;
  bytes[at + 1] = VNET_GSO_TCPV4;
  setU16le(bytes, at + 2, request.headerBytes);
  setU16le(bytes, at + 4, request.segmentBytes);
  setU16le(bytes, at + 6, request.checksumStart);
  setU16le(bytes, at + 8, 16); // the TCP checksum field's offset in the TCP header
}

/**
 * Frames up to this many bytes (a ping's reply, a TCP ACK, an ARP answer) are copied behind their
 * vnet header by {@link copyBehindPlainHeader} rather than by `fill` and `set`.
 */
export const SHORT_FRAME_BYTES = 256;

/**
 * Writes an all-zero vnet header (no offload asked for) and `frame` after it into `tx`, in plain
 * loops. `TypedArray.prototype.fill` and `set` call into V8's runtime, whose code has gone cold by
 * the time a lone reply leaves after a quiet spell: timed here, the two took 10-15 us before a
 * lone ping's reply and the loops under 1.5 us, which stay in the path's own JIT-compiled code.
 */
export function copyBehindPlainHeader(tx: Uint8Array, frame: Uint8Array): void {
  for (let i = 0; i < VNET_HDR_BYTES; i++) tx[i] = 0;
  for (let i = 0; i < frame.length; i++) tx[VNET_HDR_BYTES + i] = frame[i];
}

/**
 * Sets the vnet header size and the offloads on a TAP opened with IFF_VNET_HDR. When the kernel
 * refuses the offloads, the header stays (the flag cannot be dropped after TUNSETIFF) but carries
 * nothing, and the caller treats the device as having no offloads.
 */
export function enableOffloads(fd: number): boolean {
  const size = new Uint8Array(4);
  new DataView(size.buffer).setInt32(0, VNET_HDR_BYTES, true);
  check(ioctl(fd, TUNSETVNETHDRSZ, size), "TUNSETVNETHDRSZ");
  // USO (Linux 6.2+) first; without it the kernel segments UDP GSO sends before the TAP.
  const tcp = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
  return ioctlValue(fd, TUNSETOFFLOAD, tcp | TUN_F_USO4 | TUN_F_USO6) === 0 ||
    ioctlValue(fd, TUNSETOFFLOAD, tcp) === 0;
}
