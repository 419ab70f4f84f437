/**
 * The UDP dealer (RFC 768, RFC 1122 §4.1). It verifies checksums (zero means "none sent" over
 * IPv4), hands each datagram to the socket bound to its port through that socket's own channel,
 * answers datagrams for unbound ports with ICMP port unreachable (rate limited by ICMP), and passes
 * ICMP errors about our datagrams to the socket that sent them.
 * @module
 */

import { Channel } from "../channel.ts";
import type { Random } from "../clock.ts";
import { countDrop, type DropCounts } from "../counters.ts";
import type {
  IcmpErrorIn,
  IcmpErrorSender,
  IpOutput,
  IpPacketIn,
  TransportInput,
} from "../layer.ts";
import { IpProtocol } from "../layer.ts";

import { IcmpType, IcmpUnreachableCode } from "../wire/icmp.ts";
import { emitUdp, parseUdp, UDP_HEADER_BYTES, UDP_MAX_PAYLOAD_BYTES } from "../wire/udp.ts";
import { type Ipv4Addr } from "../wire/addr.ts";
import { checkPort, hostnameToIpv4, type NetAddr, netAddr } from "../net_addr.ts";
import { pickEphemeralPort } from "../ports.ts";

/** Tunables of the UDP layer, with defaults. */
export interface UdpOptions {
  /** Datagrams queued per socket before new ones are dropped (default 1024). */
  socketQueueDatagrams?: number;
}

/** Counters of the UDP layer. */
export interface UdpStats {
  /** Datagrams delivered to sockets. */
  datagramsIn: number;
  /** Datagrams sent. */
  datagramsOut: number;
  /** Datagrams for ports nobody listens on. */
  noPort: number;
  /** Datagrams dropped, by reason. */
  drops: DropCounts;
}

type SocketEvent =
  | { kind: "datagram"; data: Uint8Array; from: NetAddr }
  | { kind: "error"; error: Error };

/** Options of {@link UdpLayer.listenDatagram}, shaped like `Deno.listenDatagram`'s. */
export interface ListenDatagramOptions {
  /** Port to bind; 0 or absent picks an ephemeral port. */
  port?: number;
  /** Local address; only the interface address (or 0.0.0.0) is accepted. */
  hostname?: string;
  /** Accepted for compatibility with `Deno.listenDatagram`; always `udp` here. */
  transport?: "udp";
}

/**
 * A bound UDP socket shaped like `Deno.DatagramConn`: `receive`, `send`, `for await`, `close`.
 * ICMP errors about datagrams it sent surface as a rejected `receive()` (port unreachable becomes
 * `Deno.errors.ConnectionRefused`), like a Linux socket with IP_RECVERR.
 */
export class UdpSocket implements AsyncIterable<[Uint8Array, NetAddr]> {
  /** The local address. */
  readonly addr: NetAddr;
  readonly #layer: UdpLayer;
  readonly #events: Channel<SocketEvent>;
  #closed = false;

  /** @internal Created by {@link UdpLayer.listenDatagram}. */
  constructor(layer: UdpLayer, addr: NetAddr, events: Channel<SocketEvent>) {
    this.#layer = layer;
    this.addr = addr;
    this.#events = events;
  }

  /**
   * Waits for the next datagram and its sender. With `p`, copies the data into it (truncating,
   * like recvfrom) and returns that subarray. Rejects with `Deno.errors.BadResource` once closed.
   */
  async receive(p?: Uint8Array): Promise<[Uint8Array, NetAddr]> {
    const event = await this.#events.receive();
    if (event === undefined) throw new Deno.errors.BadResource("Cannot receive: socket is closed");
    if (event.kind === "error") throw event.error;
    if (!p) return [event.data, event.from];
    const n = Math.min(p.length, event.data.length);
    p.set(event.data.subarray(0, n));
    return [p.subarray(0, n), event.from];
  }

  /** Sends `p` as one datagram to `addr`; resolves with the bytes sent. */
  send(p: Uint8Array, addr: { hostname: string; port: number }): Promise<number> {
    if (this.#closed) {
      return Promise.reject(new Deno.errors.BadResource("Cannot send: socket is closed"));
    }
    try {
      this.#layer.sendFrom(this.addr.port, hostnameToIpv4(addr.hostname), checkPort(addr.port), p);
      return Promise.resolve(p.length);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Closes the socket and frees its port. Pending `receive` calls reject. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#events.close();
    this.#layer.unbind(this.addr.port);
  }

  /** Closes the socket (`await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /** Yields datagrams until the socket closes; ICMP errors are skipped. */
  async *[Symbol.asyncIterator](): AsyncGenerator<[Uint8Array, NetAddr]> {
    for await (const event of this.#events) {
      if (event.kind === "datagram") yield [event.data, event.from];
    }
  }
}

/** The UDP layer. */
export class UdpLayer {
  /** Counters. */
  readonly stats: UdpStats = { datagramsIn: 0, datagramsOut: 0, noPort: 0, drops: {} };
  readonly #ip: IpOutput;
  readonly #random: Random;
  readonly #sendIcmpError: IcmpErrorSender;
  readonly #queueDatagrams: number;
  readonly #sockets = new Map<number, Channel<SocketEvent>>();
  readonly #scratch = new Uint8Array(UDP_HEADER_BYTES + UDP_MAX_PAYLOAD_BYTES);

  /** Creates the layer sending through `ip`. */
  constructor(
    ip: IpOutput,
    random: Random,
    sendIcmpError: IcmpErrorSender,
    options: UdpOptions = {},
  ) {
    this.#ip = ip;
    this.#random = random;
    this.#sendIcmpError = sendIcmpError;
    this.#queueDatagrams = options.socketQueueDatagrams ?? 1024;
  }

