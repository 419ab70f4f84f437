/**
 * What a subcommand needs from a stack, whether that stack runs in this process (brought up for the
 * command's duration) or in a `gonet up` process reached through its control socket. Commands are
 * written once against {@link StackSession}.
 * @module
 */

import type { EchoResult } from "../stack/icmp/layer.ts";
import type { StackStats } from "../stack/stack.ts";

/** One ARP cache entry in plain, printable form. */
export interface ArpRow {
  /** Dotted-quad address. */
  address: string;
  /** `aa:bb:cc:dd:ee:ff`. */
  mac: string;
  /** `reachable` or `stale`. */
  state: string;
  /** Milliseconds since confirmation. */
  ageMs: number;
}

/** Facts about the stack a session talks to. */
export interface StackInfo {
  /** TAP device name. */
  tap: string;
  /** `ADDR/PREFIX`. */
  ip: string;
  /** `aa:bb:...`. */
  mac: string;
  /** Link MTU. */
  mtu: number;
}

/** A received UDP datagram. */
export interface DatagramEvent {
  /** The payload. */
  data: Uint8Array;
  /** Sender address. */
  hostname: string;
  /** Sender port. */
  port: number;
}

/** A bound UDP socket held open by a session. */
export interface DatagramListener {
  /** The local port. */
  readonly port: number;
  /** Yields datagrams until closed. */
  datagrams(): AsyncIterable<DatagramEvent>;
  /** Sends from this socket. */
  send(data: Uint8Array, hostname: string, port: number): Promise<void>;
  /** Unbinds. */
  close(): Promise<void>;
}

/** One direction-pair of bytes: a TCP connection, possibly relayed through the control socket. */
export interface ByteStream {
  /** Local end, `ADDR:PORT`. */
  readonly local: string;
  /** Remote end, `ADDR:PORT`. */
  readonly remote: string;
  /** Bytes from the peer; errors with `Deno.errors.ConnectionReset` and friends. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Sends bytes (resolves when handed on). */
  write(data: Uint8Array): Promise<void>;
  /** Half-closes (FIN). */
  closeWrite(): Promise<void>;
  /** Closes both directions. */
  close(): void;
}

/** A TCP listener held open by a session. */
export interface StreamListener {
  /** The local port. */
  readonly port: number;
  /** The next connection. */
  accept(): Promise<ByteStream>;
  /** Stops listening. */
  close(): Promise<void>;
}

/** One ping request. */
export interface PingParams {
  /** Dotted-quad destination. */
  destination: string;
  /** Echo identifier. */
  identifier: number;
  /** Sequence number. */
  sequence: number;
  /** Echo data bytes. */
  dataBytes: number;
  /** Reply timeout. */
  timeoutMs: number;
}

/** The operations subcommands use. */
export interface StackSession {
  /** Whether the stack lives in this process. */
  readonly inProcess: boolean;
  /** Facts about the stack. */
  info(): Promise<StackInfo>;
  /** Reserves an echo identifier for this session. */
  allocatePingIdentifier(): Promise<number>;
  /** Sends one echo request and waits for its fate. */
  ping(params: PingParams): Promise<EchoResult>;
  /** The ARP cache. */
  arpEntries(): Promise<ArpRow[]>;
  /** Resolves an address to a MAC (`aa:bb:...`) or undefined. */
  arpResolve(address: string): Promise<string | undefined>;
  /** Sends one UDP datagram. */
  udpSend(hostname: string, port: number, data: Uint8Array, sourcePort?: number): Promise<void>;
  /** Binds a UDP port. */
  udpListen(port: number): Promise<DatagramListener>;
  /** Opens a TCP connection. */
  tcpConnect(hostname: string, port: number): Promise<ByteStream>;
  /** Listens on a TCP port. */
  tcpListen(port: number): Promise<StreamListener>;
  /** Counters. */
  stats(): Promise<StackStats>;
  /** Ends the session (and the in-process stack, if any). */
  close(): Promise<void>;
}
