/**
 * gonet: a user-space TCP/IP stack for Deno, in the CSP style of GoNet.
 *
 * The API mirrors Deno's own networking: `stack.listenDatagram()` returns a socket shaped like
 * `Deno.DatagramConn`; `Deno.errors.*` report failures.
 *
 * @example Two stacks in one process, joined by an in-memory cable
 * ```ts
 * import { createMemoryLinkPair, parseIpv4, parseIpv4Cidr, Stack } from "./mod.ts";
 *
 * const [a, b] = createMemoryLinkPair();
 * await using left = Stack.create({ link: a, address: parseIpv4Cidr("10.0.0.1/24")! });
 * await using right = Stack.create({ link: b, address: parseIpv4Cidr("10.0.0.2/24")! });
 * const socket = right.listenDatagram({ port: 7 });
 * const client = left.listenDatagram();
 * await client.send(new TextEncoder().encode("hi"), { hostname: "10.0.0.2", port: 7 });
 * const [data, from] = await socket.receive();
 * ```
 *
 * @example A stack on a TAP device (root, inside a network namespace you own)
 * ```ts
 * import { openTap, parseIpv4Cidr, setIpv4Address, setLinkUp, Stack } from "./mod.ts";
 *
 * const tap = openTap({ name: "gonet0", mtu: 1500 });
 * setIpv4Address("gonet0", parseIpv4Cidr("10.0.0.1/24")!);
 * setLinkUp("gonet0", true);
 * await using stack = Stack.create({ link: tap, address: parseIpv4Cidr("10.0.0.2/24")! });
 * const result = await stack.ping({ destination: 0x0a000001, identifier: 1, sequence: 1 });
 * ```
 * @module
 */

export { Stack, type StackOptions, type StackStats } from "./stack/stack.ts";
export type { EchoReply, EchoRequest, EchoResult } from "./stack/icmp/layer.ts";
export type { ListenDatagramOptions, UdpSocket } from "./stack/udp/layer.ts";
export type { NetAddr } from "./stack/net_addr.ts";
export type { ArpEntry } from "./stack/arp/cache.ts";
export {
  formatIpv4,
  formatIpv4Cidr,
  formatMac,
  type Ipv4Addr,
  type Ipv4Cidr,
  type MacAddr,
  parseIpv4,
  parseIpv4Cidr,
  parseMac,
} from "./stack/wire/addr.ts";
export {
  type Clock,
  ManualClock,
  type Random,
  SeededRandom,
  systemClock,
  systemRandom,
} from "./stack/clock.ts";
export type { LinkDevice, LinkStats } from "./stack/link/link.ts";
export { createMemoryLinkPair, type MemoryLinkOptions } from "./stack/link/memory.ts";
export { type FaultOptions, FaultyLink } from "./stack/link/faults.ts";
export { type ByteSink, PcapLink, PcapWriter } from "./stack/link/pcap.ts";
export { openTap, type TapDevice, type TapOptions } from "./ffi/tap.ts";
export { setIpv4Address, setLinkUp, setMtu } from "./ffi/netif.ts";
export { withNetns } from "./ffi/netns.ts";
export { connToDuplex, type GonetHttpServer, serveHttp } from "./node/http.ts";
export type { FrameBatch, SegmentationRequest } from "./stack/link/link.ts";
export type { RehearsalHook } from "./stack/link/echo_rehearsal.ts";
export { LinkWrapper } from "./stack/link/wrapper.ts";
export {
  ArenaPool,
  type ArenaPoolOptions,
  type ArenaPoolStats,
  releaseBytes,
  retainBytes,
} from "./stack/arena_pool.ts";
export type { FaultStats } from "./stack/link/faults.ts";
export type { TimerHandle } from "./stack/clock.ts";
export { nextMacrotask, TurnEnd, type TurnScheduler } from "./stack/turn_end.ts";
export type { TapStats } from "./ffi/tap.ts";
export * from "./stack/tcp/mod.ts";
export type { Endpoint, EndpointHost } from "./stack/tcp/endpoint.ts";
export type { ListenerHost } from "./stack/tcp/listener.ts";
export type { UdpLayer, UdpOptions, UdpStats } from "./stack/udp/layer.ts";
export type { Ipv4Layer, Ipv4Options, Ipv4Stats } from "./stack/ipv4/layer.ts";
export type { IcmpLayer, IcmpOptions, IcmpStats } from "./stack/icmp/layer.ts";
export type { ArpLayer, ArpOptions, ArpStats } from "./stack/arp/layer.ts";
export type { EthernetLayer, EthernetStats } from "./stack/ethernet/layer.ts";
export { Channel, ChannelClosedError } from "./stack/channel.ts";
export type { DropCounts } from "./stack/counters.ts";
export type {
  FrameOutput,
  IcmpErrorIn,
  IcmpErrorSender,
  IpOutput,
  IpPacketIn,
  IpPacketOut,
  IpSendResult,
  NeighbourResolver,
  TransportInput,
} from "./stack/layer.ts";
export type { ArpCache, ArpCacheOptions } from "./stack/arp/cache.ts";
export type { OutgoingFrame } from "./stack/ethernet/layer.ts";
export type { AssemblerPool, AssemblerStats } from "./stack/ipv4/assemblers.ts";
export type { Ipv4Packet } from "./stack/wire/ipv4.ts";
export type { SackBlock, TcpOptions } from "./stack/wire/tcp.ts";
export type { CongestionControl } from "./stack/tcp/congestion/types.ts";
export type { RtoEstimator } from "./stack/tcp/rto.ts";
export type { TimeWaitSnapshot } from "./stack/tcp/time_wait.ts";
