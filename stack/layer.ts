/**
 * The messages that cross layer boundaries. Layers never import each other: they share only these
 * shapes, and the composition root (`stack.ts`) connects one layer's output to the next one's
 * channel.
 * @module
 */

import type { Ipv4Addr, MacAddr } from "./wire/addr.ts";
import type { SegmentationRequest } from "./link/link.ts";

/** IP protocol numbers (IANA). Unknown values are kept as plain numbers. */
export const IpProtocol = { Icmp: 1, Tcp: 6, Udp: 17 } as const;

/** A validated IPv4 datagram handed up to a transport (after reassembly, if it was fragmented). */
export interface IpPacketIn {
  /** Source address. */
  readonly source: Ipv4Addr;
  /** Destination address (ours, or a broadcast). */
  readonly destination: Ipv4Addr;
  /** Protocol number from the header. */
  readonly protocol: number;
  /** TTL as received. */
  readonly ttl: number;
  /** The IPv4 header bytes as received, options included (ICMP errors quote them). */
  readonly header: Uint8Array;
  /** The transport payload. The receiver owns it. */
  readonly payload: Uint8Array;
  /** The link vouched for the transport checksum (offload): the transport need not verify it. */
  readonly checksumVerified?: boolean;
}

/** A transport payload to send over IPv4. */
export interface IpPacketOut {
  /** Destination address. */
  readonly destination: Ipv4Addr;
  /** Protocol number. */
  readonly protocol: number;
  /**
   * The transport payload, checksum already filled in. IPv4 copies it into a frame before
   * `send` returns (or while the packet waits for ARP), so the caller may reuse it afterwards.
   */
  readonly payload: Uint8Array;
  /** Source address; defaults to the interface address. */
  readonly source?: Ipv4Addr;
  /** Time to live; defaults to the stack's (64). */
  readonly ttl?: number;
  /** Type of service byte; defaults to 0. */
  readonly tos?: number;
  /** Set the DF bit: a packet too big for the MTU is refused instead of fragmented. */
  readonly dontFragment?: boolean;
  /**
   * A TCP super-segment for the link to cut into segments of this many data bytes (TSO), its
   * checksum in partial form. Only valid up to {@link IpOutput.maxSegmentationBytes}.
   */
  readonly segmentBytes?: number;
}

/**
 * What became of a packet handed to {@link IpOutput.send}:
 * `sent` (on the wire), `queued` (waiting for ARP), `no-route`, `too-big` (DF set and larger
 * than the MTU), `unresolved` (ARP queue for that neighbour full).
 */
export type IpSendResult = "sent" | "queued" | "no-route" | "too-big" | "unresolved";

/** The IPv4 layer as seen from above. */
export interface IpOutput {
  /** Sends one datagram, fragmenting it when needed and allowed. */
  send(packet: IpPacketOut): IpSendResult;
  /** The source address used for `destination` (the interface address). */
  sourceFor(destination: Ipv4Addr): Ipv4Addr;
  /** The MTU of the path to `destination`. */
  mtuFor(destination: Ipv4Addr): number;
  /** Largest transport payload the link can segment for us (TSO), or 0 when it cannot. */
  maxSegmentationBytes?(destination: Ipv4Addr): number;
}

/** An ICMP error received for a datagram we sent, handed to the transport that sent it. */
export interface IcmpErrorIn {
  /** ICMP type (3 unreachable, 11 time exceeded, 12 parameter problem). */
  readonly type: number;
  /** ICMP code. */
  readonly code: number;
  /** Who sent the error. */
  readonly reporter: Ipv4Addr;
  /** Next-hop MTU for "fragmentation needed" (type 3 code 4), else 0. */
  readonly nextHopMtu: number;
  /** Source of the quoted datagram (our address). */
  readonly source: Ipv4Addr;
  /** Destination of the quoted datagram. */
  readonly destination: Ipv4Addr;
  /** Protocol of the quoted datagram. */
  readonly protocol: number;
  /** The quoted transport bytes (at least the first 8: ports for UDP and TCP). */
  readonly quoted: Uint8Array;
}

/** What a transport's dealer receives: datagrams and ICMP errors about its own datagrams. */
export type TransportInput =
  | { readonly kind: "packet"; readonly packet: IpPacketIn }
  | { readonly kind: "icmp-error"; readonly error: IcmpErrorIn };

/** Sends an ICMP error about an offending datagram (rate limiting and RFC 1122 rules apply). */
export type IcmpErrorSender = (
  type: number,
  code: number,
  offending: { header: Uint8Array; payload: Uint8Array; source: Ipv4Addr; destination: Ipv4Addr },
) => void;

/**
 * The Ethernet layer as seen from above: our MAC, and transmission of a frame whose bytes 0..14 are
 * left for the header.
 */
export interface FrameOutput {
  /** Our MAC address. */
  readonly mac: MacAddr;
  /** Fills the header in place and writes the frame; false when the link dropped it. */
  transmit(frame: Uint8Array, destination: MacAddr, etherType: number): boolean;
  /** Largest frame {@link transmitSegmented} accepts; 0 when the link cannot segment. */
  readonly maxSegmentedFrameBytes: number;
  /** Like {@link transmit}, for a TCP super-frame the link cuts into segments. */
  transmitSegmented(
    frame: Uint8Array,
    destination: MacAddr,
    request: SegmentationRequest,
  ): boolean;
}

/** ARP as seen from IPv4: a cache lookup without waiting, and a resolution that may wait. */
export interface NeighbourResolver {
  /** The cached MAC of `address`, if any. */
  lookup(address: Ipv4Addr): MacAddr | undefined;
  /** The MAC of `address`, asking the network if needed; `undefined` when nobody answered. */
  resolve(address: Ipv4Addr): Promise<MacAddr | undefined>;
}
