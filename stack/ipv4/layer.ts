/**
 * The IPv4 dealer (RFC 791, host requirements of RFC 1122 §3.2.1). Ingress: validates each packet
 * (drops counted by reason), keeps those for us, sends fragments to one assembler task per datagram
 * (`assemblers.ts`) and hands whole datagrams to the channel of their protocol. Egress: a direct
 * call that routes, fragments when allowed, and resolves the next hop through ARP, parking packets
 * for a neighbour whose MAC is still being resolved.
 * @module
 */

import type { Channel } from "../channel.ts";
import type { Clock, Random } from "../clock.ts";
import { countDrop, type DropCounts } from "../counters.ts";
import type {
  FrameOutput,
  IcmpErrorSender,
  IpOutput,
  IpPacketIn,
  IpPacketOut,
  IpSendResult,
  NeighbourResolver,
  TransportInput,
} from "../layer.ts";
import { type Ipv4Addr, MAC_BROADCAST } from "../wire/addr.ts";
import { ETHERNET_HEADER_BYTES, EtherType } from "../wire/ethernet.ts";
import { IcmpTimeExceededCode, IcmpType, IcmpUnreachableCode } from "../wire/icmp.ts";
import {
  emitIpv4Header,
  IPV4_MAX_PACKET_BYTES,
  IPV4_MIN_HEADER_BYTES,
  type Ipv4Packet,
  type Ipv4Repr,
  parseIpv4,
} from "../wire/ipv4.ts";
import { AssemblerPool } from "./assemblers.ts";
import { fragmentIpv4 } from "./fragmenter.ts";
import type { RouteTable } from "./route.ts";
import type { FrameBatch } from "../link/link.ts";

/** Tunables of the IPv4 layer, with defaults. */
export interface Ipv4Options {
  /** TTL of datagrams we originate (default 64). */
  ttl?: number;
  /** Give up reassembling a datagram after this long (default 30 000 ms). */
  reassemblyTimeoutMs?: number;
  /** Datagrams reassembled at once; the oldest is evicted beyond it (default 256). */
  maxReassemblies?: number;
  /** Bytes held by all reassemblies together (default 4 MiB). */
  maxReassemblyBytes?: number;
  /** Packets parked per neighbour while ARP resolves it (default 64). */
  maxPendingPerNeighbour?: number;
}

/** Counters of the IPv4 layer. */
export interface Ipv4Stats {
  /** Datagrams delivered to a transport (reassembled ones count once). */
  delivered: number;
  /** Datagrams sent (before fragmentation). */
  sent: number;
  /** Fragments received. */
  fragmentsIn: number;
  /** Fragments sent. */
  fragmentsOut: number;
  /** Datagrams rebuilt from fragments. */
  reassembled: number;
  /** TCP super-segments handed to the link to cut (TSO). */
  segmentedOut: number;
  /** Packets dropped, by reason. */
  drops: DropCounts;
}

/** What the IPv4 layer needs from the rest of the stack. */
export interface Ipv4Deps {
  /** The Ethernet layer below. */
  readonly ethernet: FrameOutput;
  /** ARP, for next-hop resolution. */
  readonly arp: NeighbourResolver;
  /** The interface's routes. */
  readonly routes: RouteTable;
  /** Time source. */
  readonly clock: Clock;
  /** Randomness (initial identification). */
  readonly random: Random;
  /** Where ICMP errors we originate go. */
  readonly sendIcmpError: IcmpErrorSender;
}

/** The IPv4 layer of one interface. */
export class Ipv4Layer implements IpOutput {
  /** Counters. */
  readonly stats: Ipv4Stats = {
    delivered: 0,
    sent: 0,
    fragmentsIn: 0,
    fragmentsOut: 0,
    reassembled: 0,
    segmentedOut: 0,
    drops: {},
  };
  /** The reassembly tasks. */
  readonly assemblers: AssemblerPool;
  readonly #deps: Ipv4Deps;
  readonly #ttl: number;
  readonly #maxPending: number;
  readonly #protocols = new Map<number, Channel<TransportInput>>();
  readonly #pending = new Map<Ipv4Addr, Uint8Array[]>();
  readonly #mtu: number;
  // One frame buffer reused for every send: the link copies or writes a frame before returning.
  readonly #scratch: Uint8Array;
  #identification: number;
  #inbox: Channel<FrameBatch> | undefined;

