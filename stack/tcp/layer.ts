/**
 * The TCP dealer (RFC 9293): one long-running task reads the transport inbox, checks each
 * segment (checksum over the pseudo-header, options), and hands it to the connection it belongs
 * to through that connection's own channel, or to a listener, or answers with a RST
 * (RFC 9293 §3.10.7.1). It owns the connection table, the listeners, the ISN generator and the
 * one timer queue that drives every connection's deadlines.
 * @module
 */

import type { Channel } from "../channel.ts";
import type { Clock, Random } from "../clock.ts";
import type { IcmpErrorIn, IpOutput, TransportInput } from "../layer.ts";
import { formatIpv4, type Ipv4Addr, parseIpv4 } from "../wire/addr.ts";
import { seqGe, seqLt } from "../wire/seq.ts";
import { emitTcp, parseTcp, TcpFlags, type TcpSegment, tcpSegmentLength } from "../wire/tcp.ts";
import { TcpConn } from "./conn.ts";
import { connectionKey, Endpoint, type EndpointHost } from "./endpoint.ts";
import { IsnGenerator } from "./isn.ts";
import { type ListenerHost, TcpListener } from "./listener.ts";
import { mssForMtu } from "./options.ts";
import { SynCookies } from "./syncookie.ts";
import { TcpState } from "./state.ts";
import { DEFAULT_TCB_CONFIG, newTcbCounters, type TcbConfig, type TcbCounters } from "./config.ts";
import { type OutSegment, resetFor } from "./segment.ts";
import { Tcb } from "./tcb.ts";
import { TimerQueue } from "./timers.ts";
import { acceptsNewSyn, onTimeWaitSegment, TimeWaitEntry, TimeWaitTable } from "./time_wait.ts";
import { TurnEnd } from "../turn_end.ts";

/** Options of {@link TcpLayer}. */
export interface TcpLayerOptions {
  /** The IPv4 layer below. */
  ip: IpOutput;
  /** Time source for every timer. */
  clock: Clock;
  /** Randomness for ISN keys, timestamp offsets and ephemeral ports. */
  random: Random;
  /** Our address (source of everything we send; segments to other addresses are dropped). */
  localAddress: Ipv4Addr;
  /** Per-connection tunables; see {@link DEFAULT_TCB_CONFIG} (`mss` comes from the MTU). */
  tcb?: Partial<Omit<TcbConfig, "mss">>;
  /** Segments queued per connection before the dealer drops (default 1024). */
  connectionInboxCapacity?: number;
  /** Connections allowed at once (default 16384); more SYNs/connects are refused. */
  maxConnections?: number;
  /** Default listen backlog (default 128). */
  backlog?: number;
  /** Check TCP checksums (default true). Packets marked `checksumVerified` skip the check. */
  verifyChecksum?: boolean;
  /** Ephemeral port range (default 49152..65535, RFC 6335 §6). */
  ephemeralPorts?: { first: number; last: number };
  /** Answer SYNs with SYN cookies when a backlog is full (default true, RFC 4987 §3.6). */
  synCookies?: boolean;
  /**
   * Where corked writes are sent at the end of the turn (see `Endpoint`); the stack shares one
   * with its link. Default: a queue of its own, run at the next macrotask.
   */
  turnEnd?: TurnEnd;
}

/** Counters of a {@link TcpLayer}. */
export interface TcpStats extends TcbCounters {
  /** Segments received (well-formed). */
  segmentsIn: number;
  /** Segments sent. */
  segmentsOut: number;
  /** RSTs received. */
  resetsIn: number;
  /** RSTs sent. */
  resetsOut: number;
  /** Connections opened by connect. */
  activeOpens: number;
  /** Connections opened by a listener. */
  passiveOpens: number;
  /** Connections currently in the table (any state but CLOSED, TIME-WAIT included). */
  activeConnections: number;
  /** Of those, connections in TIME-WAIT (kept as small entries, see `time_wait.ts`). */
  timeWaitConnections: number;
  /**
   * Per-connection tasks running now (segment and send tasks). A connection's tasks run while it
   * has work and end when it is idle, so this stays near 0 with thousands of idle connections.
   */
  runningTasks: number;
  /** ICMP errors received for our segments. */
  icmpErrors: number;
  /** SYN-ACKs sent with a SYN cookie. */
  synCookiesSent: number;
  /** Connections opened from a valid SYN cookie. */
  synCookiesAccepted: number;
  /** TIME-WAIT connections dropped early to make room for new ones. */
  timeWaitRecycled: number;
  /** Dropped inputs, by reason. */
  drops: Record<string, number>;
}

