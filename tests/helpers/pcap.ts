/**
 * Reading back the pcap files `gonet up --pcap` writes (classic format, microsecond
 * timestamps, little-endian, LINKTYPE_ETHERNET), for tests that check what went over the TAP.
 * @module
 */

import assert from "node:assert/strict";
import { formatIpv4 } from "../../stack/wire/addr.ts";
import { EtherType, parseEthernet } from "../../stack/wire/ethernet.ts";
import { parseIpv4 } from "../../stack/wire/ipv4.ts";
import { IpProtocol } from "../../stack/layer.ts";
import { parseTcp } from "../../stack/wire/tcp.ts";

/** The frames of a pcap file, in order; checks the magic and the link type. */
export function pcapFrames(bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(view.getUint32(0, true), 0xa1b2c3d4, "pcap magic");
  assert.equal(view.getUint32(20, true), 1, "LINKTYPE_ETHERNET");
  const frames: Uint8Array[] = [];
  for (let offset = 24; offset + 16 <= bytes.length;) {
    const captured = view.getUint32(offset + 8, true);
    frames.push(bytes.subarray(offset + 16, offset + 16 + captured));
    offset += 16 + captured;
  }
  return frames;
}

/** A TCP segment in an IPv4 frame: its source, flags and payload length. */
export interface CapturedTcp {
  /** Source address as dotted text. */
  source: string;
  /** Source port. */
  sourcePort: number;
  /** The flags byte (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10). */
  flags: number;
  /** Payload bytes. */
  payloadLength: number;
}

/**
 * The TCP segments among `frames` (IPv4 over Ethernet II), through the stack's own parsers.
 * Checksums are not checked: with offloads the stack leaves them for the kernel to finish.
 */
export function tcpSegments(frames: Uint8Array[]): CapturedTcp[] {
  const segments: CapturedTcp[] = [];
  for (const frame of frames) {
    const ethernet = parseEthernet(frame);
    if (!ethernet.ok || ethernet.value.etherType !== EtherType.Ipv4) continue;
    const ip = parseIpv4(ethernet.value.payload, { verifyChecksum: false });
    if (!ip.ok || ip.value.protocol !== IpProtocol.Tcp) continue;
    const { source, destination, payload } = ip.value;
    const tcp = parseTcp(payload, source, destination, { verifyChecksum: false });
    if (!tcp.ok) continue;
    segments.push({
      source: formatIpv4(source),
      sourcePort: tcp.value.sourcePort,
      flags: tcp.value.flags,
      payloadLength: tcp.value.payload.length,
    });
  }
  return segments;
}