  /** Creates the layer; `mtu` is the link's. */
  constructor(deps: Ipv4Deps, mtu: number, options: Ipv4Options = {}) {
    this.#deps = deps;
    this.#mtu = mtu;
    this.#ttl = options.ttl ?? 64;
    this.#maxPending = options.maxPendingPerNeighbour ?? 64;
    this.#scratch = new Uint8Array(ETHERNET_HEADER_BYTES + IPV4_MAX_PACKET_BYTES);
    this.#identification = deps.random.nextU32() & 0xffff;
    this.assemblers = new AssemblerPool({
      clock: deps.clock,
      timeoutMs: options.reassemblyTimeoutMs,
      maxAssemblies: options.maxReassemblies,
      maxHeldBytes: options.maxReassemblyBytes,
      onComplete: (datagram) => this.#reassembled(datagram),
      onTimeout: (first) => this.#reassemblyTimedOut(first),
    });
  }

  /** Routes datagrams of `protocol` to `channel`. */
  bindProtocol(protocol: number, channel: Channel<TransportInput>): void {
    this.#protocols.set(protocol, channel);
  }

  /** The dealer loop over IPv4 packets from the Ethernet layer; ends when `inbox` closes. */
  async run(inbox: Channel<FrameBatch>): Promise<void> {
    this.#inbox = inbox;
    try {
      for (let queued = await inbox.receiveBatch(); queued; queued = await inbox.receiveBatch()) {
        for (const batch of queued) {
          const verified = batch.verified;
          for (let i = 0; i < batch.length; i++) this.#receive(batch[i], verified?.[i] === 1);
        }
      }
    } finally {
      this.assemblers.close();
    }
  }

  /** Our address for any destination (one interface). */
  sourceFor(_destination: Ipv4Addr): Ipv4Addr {
    return this.#deps.routes.interface.address;
  }

  /** The link MTU (no path MTU discovery yet). */
  mtuFor(_destination: Ipv4Addr): number {
    return this.#mtu;
  }

  /** Largest TCP payload the link can segment (TSO), or 0. */
  maxSegmentationBytes(_destination: Ipv4Addr): number {
    const frame = this.#deps.ethernet.maxSegmentedFrameBytes;
    if (frame <= 0) return 0;
    return Math.min(IPV4_MAX_PACKET_BYTES, frame - ETHERNET_HEADER_BYTES) - IPV4_MIN_HEADER_BYTES;
  }

  /** Sends one datagram; see {@link IpSendResult}. */
  send(packet: IpPacketOut): IpSendResult {
    const routes = this.#deps.routes;
    const payloadLength = packet.payload.length;
    if (IPV4_MIN_HEADER_BYTES + payloadLength > IPV4_MAX_PACKET_BYTES) return "too-big";
    const source = packet.source ?? routes.interface.address;
    const local = packet.destination === routes.interface.address;
    const hop = local ? undefined : routes.nextHop(packet.destination);
    if (hop?.kind === "none") {
      countDrop(this.stats.drops, "no-route");
      return "no-route";
    }
    const fits = IPV4_MIN_HEADER_BYTES + payloadLength <= this.#mtu;
    if (!fits && packet.dontFragment) return "too-big";
    const repr = {
      source,
      destination: packet.destination,
      protocol: packet.protocol,
      ttl: packet.ttl ?? this.#ttl,
      payloadLength,
      identification: this.#nextIdentification(),
      dontFragment: packet.dontFragment ?? false,
      tos: packet.tos ?? 0,
    };
    this.stats.sent++;
    if (!fits && !local && packet.segmentBytes !== undefined) {
      return this.#sendSegmented(repr, packet.payload, packet.segmentBytes, hop!);
    }
    if (fits || local) {
      const frame = this.#scratch.subarray(
        0,
        ETHERNET_HEADER_BYTES + IPV4_MIN_HEADER_BYTES + payloadLength,
      );
      emitIpv4Header(repr, frame.subarray(ETHERNET_HEADER_BYTES));
      frame.set(packet.payload, ETHERNET_HEADER_BYTES + IPV4_MIN_HEADER_BYTES);
      if (local) return this.#loopback(frame.subarray(ETHERNET_HEADER_BYTES));
      return this.#transmit(frame, hop!);
    }
    let result: IpSendResult = "sent";
    for (const fragment of fragmentIpv4(repr, packet.payload, this.#mtu)) {
      const frame = this.#scratch.subarray(0, ETHERNET_HEADER_BYTES + fragment.length);
      frame.set(fragment, ETHERNET_HEADER_BYTES);
      this.stats.fragmentsOut++;
      const r = this.#transmit(frame, hop!);
      if (r !== "sent") result = r;
    }
    return result;
  }

