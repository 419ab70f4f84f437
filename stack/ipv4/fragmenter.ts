/**
 * IPv4 fragmentation (RFC 791 §2.3 "Fragmentation", §3.2 "Fragmentation and reassembly"
 * procedure). Pure: bytes in, packets out.
 * @module
 */

import {
  emitIpv4Header,
  IPV4_MAX_PACKET_BYTES,
  IPV4_MIN_HEADER_BYTES,
  type Ipv4Repr,
} from "../wire/ipv4.ts";

/** The smallest MTU that can carry a fragment: a 20-byte header and one 8-byte block. */
export const MIN_FRAGMENTABLE_MTU = IPV4_MIN_HEADER_BYTES + 8;

/**
 * Splits `payload` into complete IPv4 packets (option-less 20-byte header plus data) that each fit
 * in `mtu` bytes. When the whole datagram fits, the result is one packet with the flags of `repr`.
 * Otherwise (RFC 791 §3.2):
 * - every fragment but the last carries the largest multiple of 8 data bytes that fits;
 * - all share `repr.identification`, source, destination, protocol, TTL and TOS;
 * - fragment offsets (in bytes) start at `repr.fragmentOffset ?? 0`, so a fragment can itself be
 *   fragmented again;
 * - MF is set on all but the last, which keeps `repr.moreFragments`;
 * - each header carries its own checksum.
 *
 * `repr.payloadLength` is ignored: the length comes from `payload`. `repr.dontFragment` is copied
 * as given; refusing to fragment a DF datagram is the caller's decision. Every packet is a fresh
 * array the caller owns. Throws a RangeError for an MTU below {@link MIN_FRAGMENTABLE_MTU} or a
 * datagram that cannot exist (more than 65535 bytes, or ending past the 13-bit offset range).
 * @example
 * ```ts
 * const repr = { source: 0x0a000001, destination: 0x0a000002, protocol: 17, ttl: 64 };
 * const packets = fragmentIpv4({ ...repr, payloadLength: 3000, identification: 7 },
 *   new Uint8Array(3000), 1500);
 * packets.map((p) => p.length); // [1500, 1500, 60]
 * ```
 */
export function fragmentIpv4(repr: Ipv4Repr, payload: Uint8Array, mtu: number): Uint8Array[] {
  if (!(mtu >= MIN_FRAGMENTABLE_MTU)) {
    throw new RangeError(`Cannot fragment: MTU ${mtu} is below ${MIN_FRAGMENTABLE_MTU}`);
  }
  if (IPV4_MIN_HEADER_BYTES + payload.length > IPV4_MAX_PACKET_BYTES) {
    throw new RangeError(
      `Cannot fragment: a ${payload.length}-byte payload exceeds the 65535-byte IPv4 datagram`,
    );
  }
  const baseOffset = repr.fragmentOffset ?? 0;
  const lastMoreFragments = repr.moreFragments ?? false;
  if (IPV4_MIN_HEADER_BYTES + payload.length <= mtu) {
    return [packet(repr, payload, baseOffset, lastMoreFragments)];
  }
  // RFC 791 §3.2: the data of every fragment but the last is a multiple of 8 octets.
  const maxData = Math.floor((mtu - IPV4_MIN_HEADER_BYTES) / 8) * 8;
  const packets: Uint8Array[] = [];
  for (let start = 0; start < payload.length; start += maxData) {
    const end = Math.min(start + maxData, payload.length);
    const isLast = end === payload.length;
    packets.push(
      packet(
        repr,
        payload.subarray(start, end),
        baseOffset + start,
        isLast ? lastMoreFragments : true,
      ),
    );
  }
  return packets;
}

function packet(
  repr: Ipv4Repr,
  data: Uint8Array,
  fragmentOffset: number,
  moreFragments: boolean,
): Uint8Array {
  const out = new Uint8Array(IPV4_MIN_HEADER_BYTES + data.length);
  emitIpv4Header({ ...repr, payloadLength: data.length, fragmentOffset, moreFragments }, out);
  out.set(data, IPV4_MIN_HEADER_BYTES);
  return out;
}
