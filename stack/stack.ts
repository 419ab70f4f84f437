/**
 * The composition root: creates one channel per layer, starts one dealer per layer, wires each
 * layer's output to the next one's channel, and owns shutdown. It is the only file that knows all
 * the layers; they know only the shapes in `layer.ts`.
 *
 * ```
 * link ─batches─▶ Ethernet ─┬─ch─▶ ARP ── resolver task per address
 *                           └─ch─▶ IPv4 ── assembler task per datagram
 *                                   ├─ch─▶ ICMP
 *                                   ├─ch─▶ UDP ─ch─▶ socket
 *                                   └─ch─▶ TCP ─ch─▶ connection tasks
 * ```
 * @module
 */

import { ArpLayer, type ArpOptions, type ArpStats } from "./arp/layer.ts";
import type { ArpEntry } from "./arp/cache.ts";
import { Channel } from "./channel.ts";
import { type Clock, type Random, systemClock, systemRandom } from "./clock.ts";
import { EthernetLayer, type EthernetStats } from "./ethernet/layer.ts";
import {
  type EchoRequest,
  type EchoResult,
  IcmpLayer,
  type IcmpOptions,
  type IcmpStats,
} from "./icmp/layer.ts";
import { Ipv4Layer, type Ipv4Options, type Ipv4Stats } from "./ipv4/layer.ts";
import { RouteTable } from "./ipv4/route.ts";
import { IpProtocol, type TransportInput } from "./layer.ts";
import type { FrameBatch, LinkDevice, LinkStats } from "./link/link.ts";
import {
  type ListenDatagramOptions,
  UdpLayer,
  type UdpOptions,
  type UdpSocket,
  type UdpStats,
} from "./udp/layer.ts";
import { type Ipv4Addr, type Ipv4Cidr, type MacAddr, randomLocalMac } from "./wire/addr.ts";
import { EtherType } from "./wire/ethernet.ts";
import { TcpLayer, type TcpLayerOptions, type TcpStats } from "./tcp/layer.ts";
import { TurnEnd, type TurnScheduler } from "./turn_end.ts";
import type { TcpConn } from "./tcp/conn.ts";
import type { TcpListener } from "./tcp/listener.ts";

/** Options of {@link Stack.create}. */
export interface StackOptions {
  /** The device frames go through (a TAP, an in-memory link, or a wrapper). */
  link: LinkDevice;
  /** Our address and subnet, e.g. `{ address: parseIpv4("10.0.0.2"), prefixLength: 24 }`. */
  address: Ipv4Cidr;
  /** Our MAC; default: a random locally administered one. */
  mac?: MacAddr;
  /** Default gateway (must be on-link). */
  gateway?: Ipv4Addr;
  /** Time source (default: the system clock). */
  clock?: Clock;
  /** Randomness (default: crypto). */
  random?: Random;
  /** Packets each layer's inbox holds before ingress drops (default 4096). */
  inboxPackets?: number;
  /** Skip the gratuitous ARP at start (default false). */
  quiet?: boolean;
  /** ARP tunables. */
  arp?: ArpOptions;
  /** IPv4 tunables. */
  ipv4?: Ipv4Options;
  /** ICMP tunables. */
  icmp?: IcmpOptions;
  /** UDP tunables. */
  udp?: UdpOptions;
  /** TCP tunables (caps, timers, congestion control). */
  tcp?: Omit<TcpLayerOptions, "ip" | "clock" | "random" | "localAddress" | "turnEnd">;
  /**
   * Runs end-of-turn work (corked TCP writes) when the link does not run it first
   * (`stack/turn_end.ts`); default: the next macrotask. Tests inject their own.
   */
  turnScheduler?: TurnScheduler;
}

/** A snapshot of every layer's counters. */
export interface StackStats {
  /** Link device counters. */
  link: LinkStats;
  /** Ethernet counters. */
  ethernet: EthernetStats;
  /** ARP counters, plus the cache size. */
  arp: ArpStats & { entries: number };
  /** IPv4 counters, plus reassembly state. */
  ipv4: Ipv4Stats & { reassembly: Record<string, number> };
  /** ICMP counters. */
  icmp: IcmpStats;
  /** UDP counters, plus the ports bound now. */
  udp: UdpStats & { boundPorts: number[] };
  /** TCP counters. */
  tcp: TcpStats;
}

