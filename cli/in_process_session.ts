/**
 * A {@link StackSession} over a {@link Stack} in this process. `gonet up` serves one of these on
 * its control socket; the other subcommands use one directly when no stack is running.
 * @module
 */

import type { EchoResult } from "../stack/icmp/layer.ts";
import type { Stack, StackStats } from "../stack/stack.ts";
import { formatIpv4, formatIpv4Cidr, formatMac } from "../stack/wire/addr.ts";
import { hostnameToIpv4 } from "../stack/net_addr.ts";
import type { TcpConn } from "../stack/tcp/conn.ts";
import type {
  ArpRow,
  ByteStream,
  DatagramEvent,
  DatagramListener,
  PingParams,
  StackInfo,
  StackSession,
  StreamListener,
} from "./session.ts";

/** A session on an in-process stack. */
export class InProcessSession implements StackSession {
  /** Always true. */
  readonly inProcess = true;
  readonly #stack: Stack;
  readonly #onClose: () => Promise<void>;
  readonly #identifiers = new Set<number>();

  /** Wraps `stack`; `onClose` runs when the session closes (e.g. tears the stack down). */
  constructor(stack: Stack, onClose: () => Promise<void> = () => Promise.resolve()) {
    this.#stack = stack;
    this.#onClose = onClose;
  }

  /** Facts about the stack. */
  info(): Promise<StackInfo> {
    const stack = this.#stack;
    return Promise.resolve({
      tap: stack.link.name,
      ip: formatIpv4Cidr(stack.address),
      mac: formatMac(stack.mac),
      mtu: stack.link.mtu,
    });
  }

  /** Reserves an echo identifier until the session closes. */
  allocatePingIdentifier(): Promise<number> {
    const id = this.#stack.icmp.allocateIdentifier();
    this.#identifiers.add(id);
    return Promise.resolve(id);
  }

  /** Sends one echo request. */
  ping(params: PingParams): Promise<EchoResult> {
    return this.#stack.ping({
      destination: hostnameToIpv4(params.destination),
      identifier: params.identifier,
      sequence: params.sequence,
      dataBytes: params.dataBytes,
      timeoutMs: params.timeoutMs,
    });
  }

  /** The ARP cache. */
  arpEntries(): Promise<ArpRow[]> {
    return Promise.resolve(
      this.#stack.arpEntries().map((entry) => ({
        address: formatIpv4(entry.address),
        mac: formatMac(entry.mac),
        state: entry.state,
        ageMs: Math.round(entry.ageMs),
      })),
    );
  }

  /** Resolves an address through ARP. */
  async arpResolve(address: string): Promise<string | undefined> {
    const mac = await this.#stack.resolve(hostnameToIpv4(address));
    return mac === undefined ? undefined : formatMac(mac);
  }

  /** Sends one datagram from `sourcePort` (or an ephemeral port). */
  async udpSend(
    hostname: string,
    port: number,
    data: Uint8Array,
    sourcePort?: number,
  ): Promise<void> {
    const socket = this.#stack.listenDatagram({ port: sourcePort ?? 0 });
    try {
      await socket.send(data, { hostname, port });
    } finally {
      socket.close();
    }
  }

  /** Binds `port`. */
  udpListen(port: number): Promise<DatagramListener> {
    const socket = this.#stack.listenDatagram({ port });
    return Promise.resolve({
      port: socket.addr.port,
      async *datagrams(): AsyncGenerator<DatagramEvent> {
        for await (const [data, from] of socket) {
          yield { data, hostname: from.hostname, port: from.port };
        }
      },
      async send(data: Uint8Array, hostname: string, toPort: number): Promise<void> {
        await socket.send(data, { hostname, port: toPort });
      },
      close(): Promise<void> {
        socket.close();
        return Promise.resolve();
      },
    });
  }

  /** Opens a TCP connection. */
  async tcpConnect(hostname: string, port: number): Promise<ByteStream> {
    return connStream(await this.#stack.connect({ hostname, port }));
  }

  /** Listens on a TCP port. */
  tcpListen(port: number): Promise<StreamListener> {
    const listener = this.#stack.listen({ port });
    return Promise.resolve({
      port,
      accept: async () => connStream(await listener.accept()),
      close: () => {
        listener.close();
        return Promise.resolve();
      },
    });
  }

  /** Counters. */
  stats(): Promise<StackStats> {
    return Promise.resolve(this.#stack.stats());
  }

  /** Releases identifiers and runs the close hook. */
  async close(): Promise<void> {
    for (const id of this.#identifiers) this.#stack.icmp.releaseIdentifier(id);
    this.#identifiers.clear();
    await this.#onClose();
  }
}

/** A {@link ByteStream} over a stack connection. */
export function connStream(conn: TcpConn): ByteStream {
  return {
    local: `${conn.localAddr.hostname}:${conn.localAddr.port}`,
    remote: `${conn.remoteAddr.hostname}:${conn.remoteAddr.port}`,
    readable: conn.readable,
    async write(data) {
      let offset = 0;
      while (offset < data.length) offset += await conn.write(data.subarray(offset));
    },
    closeWrite: () => conn.closeWrite(),
    close: () => {
      try {
        conn.close();
      } catch { /* already closed */ }
    },
  };
}
