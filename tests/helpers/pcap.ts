/**
 * Reading back the pcap files `gonet up --pcap` writes (classic format, microsecond
 * timestamps, little-endian, LINKTYPE_ETHERNET), for tests that check what went over the TAP.
 * @module
 */

import assert from "node:assert/strict";

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

/** The TCP segments among `frames` (IPv4 over Ethernet II, first fragments only). */
export function tcpSegments(frames: Uint8Array[]): CapturedTcp[] {
  const segments: CapturedTcp[] = [];
  for (const frame of frames) {
    if (frame[12] !== 0x08 || frame[13] !== 0x00 || frame[14 + 9] !== 6) continue;
    const ip = frame.subarray(14);
    const ipHeader = (ip[0] & 0x0f) * 4;
    const totalLength = (ip[2] << 8) | ip[3];
    const tcp = ip.subarray(ipHeader, totalLength);
    const tcpHeader = (tcp[12] >> 4) * 4;
    segments.push({
      source: ip.subarray(12, 16).join("."),
      sourcePort: (tcp[0] << 8) | tcp[1],
      flags: tcp[13],
      payloadLength: tcp.length - tcpHeader,
    });
  }
  return segments;
}