/**
 * A running user-space TCP/IP stack on one link.
 * @example
 * ```ts
 * const [a, b] = createMemoryLinkPair();
 * await using left = Stack.create({ link: a, address: parseIpv4Cidr("10.0.0.1/24")! });
 * await using right = Stack.create({ link: b, address: parseIpv4Cidr("10.0.0.2/24")! });
 * const result = await left.ping({ destination: right.address.address, identifier: 1, sequence: 1 });
 * ```
 */
export class Stack implements AsyncDisposable {
  /** Our MAC address. */
  readonly mac: MacAddr;
  /** Our address and subnet. */
  readonly address: Ipv4Cidr;
  /** The link below. */
  readonly link: LinkDevice;
  /** The clock every layer uses. */
  readonly clock: Clock;
  /** Ethernet layer. */
  readonly ethernet: EthernetLayer;
  /** ARP layer. */
  readonly arp: ArpLayer;
  /** IPv4 layer. */
  readonly ipv4: Ipv4Layer;
  /** ICMP layer. */
  readonly icmp: IcmpLayer;
  /** UDP layer. */
  readonly udp: UdpLayer;
  /** TCP layer. */
  readonly tcp: TcpLayer;
  readonly #channels: Channel<unknown>[] = [];
  readonly #dealers: Promise<void>[] = [];
  #closing: Promise<void> | undefined;

