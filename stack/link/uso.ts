/**
 * UDP segmentation offload on receive (USO, the kernel's UDP GSO). A kernel application that
 * sends with the `UDP_SEGMENT` socket option hands a device with USO one IPv4/UDP super-frame that
 * carries many datagrams of `segmentBytes` payload each (the last may be shorter); a NIC would put
 * each on the wire as a datagram of its own. A TAP reader is that NIC: {@link segmentUdpFrame}
 * rebuilds the datagrams as frames, so the layers above never see a super-frame.
 * @module
 */

import { IpProtocol } from "../layer.ts";
import { finishChecksum, pseudoHeaderSum, sumWords } from "../wire/checksum.ts";
import { ETHERNET_ETHERTYPE_OFFSET, ETHERNET_HEADER_BYTES, EtherType } from "../wire/ethernet.ts";
import {
  IPV4_CHECKSUM_OFFSET,
  IPV4_DESTINATION_OFFSET,
  IPV4_IDENTIFICATION_OFFSET,
  IPV4_MIN_HEADER_BYTES,
  IPV4_PROTOCOL_OFFSET,
  IPV4_SOURCE_OFFSET,
  IPV4_TOTAL_LENGTH_OFFSET,
} from "../wire/ipv4.ts";
import { UDP_CHECKSUM_OFFSET, UDP_HEADER_BYTES, UDP_LENGTH_OFFSET } from "../wire/udp.ts";
/** Most datagrams Linux puts in one UDP GSO send (`UDP_MAX_SEGMENTS`). */
export const MAX_UDP_SEGMENTS = 128;

/**
 * Splits an Ethernet/IPv4/UDP super-frame into one frame per datagram of `segmentBytes` payload.
 * Each frame gets its own IPv4 total length, identification (the super-frame's, plus the
 * datagram's index, as Linux numbers them) and header checksum, and its own UDP length and
 * checksum. Returns `undefined` for anything else (not IPv4/UDP, truncated, a zero segment size,
 * more than {@link MAX_UDP_SEGMENTS} datagrams): the caller drops and counts it.
 */
export function segmentUdpFrame(
  frame: Uint8Array,
  segmentBytes: number,
): Uint8Array[] | undefined {
  if (
    frame.length < ETHERNET_HEADER_BYTES + IPV4_MIN_HEADER_BYTES + UDP_HEADER_BYTES ||
    segmentBytes < 1
  ) {
    return undefined;
  }
  const etherType = (frame[ETHERNET_ETHERTYPE_OFFSET] << 8) | frame[ETHERNET_ETHERTYPE_OFFSET + 1];
  if (etherType !== EtherType.Ipv4) return undefined;
  const ip = ETHERNET_HEADER_BYTES;
  const ipHeaderBytes = (frame[ip] & 0x0f) * 4;
  const totalLength = (frame[ip + IPV4_TOTAL_LENGTH_OFFSET] << 8) |
    frame[ip + IPV4_TOTAL_LENGTH_OFFSET + 1];
  if (
    frame[ip] >> 4 !== 4 || ipHeaderBytes < IPV4_MIN_HEADER_BYTES ||
    frame[ip + IPV4_PROTOCOL_OFFSET] !== IpProtocol.Udp ||
    totalLength < ipHeaderBytes + UDP_HEADER_BYTES || ip + totalLength > frame.length
  ) {
    return undefined;
  }
  const udp = ip + ipHeaderBytes;
  const headerBytes = udp + UDP_HEADER_BYTES;
  const payloadEnd = ip + totalLength;
  const count = Math.ceil((payloadEnd - headerBytes) / segmentBytes);
  if (count < 1 || count > MAX_UDP_SEGMENTS) return undefined;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const source = view.getUint32(ip + IPV4_SOURCE_OFFSET);
  const destination = view.getUint32(ip + IPV4_DESTINATION_OFFSET);
  const identification = view.getUint16(ip + IPV4_IDENTIFICATION_OFFSET);
  const frames: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const start = headerBytes + i * segmentBytes;
    const payload = frame.subarray(start, Math.min(start + segmentBytes, payloadEnd));
    const out = new Uint8Array(headerBytes + payload.length);
    out.set(frame.subarray(0, headerBytes));
    out.set(payload, headerBytes);
    const o = new DataView(out.buffer);
    o.setUint16(ip + IPV4_TOTAL_LENGTH_OFFSET, ipHeaderBytes + UDP_HEADER_BYTES + payload.length);
    o.setUint16(ip + IPV4_IDENTIFICATION_OFFSET, (identification + i) & 0xffff);
    o.setUint16(ip + IPV4_CHECKSUM_OFFSET, 0);
    o.setUint16(ip + IPV4_CHECKSUM_OFFSET, finishChecksum(sumWords(out.subarray(ip, udp))));
    const udpLength = UDP_HEADER_BYTES + payload.length;
    o.setUint16(udp + UDP_LENGTH_OFFSET, udpLength);
    o.setUint16(udp + UDP_CHECKSUM_OFFSET, 0);
    const sum = sumWords(
      out.subarray(udp),
      pseudoHeaderSum(source, destination, IpProtocol.Udp, udpLength),
    );
    // RFC 768: a computed checksum of zero is sent as all ones (zero means "no checksum").
    o.setUint16(udp + UDP_CHECKSUM_OFFSET, finishChecksum(sum) || 0xffff);
    frames.push(out);
  }
  return frames;
}