  /** Ports bound right now. */
  get boundPorts(): number[] {
    return [...this.#sockets.keys()];
  }

  /** The dealer loop; ends when `inbox` closes. */
  async run(inbox: Channel<TransportInput>): Promise<void> {
    try {
      for (let batch = await inbox.receiveBatch(); batch; batch = await inbox.receiveBatch()) {
        for (const input of batch) {
          if (input.kind === "packet") this.#receive(input.packet);
          else this.#receiveError(input.error);
        }
      }
    } finally {
      for (const events of this.#sockets.values()) events.close();
      this.#sockets.clear();
    }
  }

  /** Binds a socket; throws `Deno.errors.AddrInUse` when the port is taken. */
  listenDatagram(options: ListenDatagramOptions = {}): UdpSocket {
    const local = this.#ip.sourceFor(0);
    if (options.hostname !== undefined && options.hostname !== "0.0.0.0") {
      if (hostnameToIpv4(options.hostname) !== local) {
        throw new Deno.errors.AddrNotAvailable(
          `Cannot bind: ${options.hostname} is not this stack's address`,
        );
      }
    }
    let port = checkPort(options.port ?? 0);
    if (port === 0) {
      const picked = pickEphemeralPort(this.#random, (p) => this.#sockets.has(p));
      if (picked === undefined) throw new Deno.errors.AddrInUse("Cannot bind: no free UDP port");
      port = picked;
    } else if (this.#sockets.has(port)) {
      throw new Deno.errors.AddrInUse(`Cannot bind port: UDP port ${port} is already in use`);
    }
    const events = new Channel<SocketEvent>(this.#queueDatagrams, `udp.${port}`);
    this.#sockets.set(port, events);
    return new UdpSocket(this, netAddr("udp", local, port), events);
  }

  /** @internal Sends one datagram from `sourcePort`. Throws typed errors on failure. */
  sendFrom(
    sourcePort: number,
    destination: Ipv4Addr,
    destinationPort: number,
    payload: Uint8Array,
  ): void {
    if (payload.length > UDP_MAX_PAYLOAD_BYTES) {
      throw new RangeError(
        `Cannot send: ${payload.length} bytes exceed the UDP maximum of ${UDP_MAX_PAYLOAD_BYTES}`,
      );
    }
    const source = this.#ip.sourceFor(destination);
    const length = emitUdp(
      { sourcePort, destinationPort, payload },
      this.#scratch,
      source,
      destination,
    );
    const result = this.#ip.send({
      destination,
      protocol: IpProtocol.Udp,
      payload: this.#scratch.subarray(0, length),
    });
    if (result === "no-route") {
      throw new Deno.errors.NetworkUnreachable("Cannot send: no route to host");
    }
    if (result === "too-big") throw new RangeError("Cannot send: datagram too big");
    this.stats.datagramsOut++;
  }

  /** @internal Frees a port. */
  unbind(port: number): void {
    this.#sockets.delete(port);
  }

  #receive(packet: IpPacketIn): void {
    const parsed = parseUdp(packet.payload, packet.source, packet.destination, {
      verifyChecksum: !packet.checksumVerified,
    });
    if (!parsed.ok) return countDrop(this.stats.drops, parsed.reason);
    const datagram = parsed.value;
    const events = this.#sockets.get(datagram.destinationPort);
    if (!events) {
      this.stats.noPort++;
      // RFC 1122 §4.1.3.1: port unreachable, never for broadcasts (ICMP checks that).
      this.#sendIcmpError(IcmpType.DestinationUnreachable, IcmpUnreachableCode.Port, packet);
      return;
    }
    const from = netAddr("udp", packet.source, datagram.sourcePort);
    // A copy: the socket may hold it for long, and the link reuses its receive memory.
    const data = datagram.payload.slice();
    if (!events.trySend({ kind: "datagram", data, from })) {
      return countDrop(this.stats.drops, "socket-queue-full");
    }
    this.stats.datagramsIn++;
  }

  #receiveError(error: IcmpErrorIn): void {
    if (error.quoted.length < 4) return countDrop(this.stats.drops, "bad-icmp-quote");
    const sourcePort = (error.quoted[0] << 8) | error.quoted[1];
    const destinationPort = (error.quoted[2] << 8) | error.quoted[3];
    const events = this.#sockets.get(sourcePort);
    if (!events) return countDrop(this.stats.drops, "icmp-error-no-socket");
    events.trySend({ kind: "error", error: icmpToError(error, destinationPort) });
  }
}

/** Maps an ICMP error to the `Deno.errors` class a kernel socket would raise. */
function icmpToError(error: IcmpErrorIn, port: number): Error {
  const target = `${netAddr("udp", error.destination, port).hostname}:${port}`;
  if (error.type === IcmpType.DestinationUnreachable) {
    switch (error.code) {
      case IcmpUnreachableCode.Port:
      case IcmpUnreachableCode.Protocol:
        return new Deno.errors.ConnectionRefused(
          `Connection refused: ${target} (ICMP port unreachable)`,
        );
      case IcmpUnreachableCode.Net:
        return new Deno.errors.NetworkUnreachable(`Network unreachable: ${target}`);
      case IcmpUnreachableCode.FragmentationNeeded:
        return new RangeError(`Message too long for ${target}: next-hop MTU ${error.nextHopMtu}`);
      default:
        return new Deno.errors.ConnectionRefused(
          `Host unreachable: ${target} (ICMP code ${error.code})`,
        );
    }
  }
  if (error.type === IcmpType.TimeExceeded) {
    return new Deno.errors.TimedOut(`Time exceeded sending to ${target} (ICMP code ${error.code})`);
  }
  return new Deno.errors.InvalidData(
    `ICMP error type ${error.type} code ${error.code} from ${target}`,
  );
}