  /**
   * Sends a TCP super-segment as one frame for the link to cut (TSO). It needs a resolved
   * neighbour: TCP's first segments (the handshake) resolved it, and a miss just drops, counted,
   * for TCP to retransmit in ordinary segments.
   */
  #sendSegmented(
    repr: Ipv4Repr,
    payload: Uint8Array,
    segmentBytes: number,
    hop: { kind: "unicast"; address: Ipv4Addr } | { kind: "broadcast" },
  ): IpSendResult {
    const ethernet = this.#deps.ethernet;
    const frameBytes = ETHERNET_HEADER_BYTES + IPV4_MIN_HEADER_BYTES + payload.length;
    const mac = hop.kind === "unicast" ? this.#deps.arp.lookup(hop.address) : undefined;
    if (mac === undefined || frameBytes > ethernet.maxSegmentedFrameBytes) {
      countDrop(this.stats.drops, "segmentation-unavailable");
      return "unresolved";
    }
    const frame = this.#scratch.subarray(0, frameBytes);
    emitIpv4Header(repr, frame.subarray(ETHERNET_HEADER_BYTES));
    frame.set(payload, ETHERNET_HEADER_BYTES + IPV4_MIN_HEADER_BYTES);
    const tcpHeaderBytes = (payload[12] >>> 4) * 4;
    const sent = ethernet.transmitSegmented(frame, mac, {
      segmentBytes,
      headerBytes: ETHERNET_HEADER_BYTES + IPV4_MIN_HEADER_BYTES + tcpHeaderBytes,
      checksumStart: ETHERNET_HEADER_BYTES + IPV4_MIN_HEADER_BYTES,
    });
    if (!sent) return "unresolved";
    this.stats.segmentedOut++;
    return "sent";
  }

  /**
   * Takes one delivered and one sent packet out of the counters: a link's rehearsal
   * (`LinkDevice.setRehearsalHook`), which went up and back down like a real echo.
   */
  forgetRehearsedPackets(): void {
    this.stats.delivered--;
    this.stats.sent--;
  }

  /** Stops reassembly tasks and forgets parked packets. */
  close(): void {
    this.assemblers.close();
    this.#pending.clear();
  }

  #nextIdentification(): number {
    this.#identification = (this.#identification + 1) & 0xffff;
    return this.#identification;
  }

  #loopback(packet: Uint8Array): IpSendResult {
    // A datagram to ourselves re-enters ingress as if it came from the wire.
    if (!this.#inbox?.trySend([packet.slice()])) {
      countDrop(this.stats.drops, "inbox-full");
      return "unresolved";
    }
    return "sent";
  }

  #transmit(
    frame: Uint8Array,
    hop: { kind: "unicast"; address: Ipv4Addr } | { kind: "broadcast" },
  ): IpSendResult {
    const ethernet = this.#deps.ethernet;
    if (hop.kind === "broadcast") {
      return ethernet.transmit(frame, MAC_BROADCAST, EtherType.Ipv4) ? "sent" : "unresolved";
    }
    const mac = this.#deps.arp.lookup(hop.address);
    if (mac !== undefined) {
      return ethernet.transmit(frame, mac, EtherType.Ipv4) ? "sent" : "unresolved";
    }
    return this.#park(frame, hop.address);
  }

  /** Holds a copy of `frame` until ARP resolves `neighbour` (RFC 1122 §2.3.2.2: queue at least one). */
  #park(frame: Uint8Array, neighbour: Ipv4Addr): IpSendResult {
    let queue = this.#pending.get(neighbour);
    if (queue && queue.length >= this.#maxPending) {
      countDrop(this.stats.drops, "arp-queue-full");
      return "unresolved";
    }
    if (!queue) {
      queue = [];
      this.#pending.set(neighbour, queue);
      this.#deps.arp.resolve(neighbour).then((mac) => {
        const parked = this.#pending.get(neighbour) ?? [];
        this.#pending.delete(neighbour);
        for (const f of parked) {
          if (mac === undefined) countDrop(this.stats.drops, "unresolved");
          else this.#deps.ethernet.transmit(f, mac, EtherType.Ipv4);
        }
      });
    }
    queue.push(frame.slice());
    return "queued";
  }

  #receive(bytes: Uint8Array, checksumVerified: boolean): void {
    const drops = this.stats.drops;
    const parsed = parseIpv4(bytes);
    if (!parsed.ok) return countDrop(drops, parsed.reason);
    const packet = parsed.value;
    const routes = this.#deps.routes;
    if (!routes.isLocal(packet.destination)) return countDrop(drops, "not-for-us");
    if (isMartianSource(packet.source) || routes.isInvalidSource(packet.source)) {
      return countDrop(drops, "martian-source");
    }
    // A datagram claiming to come from us arrives only if someone forged it (the LAND attack).
    if (packet.source === routes.interface.address) return countDrop(drops, "land");
    if (packet.moreFragments || packet.fragmentOffset > 0) {
      this.stats.fragmentsIn++;
      this.assemblers.deliver(packet);
      return;
    }
    this.#dispatch(packet, checksumVerified);
  }

  #dispatch(packet: Ipv4Packet, checksumVerified: boolean): void {
    const channel = this.#protocols.get(packet.protocol);
    const header = packet.header;
    const payload = packet.payload;
    if (!channel) {
      countDrop(this.stats.drops, "unknown-protocol");
      this.#deps.sendIcmpError(IcmpType.DestinationUnreachable, IcmpUnreachableCode.Protocol, {
        header,
        payload,
        source: packet.source,
        destination: packet.destination,
      });
      return;
    }
    const input: IpPacketIn = {
      source: packet.source,
      destination: packet.destination,
      protocol: packet.protocol,
      ttl: packet.ttl,
      header,
      payload,
      checksumVerified,
    };
    if (!channel.trySend({ kind: "packet", packet: input })) {
      return countDrop(this.stats.drops, "transport-inbox-full");
    }
    this.stats.delivered++;
  }

  #reassembled(datagram: Uint8Array): void {
    const parsed = parseIpv4(datagram, { verifyChecksum: false });
    if (!parsed.ok) return countDrop(this.stats.drops, `reassembled-${parsed.reason}`);
    this.stats.reassembled++;
    this.#dispatch(parsed.value, false);
  }

  #reassemblyTimedOut(first: Ipv4Packet): void {
    // RFC 792 / RFC 1122 §3.2.1.4: time exceeded, code 1, only if fragment zero arrived.
    this.#deps.sendIcmpError(IcmpType.TimeExceeded, IcmpTimeExceededCode.ReassemblyTimeout, {
      header: first.header,
      payload: first.payload,
      source: first.source,
      destination: first.destination,
    });
  }
}

/**
 * RFC 1122 §3.2.1.3: a host silently discards datagrams whose source is a broadcast, multicast,
 * "this network" (0/8) or loopback (127/8) address.
 */
export function isMartianSource(source: Ipv4Addr): boolean {
  const first = source >>> 24;
  return first === 0 || first === 127 || first >= 224;
}