  private constructor(options: StackOptions) {
    const clock = options.clock ?? systemClock;
    const random = options.random ?? systemRandom;
    const capacity = options.inboxPackets ?? 4096;
    this.clock = clock;
    this.link = options.link;
    this.address = options.address;
    this.mac = options.mac ?? randomLocalMac(() => random.nextU32());
    const routes = new RouteTable(options.address, options.gateway);

    this.ethernet = new EthernetLayer(this.link, this.mac);
    this.arp = new ArpLayer(this.ethernet, options.address.address, clock, options.arp);
    // ICMP needs IPv4 to send and IPv4 needs ICMP to report errors: a late-bound callback breaks
    // the cycle without either layer importing the other.
    this.ipv4 = new Ipv4Layer(
      {
        ethernet: this.ethernet,
        arp: this.arp,
        routes,
        clock,
        random,
        sendIcmpError: (type, code, offending) => this.icmp?.sendError(type, code, offending),
      },
      this.link.mtu,
      options.ipv4,
    );
    this.icmp = new IcmpLayer(this.ipv4, clock, random, options.icmp);
    this.udp = new UdpLayer(
      this.ipv4,
      random,
      (type, code, offending) => this.icmp.sendError(type, code, offending),
      options.udp,
    );

    // One end-of-turn queue: the link runs it before it spins or blocks, the scheduler otherwise.
    const turnEnd = new TurnEnd(options.turnScheduler);
    this.link.setTurnHook?.(() => runTurnEndFromLink(turnEnd));
    this.link.setRehearsalHook?.({
      // The answer would take the same path: our address, the way back resolved (no ARP request
      // goes out for a rehearsal), a rate-limit token to spend (and give back).
      ready: (source, destination) => {
        if (destination !== this.address.address) return false;
        const hop = routes.nextHop(source);
        return hop.kind === "unicast" && this.arp.lookup(hop.address) !== undefined &&
          this.icmp.mayAnswerEcho();
      },
      // A rehearsed echo went through every layer as a real one does: no counter keeps it.
      rehearsed: () => {
        this.ethernet.forgetRehearsedFrames();
        this.ipv4.forgetRehearsedPackets();
        this.icmp.forgetRehearsedEcho();
      },
    });
    this.tcp = new TcpLayer({
      ...options.tcp,
      ip: this.ipv4,
      clock,
      random,
      localAddress: options.address.address,
      turnEnd,
    });

    // Ethernet hands over batches (one per link wakeup, at most a few hundred frames each).
    const batchCapacity = Math.max(16, Math.ceil(capacity / 16));
    const arpInbox = this.#channel<FrameBatch>(batchCapacity, "arp.in");
    const ipv4Inbox = this.#channel<FrameBatch>(batchCapacity, "ipv4.in");
    const icmpInbox = this.#channel<TransportInput>(capacity, "icmp.in");
    const udpInbox = this.#channel<TransportInput>(capacity, "udp.in");
    const tcpInbox = this.#channel<TransportInput>(capacity, "tcp.in");
    this.ethernet.bind(EtherType.Arp, arpInbox);
    this.ethernet.bind(EtherType.Ipv4, ipv4Inbox);
    this.ipv4.bindProtocol(IpProtocol.Icmp, icmpInbox);
    this.ipv4.bindProtocol(IpProtocol.Udp, udpInbox);
    this.ipv4.bindProtocol(IpProtocol.Tcp, tcpInbox);
    this.icmp.bindErrors(IpProtocol.Udp, udpInbox);
    this.icmp.bindErrors(IpProtocol.Tcp, tcpInbox);

    this.#dealers.push(
      this.ethernet.run(),
      this.arp.run(arpInbox),
      this.ipv4.run(ipv4Inbox),
      this.icmp.run(icmpInbox),
      this.udp.run(udpInbox),
      this.tcp.run(tcpInbox),
    );
    if (!options.quiet) this.arp.announce();
  }

  /** Starts a stack: its dealers run until {@link close}. */
  static create(options: StackOptions): Stack {
    return new Stack(options);
  }

  /** Sends one echo request; see {@link IcmpLayer.ping}. */
  ping(request: EchoRequest): Promise<EchoResult> {
    return this.icmp.ping(request);
  }

  /** The ARP cache entries. */
  arpEntries(): ArpEntry[] {
    return this.arp.cache.entries(this.clock.now());
  }

  /** Resolves `address` to a MAC, asking the network if needed. */
  resolve(address: Ipv4Addr): Promise<MacAddr | undefined> {
    return this.arp.resolve(address);
  }

  /** Binds a UDP socket, like `Deno.listenDatagram`. */
  listenDatagram(options: ListenDatagramOptions = {}): UdpSocket {
    return this.udp.listenDatagram(options);
  }

  /** Opens a TCP connection, like `Deno.connect`. */
  connect(options: { hostname: string; port: number; localPort?: number }): Promise<TcpConn> {
    return this.tcp.connect(options);
  }

  /** Listens for TCP connections, like `Deno.listen`. */
  listen(options: { port: number; hostname?: string; backlog?: number }): TcpListener {
    return this.tcp.listen(options);
  }

  /** A snapshot of all counters. */
  stats(): StackStats {
    const clone = <T>(value: T): T => structuredClone(value);
    return {
      link: clone(this.link.stats),
      ethernet: clone(this.ethernet.stats),
      arp: { ...clone(this.arp.stats), entries: this.arp.cache.size },
      ipv4: { ...clone(this.ipv4.stats), reassembly: { ...this.ipv4.assemblers.stats } },
      icmp: clone(this.icmp.stats),
      udp: { ...clone(this.udp.stats), boundPorts: this.udp.boundPorts },
      tcp: this.tcp.stats,
    };
  }

  /** Stops every dealer, closes the link and waits for the dealers to finish. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.arp.close();
      this.ipv4.close();
      this.icmp.close();
      await this.tcp.close();
      for (const channel of this.#channels) channel.close();
      await this.link.close();
      await Promise.allSettled(this.#dealers);
    })();
    return this.#closing;
  }

  /** Closes the stack (`await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #channel<T>(capacity: number, name: string): Channel<T> {
    const channel = new Channel<T>(capacity, name);
    this.#channels.push(channel as Channel<unknown>);
    return channel;
  }
}

/**
 * Runs `turnEnd` for the link's receive loop. A failing task is a bug in the stack: it surfaces
 * as an uncaught error, as it would from the scheduler's run, instead of ending the link's loop.
 */
function runTurnEndFromLink(turnEnd: TurnEnd): void {
  try {
    turnEnd.run();
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}