/**
 * TCP for the user-space stack, with a Deno-shaped API.
 * @example
 * ```ts
 * const tcp = new TcpLayer({ ip, clock: systemClock, random: systemRandom, localAddress });
 * const running = tcp.run(inbox); // the dealer
 * const listener = tcp.listen({ port: 8080 });
 * const conn = await listener.accept();
 * ```
 */
export class TcpLayer implements EndpointHost, ListenerHost, AsyncDisposable {
  /** The clock. */
  readonly clock: Clock;
  /** Our address. */
  readonly localAddress: Ipv4Addr;
  #ip: IpOutput;
  #random: Random;
  #isn: IsnGenerator;
  #config: Omit<TcbConfig, "mss">;
  #configs = new Map<number, TcbConfig>();
  #inboxCapacity: number;
  #maxConnections: number;
  #backlog: number;
  #verify: boolean;
  #ports: { first: number; last: number };
  #cookies: SynCookies | undefined;
  #conns = new Map<string, Endpoint>();
  #timeWait: TimeWaitTable;
  #listeners = new Map<number, TcpListener>();
  #timers: TimerQueue<Endpoint>;
  #counters = newTcbCounters();
  #stats = {
    segmentsIn: 0,
    segmentsOut: 0,
    resetsIn: 0,
    resetsOut: 0,
    activeOpens: 0,
    passiveOpens: 0,
    icmpErrors: 0,
    synCookiesSent: 0,
    synCookiesAccepted: 0,
    timeWaitRecycled: 0,
  };
  #drops: Record<string, number> = {};
  #scratch = new Uint8Array(65_536);
  readonly #turnEnd: TurnEnd;
  #closed = false;

  /** Creates the layer; start the dealer with {@link run}. */
  constructor(options: TcpLayerOptions) {
    this.#ip = options.ip;
    this.clock = options.clock;
    this.#random = options.random;
    this.localAddress = options.localAddress;
    this.#isn = new IsnGenerator(options.random);
    this.#config = { ...DEFAULT_TCB_CONFIG, ...options.tcb };
    this.#inboxCapacity = options.connectionInboxCapacity ?? 1024;
    this.#maxConnections = options.maxConnections ?? 16_384;
    this.#backlog = options.backlog ?? 128;
    this.#verify = options.verifyChecksum ?? true;
    this.#ports = options.ephemeralPorts ?? { first: 49152, last: 65535 };
    this.#cookies = (options.synCookies ?? true) ? new SynCookies(options.random) : undefined;
    this.#timers = new TimerQueue<Endpoint>(this.clock, (ep, now) => ep.onTimer(now));
    this.#timeWait = new TimeWaitTable(this.clock);
    this.#turnEnd = options.turnEnd ?? new TurnEnd();
  }

  /** A snapshot of the counters. */
  get stats(): TcpStats {
    return {
      ...this.#counters,
      ...this.#stats,
      activeConnections: this.#conns.size + this.#timeWait.size,
      timeWaitConnections: this.#timeWait.size,
      runningTasks: this.#runningTasks(),
      drops: { ...this.#drops },
    };
  }

  #runningTasks(): number {
    let n = 0;
    for (const ep of this.#conns.values()) n += ep.runningTasks;
    return n;
  }

  /** The state of the connection with this 4-tuple, for tests and diagnostics. */
  connectionState(remote: Ipv4Addr, remotePort: number, localPort: number): TcpState | undefined {
    const key = connectionKey(remote, remotePort, localPort);
    const state = this.#conns.get(key)?.tcb.state;
    return state ?? (this.#timeWait.get(key) ? TcpState.TimeWait : undefined);
  }

  /** The TCB of a connection (none in TIME-WAIT), for tests and diagnostics. */
  connectionTcb(remote: Ipv4Addr, remotePort: number, localPort: number): Tcb | undefined {
    return this.#conns.get(connectionKey(remote, remotePort, localPort))?.tcb;
  }

  /** The dealer: demultiplexes segments and ICMP errors until `inbox` closes. */
  async run(inbox: Channel<TransportInput>): Promise<void> {
    for (let batch = await inbox.receiveBatch(); batch; batch = await inbox.receiveBatch()) {
      for (const input of batch) {
        if (input.kind === "packet") {
          const p = input.packet;
          this.#onSegment(p.source, p.destination, p.protocol, p.payload, p.checksumVerified);
        } else {
          this.#onIcmpError(input.error);
        }
      }
    }
  }

  /**
   * Active open to `hostname` (an address number or dotted-quad text). Resolves once
   * established; throws `Deno.errors.ConnectionRefused`, `TimedOut` or `AddrInUse`.
   */
  async connect(
    options: { hostname: Ipv4Addr | string; port: number; localPort?: number },
  ): Promise<TcpConn> {
    if (this.#closed) throw new Deno.errors.BadResource("Cannot connect: the TCP layer is closed");
    const parsed = typeof options.hostname === "string"
      ? parseIpv4(options.hostname)
      : options.hostname;
    if (parsed === undefined) {
      throw new TypeError(`Cannot connect: "${options.hostname}" is not an IPv4 address`);
    }
    const remote = parsed >>> 0;
    checkPort(options.port, "port");
    if (!this.#makeRoom()) {
      throw new Deno.errors.AddrInUse("Cannot connect: too many connections");
    }
    let localPort = options.localPort;
    if (localPort !== undefined) {
      checkPort(localPort, "localPort");
      if (this.#inUse(connectionKey(remote, options.port, localPort))) {
        throw new Deno.errors.AddrInUse(
          `Cannot connect: ${formatIpv4(this.localAddress)}:${localPort} to ` +
            `${formatIpv4(remote)}:${options.port} is already in use`,
        );
      }
    } else {
      localPort = this.#ephemeralPort(remote, options.port);
    }
    const now = this.clock.now();
    const tcb = this.#newTcb(remote, options.port, localPort, now);
    const ep = new Endpoint(this, tcb, {
      localPort,
      remoteAddress: remote,
      remotePort: options.port,
    }, { inboxCapacity: this.#inboxCapacity, passive: false });
    this.#conns.set(ep.key, ep);
    this.#stats.activeOpens++;
    tcb.openActive(now);
    ep.start();
    await ep.waitEstablished();
    return new TcpConn(ep, this.localAddress);
  }

  /** Listens on `port`; throws `Deno.errors.AddrInUse` when it is taken. */
  listen(options: { port: number; backlog?: number }): TcpListener {
    if (this.#closed) throw new Deno.errors.BadResource("Cannot listen: the TCP layer is closed");
    checkPort(options.port, "port");
    if (options.port === 0) throw new RangeError("Cannot listen: port 0 is not supported");
    if (this.#listeners.has(options.port)) {
      throw new Deno.errors.AddrInUse(`Cannot listen: port ${options.port} is already in use`);
    }
    const listener = new TcpListener(
      this,
      this.localAddress,
      options.port,
      options.backlog ?? this.#backlog,
    );
    this.#listeners.set(options.port, listener);
    return listener;
  }

  /** Resets every connection, closes every listener and stops the timers. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    for (const listener of [...this.#listeners.values()]) listener.close();
    for (const ep of [...this.#conns.values()]) ep.abort();
    this.#timers.close();
    this.#timeWait.close();
    return Promise.resolve();
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ------------------------------------------------------------- EndpointHost / ListenerHost

  /** Encodes a segment of `ep` and hands it to IP. */
  transmit(ep: Endpoint, seg: OutSegment): void {
    const mss = ep.tcb.sendMss;
    const segmentBytes = seg.payload.length > mss ? mss : undefined;
    this.#send(ep.localPort, ep.remoteAddress, ep.remotePort, seg, segmentBytes);
  }

  /** Sends the corked writes of `ep` at the end of the turn. */
  deferOutput(ep: Endpoint): void {
    this.#turnEnd.defer(ep.uncorkTask);
  }

  /** Sets the deadline of `ep` in the shared timer queue. */
  schedule(ep: Endpoint, at: number | undefined): void {
    this.#timers.set(ep, at);
  }

  /** Keeps a TIME-WAIT entry for `ep`, whose endpoint is released next. */
  enterTimeWait(ep: Endpoint): void {
    if (this.#closed) return;
    const entry = new TimeWaitEntry(
      ep,
      ep.tcb.timeWaitSnapshot(),
      this.clock.now() + this.#config.timeWaitMs,
    );
    this.#timeWait.add(entry);
  }

  /** Forgets a CLOSED or TIME-WAIT endpoint. */
  release(ep: Endpoint): void {
    if (this.#conns.get(ep.key) === ep) this.#conns.delete(ep.key);
    for (const listener of this.#listeners.values()) listener.halfOpen.delete(ep);
  }

  /** A passive open completed: hand the connection to its listener. */
  established(ep: Endpoint): void {
    const listener = this.#listeners.get(ep.localPort);
    if (listener) listener.enqueue(ep);
    else ep.abort();
  }

  /** Forgets a closed listener. */
  unlisten(listener: TcpListener): void {
    if (this.#listeners.get(listener.port) === listener) this.#listeners.delete(listener.port);
  }

  // ------------------------------------------------------------- input

  #onSegment(
    source: Ipv4Addr,
    destination: Ipv4Addr,
    protocol: number,
    bytes: Uint8Array,
    checksumVerified = false,
  ): void {
    if (this.#closed) return this.#drop("layer-closed");
    if (protocol !== 6) return this.#drop("not-tcp");
    // RFC 1122 §4.2.3.10: TCP is unicast only.
    if (destination !== this.localAddress) return this.#drop("not-our-address");
    // A link with checksum offload already vouched for the checksum.
    const verifyChecksum = this.#verify && !checksumVerified;
    const parsed = parseTcp(bytes, source, destination, { verifyChecksum });
    if (!parsed.ok) return this.#drop(parsed.reason);
    const seg = parsed.value;
    this.#stats.segmentsIn++;
    if (seg.flags & TcpFlags.RST) this.#stats.resetsIn++;
    if (seg.sourcePort === 0 || seg.destinationPort === 0) return this.#drop("port-zero");
    const key = connectionKey(source, seg.sourcePort, seg.destinationPort);
    const ep = this.#conns.get(key);
    if (ep && !ep.released) {
      if (!ep.deliver(seg)) this.#drop("connection-inbox-full");
      return;
    }
    const timeWait = this.#timeWait.get(key);
    if (timeWait) {
      if (acceptsNewSyn(timeWait, seg) && this.#listeners.has(seg.destinationPort)) {
        // RFC 9293 §3.6.1 / RFC 1122 §4.2.2.13: a new SYN ends TIME-WAIT early.
        this.#timeWait.delete(key);
      } else {
        return this.#onTimeWait(timeWait, seg);
      }
    }
    const listener = this.#listeners.get(seg.destinationPort);
    if (listener) return this.#onListen(listener, source, seg);
    // RFC 9293 §3.10.7.1: no connection, no listener: RST (never in reply to a RST).
    this.#drop("no-connection");
    this.#reset(seg, source);
  }

  /** RFC 9293 §3.10.7.2: LISTEN. */
  #onListen(listener: TcpListener, source: Ipv4Addr, seg: TcpSegment): void {
    if (seg.flags & TcpFlags.RST) return this.#drop("listen-rst");
    if (seg.flags & TcpFlags.ACK) {
      if (
        !(seg.flags & TcpFlags.SYN) && this.#cookies && this.#acceptCookie(listener, source, seg)
      ) {
        return;
      }
      this.#drop("listen-ack");
      this.#reset(seg, source);
      return;
    }
    if (!(seg.flags & TcpFlags.SYN)) return this.#drop("listen-no-syn");
    if (listener.full) {
      if (this.#cookies) return this.#sendCookie(source, seg);
      return this.#drop("backlog-full");
    }
    if (!this.#makeRoom()) return this.#drop("too-many-connections");
    const now = this.clock.now();
    const tcb = this.#newTcb(source, seg.sourcePort, seg.destinationPort, now);
    const ep = this.#newEndpoint(tcb, source, seg, true);
    listener.halfOpen.add(ep);
    this.#stats.passiveOpens++;
    tcb.openPassive(seg, now);
    ep.start();
  }

  /** RFC 4987 §3.6: a stateless SYN-ACK whose ISS encodes the connection. */
  #sendCookie(source: Ipv4Addr, syn: TcpSegment): void {
    const mss = mssForMtu(this.#ip.mtuFor(source));
    const tuple = this.#tuple(source, syn);
    const iss = this.#cookies!.make(
      this.clock.now(),
      tuple,
      syn.seq,
      Math.min(mss, syn.options.mss ?? 536),
    );
    this.#stats.synCookiesSent++;
    this.#send(syn.destinationPort, source, syn.sourcePort, {
      seq: iss,
      ack: (syn.seq + 1) >>> 0,
      flags: TcpFlags.SYN | TcpFlags.ACK,
      window: Math.min(0xffff, this.#config.recvBufferBytes),
      options: { mss },
      payload: new Uint8Array(0),
    });
  }

  /** Completes a cookie handshake; false when the ACK carries no valid cookie. */
  #acceptCookie(listener: TcpListener, source: Ipv4Addr, seg: TcpSegment): boolean {
    const now = this.clock.now();
    const cookie = this.#cookies!.check(now, this.#tuple(source, seg), seg.seq, seg.ack);
    if (!cookie) return false;
    if (listener.acceptQueueFull || !this.#makeRoom()) {
      // Like a lost ACK: the client retransmits or its data/keepalive completes it later.
      this.#drop("accept-queue-full");
      return true;
    }
    const tcb = new Tcb(
      { ...this.#config, mss: mssForMtu(this.#ip.mtuFor(source)) },
      { iss: cookie.iss, tsOffset: this.#random.nextU32(), counters: this.#counters },
    );
    const ep = this.#newEndpoint(tcb, source, seg, true);
    this.#stats.synCookiesAccepted++;
    this.#stats.passiveOpens++;
    tcb.openFromCookie(cookie, seg, now);
    ep.start();
    return true;
  }

  #tuple(source: Ipv4Addr, seg: TcpSegment) {
    return {
      local: this.localAddress,
      localPort: seg.destinationPort,
      remote: source,
      remotePort: seg.sourcePort,
    };
  }

  #newEndpoint(tcb: Tcb, source: Ipv4Addr, seg: TcpSegment, passive: boolean): Endpoint {
    const ep = new Endpoint(this, tcb, {
      localPort: seg.destinationPort,
      remoteAddress: source,
      remotePort: seg.sourcePort,
    }, { inboxCapacity: this.#inboxCapacity, passive });
    this.#conns.set(ep.key, ep);
    return ep;
  }

  /**
   * ICMP errors about our segments (RFC 1122 §4.2.3.9, RFC 5927 §4.1): only trusted when the
   * quoted sequence number lies in SND.UNA..SND.MAX. "Fragmentation needed" lowers the send MSS
   * (RFC 1191 §6.2). Port and protocol unreachable are hard errors for a connection still in
   * SYN-SENT; everything else is soft and only counted.
   */
  #onIcmpError(error: IcmpErrorIn): void {
    this.#stats.icmpErrors++;
    if (error.protocol !== 6 || error.quoted.length < 8) return this.#drop("icmp-unusable");
    const q = error.quoted;
    const localPort = (q[0] << 8) | q[1];
    const remotePort = (q[2] << 8) | q[3];
    const seq = ((q[4] << 24) | (q[5] << 16) | (q[6] << 8) | q[7]) >>> 0;
    const ep = this.#conns.get(connectionKey(error.destination, remotePort, localPort));
    if (!ep) return this.#drop("icmp-no-connection");
    const tcb = ep.tcb;
    if (!(seqGe(seq, tcb.sndUna) && seqLt(seq, tcb.sndMax))) return this.#drop("icmp-stale");
    if (error.type === 3 && error.code === 4 && error.nextHopMtu > 0) {
      tcb.onPathMtu(error.nextHopMtu, this.clock.now());
      ep.flush();
      return;
    }
    const hard = error.type === 3 && (error.code === 2 || error.code === 3);
    if (hard && tcb.state === TcpState.SynSent) {
      tcb.error = "refused";
      tcb.abort(this.clock.now());
      ep.flush();
    }
  }

  // ------------------------------------------------------------- output

  /** Encodes and sends; `segmentBytes` marks a TSO super-segment for the link to cut. */
  #send(
    localPort: number,
    remote: Ipv4Addr,
    remotePort: number,
    seg: OutSegment,
    segmentBytes?: number,
  ): void {
    const fields = {
      sourcePort: localPort,
      destinationPort: remotePort,
      seq: seg.seq,
      ack: seg.ack,
      flags: seg.flags,
      window: seg.window,
      options: seg.options,
    };
    const length = tcpSegmentLength(fields, seg.payload.length);
    if (length > this.#scratch.length) this.#scratch = new Uint8Array(length);
    const buffer = this.#scratch.subarray(0, length);
    // A super-segment's checksum is finished per segment by the link, so only its partial form.
    emitTcp(
      buffer,
      fields,
      seg.payload,
      this.localAddress,
      remote,
      segmentBytes ? "partial" : "full",
    );
    // IP copies the payload before send returns, so the scratch buffer is reused.
    const result = this.#ip.send({
      destination: remote,
      protocol: 6,
      payload: buffer,
      segmentBytes,
    });
    if (result !== "sent" && result !== "queued") this.#drop(`ip-${result}`);
    this.#stats.segmentsOut++;
    if (seg.flags & TcpFlags.RST) this.#stats.resetsOut++;
  }

  /**
   * Whether the table has room for one more connection. When it is full, the oldest connection
   * in TIME-WAIT gives way (quietly: it only guards against stray old segments, RFC 9293
   * §3.6.1), much as Linux stops keeping TIME-WAIT entries past tcp_max_tw_buckets, so a busy
   * server's closed connections never lock out new ones.
   */
  #makeRoom(): boolean {
    if (this.#conns.size + this.#timeWait.size < this.#maxConnections) return true;
    if (!this.#timeWait.dropOldest()) return false;
    this.#stats.timeWaitRecycled++;
    return true;
  }

  #onTimeWait(entry: TimeWaitEntry, seg: TcpSegment): void {
    const expiresAt = entry.expiresAt;
    const now = this.clock.now();
    const ack = onTimeWaitSegment(entry, seg, now, this.#config, this.#counters);
    if (entry.expiresAt !== expiresAt) this.#timeWait.restart(entry);
    if (ack) this.#send(entry.localPort, entry.remoteAddress, entry.remotePort, ack);
  }

  /** Whether a connection, TIME-WAIT included, holds this key. */
  #inUse(key: string): boolean {
    return this.#conns.has(key) || this.#timeWait.get(key) !== undefined;
  }

  #reset(seg: TcpSegment, source: Ipv4Addr): void {
    const rst = resetFor(seg);
    if (rst) this.#send(seg.destinationPort, source, seg.sourcePort, rst);
  }

  #newTcb(remote: Ipv4Addr, remotePort: number, localPort: number, now: number): Tcb {
    // Room for the TCP header and options within what the link can segment.
    const tso = Math.max(0, (this.#ip.maxSegmentationBytes?.(remote) ?? 0) - 60);
    const mss = mssForMtu(this.#ip.mtuFor(remote));
    const tsoBytes = Math.min(this.#config.tsoBytes || tso, tso);
    // Connections share one config object per (MSS, TSO) pair: thousands of idle connections
    // should not each carry a copy of two dozen tunables.
    const key = mss * 0x1_0000_0000 + tsoBytes;
    let config = this.#configs.get(key);
    if (!config) {
      config = Object.freeze({ ...this.#config, mss, tsoBytes });
      this.#configs.set(key, config);
    }
    return new Tcb(config, {
      iss: this.#isn.isn(now, this.localAddress, localPort, remote, remotePort),
      tsOffset: this.#random.nextU32(),
      counters: this.#counters,
    });
  }

  /** RFC 6056 §3.3.1 (algorithm 1): a random start, then the next free port. */
  #ephemeralPort(remote: Ipv4Addr, remotePort: number): number {
    const { first, last } = this.#ports;
    const count = last - first + 1;
    const start = this.#random.nextU32() % count;
    for (let i = 0; i < count; i++) {
      const port = first + ((start + i) % count);
      if (this.#listeners.has(port)) continue;
      if (!this.#inUse(connectionKey(remote, remotePort, port))) return port;
    }
    throw new Deno.errors.AddrInUse("Cannot connect: no free ephemeral port");
  }

  #drop(reason: string): void {
    this.#drops[reason] = (this.#drops[reason] ?? 0) + 1;
  }
}

function checkPort(port: number, name: string): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`Invalid ${name}: ${port} is not in 0..65535`);
  }
}
