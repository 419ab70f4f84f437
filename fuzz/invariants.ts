/**
 * What must hold while the target stack eats fuzz frames:
 * - nothing throws out of the stack and no promise rejects unhandled (a dealer that dies leaves
 *   a rejected promise nobody awaits, so it surfaces as an `unhandledrejection`);
 * - the target's own bounded state stays within its configured caps (reassembly bytes and
 *   assemblies, TCP connections, ARP entries);
 * - the JavaScript heap stays under a cap;
 * - afterwards the target still answers a ping and serves a TCP echo connection from the
 *   well-behaved helper stack on the same link.
 * @module
 */

import { setImmediate } from "node:timers";
import type { ManualClock } from "../stack/clock.ts";
import type { Stack } from "../stack/stack.ts";
import { formatIpv4 } from "../stack/wire/addr.ts";
import { parseArp } from "../stack/wire/arp.ts";
import { parseIcmp } from "../stack/wire/icmp.ts";
import { parseIpv4 } from "../stack/wire/ipv4.ts";
import { parseTcp } from "../stack/wire/tcp.ts";
import { parseUdp } from "../stack/wire/udp.ts";
import { TARGET_IP, TARGET_MAC } from "./generators.ts";

/** One broken invariant. */
export interface Failure {
  /** Which invariant: `unhandled-rejection`, `uncaught-error`, `exception`, `bound`, ... */
  kind: string;
  /** What went wrong. */
  message: string;
  /** Stack trace, when an error was involved. */
  stack?: string;
}

/** Turns anything thrown into a {@link Failure}. */
export function failureFrom(kind: string, error: unknown): Failure {
  if (error instanceof Error) {
    return { kind, message: `${error.name}: ${error.message}`, stack: error.stack };
  }
  return { kind, message: String(error) };
}

/**
 * Collects failures, including unhandled promise rejections and uncaught errors seen through
 * `globalThis` events while installed (their default handling, ending the process, is
 * prevented so the fuzzer can save the input and report).
 */
export class FailureLog {
  /** Everything recorded so far. */
  readonly failures: Failure[] = [];
  #onRejection = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    this.failures.push(failureFrom("unhandled-rejection", event.reason));
  };
  #onError = (event: ErrorEvent) => {
    event.preventDefault();
    this.failures.push(failureFrom("uncaught-error", event.error ?? event.message));
  };

  /** Starts listening for unhandled rejections and uncaught errors. */
  install(): void {
    globalThis.addEventListener("unhandledrejection", this.#onRejection);
    globalThis.addEventListener("error", this.#onError);
  }

  /** Stops listening. */
  uninstall(): void {
    globalThis.removeEventListener("unhandledrejection", this.#onRejection);
    globalThis.removeEventListener("error", this.#onError);
  }

  /** Records one failure. */
  add(failure: Failure): void {
    this.failures.push(failure);
  }
}

/** Caps the target was configured with, checked by {@link checkBounds}. */
export interface Bounds {
  /** IPv4 `maxReassemblyBytes`. */
  reassemblyBytes: number;
  /** IPv4 `maxReassemblies`. */
  reassemblies: number;
  /** TCP `maxConnections`. */
  connections: number;
  /** ARP `maxEntries`. */
  arpEntries: number;
  /** Bytes of JS heap allowed (`Deno.memoryUsage().heapUsed`). */
  heapBytes: number;
}

/** The target's counters against `bounds`; returns one failure per bound exceeded. */
export function checkBounds(target: Stack, bounds: Bounds): Failure[] {
  const stats = target.stats();
  const failures: Failure[] = [];
  const check = (name: string, value: number, cap: number) => {
    if (!(value <= cap)) failures.push({ kind: "bound", message: `${name} = ${value} > ${cap}` });
  };
  check("ipv4.reassembly.heldBytes", stats.ipv4.reassembly.heldBytes, bounds.reassemblyBytes);
  check("ipv4.reassembly.active", stats.ipv4.reassembly.active, bounds.reassemblies);
  check("tcp.activeConnections", stats.tcp.activeConnections, bounds.connections);
  check("arp.entries", stats.arp.entries, bounds.arpEntries);
  if (stats.ipv4.reassembly.heldBytes < 0) {
    failures.push({ kind: "bound", message: "ipv4.reassembly.heldBytes went negative" });
  }
  return failures;
}

/** A TCP connection of the target, seen from the target. */
export interface ConnectionTuple {
  /** The peer's address. */
  remote: number;
  /** The peer's port. */
  remotePort: number;
  /** The target's port. */
  localPort: number;
}

/**
 * Sanity of the target's TCP control blocks for the given connections (those the fuzzer is
 * driving): SND.UNA <= SND.NXT <= SND.MAX in sequence space, no more in flight than the send
 * buffer holds (plus SYN and FIN), a send MSS in 1..65535, a positive finite congestion window,
 * an RTO within the configured range, and a peer window a 16-bit field shifted by at most 14
 * can express (RFC 7323 §2.3).
 */
export function checkConnections(target: Stack, tuples: Iterable<ConnectionTuple>): Failure[] {
  const failures: Failure[] = [];
  for (const t of tuples) {
    const tcb = target.tcp.connectionTcb(t.remote, t.remotePort, t.localPort);
    if (!tcb) continue;
    const where = `${t.remote >>> 24 & 255}.${t.remote >>> 16 & 255}.${t.remote >>> 8 & 255}.` +
      `${t.remote & 255}:${t.remotePort} -> :${t.localPort} (${tcb.state})`;
    const fail = (message: string) =>
      failures.push({ kind: "tcb", message: `${where}: ${message}` });
    const inFlight = (tcb.sndMax - tcb.sndUna) >>> 0;
    const nextOffset = (tcb.sndNxt - tcb.sndUna) >>> 0;
    if (nextOffset > inFlight) {
      fail(`SND.NXT ${tcb.sndNxt} outside SND.UNA ${tcb.sndUna}..SND.MAX ${tcb.sndMax}`);
    }
    if (inFlight > tcb.config.sendBufferBytes + 2) {
      fail(`${inFlight} bytes in flight exceed the ${tcb.config.sendBufferBytes}-byte buffer`);
    }
    if (!(tcb.sendMss >= 1 && tcb.sendMss <= 0xffff)) fail(`send MSS ${tcb.sendMss}`);
    if (!(Number.isFinite(tcb.cc.cwnd) && tcb.cc.cwnd > 0)) fail(`cwnd ${tcb.cc.cwnd}`);
    const rto = tcb.rto.rtoMs;
    if (!(rto >= tcb.config.minRtoMs && rto <= tcb.config.maxRtoMs)) fail(`RTO ${rto} ms`);
    if (!(tcb.sndWnd >= 0 && tcb.sndWnd <= 0xffff * 2 ** 14)) fail(`SND.WND ${tcb.sndWnd}`);
  }
  return failures;
}

/** The heap in use now, against `bounds.heapBytes`. */
export function checkHeap(bounds: Bounds): Failure | undefined {
  const used = Deno.memoryUsage().heapUsed;
  if (used <= bounds.heapBytes) return undefined;
  return { kind: "heap", message: `heapUsed ${used} > ${bounds.heapBytes}` };
}

/** One macrotask turn: every queued promise continuation and channel hand-off runs first. */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Waits for `promise` while letting the in-memory network run, moving the manual clock 10 ms
 * every few turns so timers (retransmission, delayed ACK, ping timeout) fire. Gives up after
 * `maxMs` of manual time.
 */
export async function drive<T>(
  promise: Promise<T>,
  clock: ManualClock,
  maxMs = 30_000,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  promise.then(
    (value) => outcome = { ok: true, value },
    (error) => outcome = { ok: false, error },
  );
  for (let turns = 0, elapsed = 0; outcome === undefined; turns++) {
    await turn();
    if (outcome !== undefined) break;
    if (turns % 4 === 3) {
      if (elapsed >= maxMs) return { ok: false, error: new Error(`no result after ${maxMs} ms`) };
      clock.advance(10);
      elapsed += 10;
    }
  }
  return outcome;
}

/**
 * The target still works: the helper pings it and gets the same data back, then opens a TCP
 * connection to its echo port, writes a line and reads it back, and closes. Returns the
 * failures (empty when healthy).
 */
export async function healthCheck(
  helper: Stack,
  clock: ManualClock,
  round: number,
  echoPort: number,
): Promise<Failure[]> {
  // The fuzz frames may have taught the target a wrong MAC for our address (that is legal ARP
  // behaviour, not a bug); announcing ourselves fixes its cache first (RFC 5227 §3).
  helper.arp.announce();
  await turn();
  const failures: Failure[] = [];
  const ping = await drive(
    helper.ping({
      destination: TARGET_IP,
      identifier: 0x4000 + (round & 0x3fff),
      sequence: round & 0xffff,
      dataBytes: 56,
      timeoutMs: 2000,
    }),
    clock,
  );
  if (!ping.ok) failures.push(failureFrom("health-ping", ping.error));
  else if (ping.value.kind !== "reply" || !ping.value.reply.dataMatches) {
    failures.push({ kind: "health-ping", message: `ping: ${JSON.stringify(ping.value)}` });
  }
  const message = new TextEncoder().encode(`health check ${round}\n`);
  const session = async () => {
    const conn = await helper.connect({ hostname: "10.0.0.2", port: echoPort });
    try {
      await conn.write(message);
      const received = new Uint8Array(message.length);
      let filled = 0;
      while (filled < message.length) {
        const n = await conn.read(received.subarray(filled));
        if (n === null) throw new Error(`echo closed after ${filled} bytes`);
        filled += n;
      }
      if (received.join() !== message.join()) throw new Error("echo returned different bytes");
    } finally {
      conn.close();
    }
  };
  const tcp = await drive(session(), clock);
  if (!tcp.ok) failures.push(failureFrom("health-tcp", tcp.error));
  return failures;
}

/** The target's subnet broadcast (10.0.0.255) and network (10.0.0.0) addresses. */
const SUBNET_BROADCAST = 0x0a0000ff;
const SUBNET_NETWORK = 0x0a000000;

/** Whether `addr` names a single host (RFC 1122 §3.2.1.3, §3.2.2). */
function isUnicastHost(addr: number): boolean {
  const first = addr >>> 24;
  return first !== 0 && first !== 127 && first < 224 && addr !== SUBNET_BROADCAST &&
    addr !== SUBNET_NETWORK;
}

/**
 * Checks one frame the target sent; returns what is wrong with it, or undefined. The target
 * must only send well-formed frames from its own MAC and address (checksums that verify, a
 * total length within the link MTU, TCP options that parse), never an IP packet to a
 * broadcast, multicast, network or martian address (RFC 1122 §3.2.2 for ICMP errors,
 * §4.2.3.10 for TCP, §3.2.2.6 for echo replies), and never an ICMP error about an ICMP error, a
 * non-initial fragment, or a datagram that was not addressed to it (RFC 1122 §3.2.2).
 */
export function checkTargetFrame(frame: Uint8Array, mtu = 1500): string | undefined {
  if (frame.length < 60) return `frame of ${frame.length} bytes is below the 60-byte minimum`;
  if (frame.length > 14 + mtu) return `frame of ${frame.length} bytes exceeds the ${mtu}-byte MTU`;
  const source = frame[6] * 2 ** 40 + frame[7] * 2 ** 32 +
    ((frame[8] << 24 | frame[9] << 16 | frame[10] << 8 | frame[11]) >>> 0);
  if (source !== TARGET_MAC) return `source MAC ${source.toString(16)} is not the target's`;
  const etherType = (frame[12] << 8) | frame[13];
  const payload = frame.subarray(14);
  if (etherType === 0x0806) {
    const arp = parseArp(payload);
    if (!arp.ok) return `ARP does not parse: ${arp.reason}`;
    if (arp.value.senderIp !== TARGET_IP) return "ARP sender address is not the target's";
    if (arp.value.operation !== 1 && arp.value.operation !== 2) return "ARP operation not 1/2";
    return undefined;
  }
  if (etherType !== 0x0800) return `unexpected EtherType ${etherType.toString(16)}`;
  const parsed = parseIpv4(payload);
  if (!parsed.ok) return `IPv4 does not parse: ${parsed.reason}`;
  const ip = parsed.value;
  if (ip.source !== TARGET_IP) return "IPv4 source is not the target's address";
  if (!isUnicastHost(ip.destination)) {
    return `IPv4 packet (protocol ${ip.protocol}) sent to non-unicast ${
      formatIpv4(ip.destination)
    }`;
  }
  if (ip.ttl === 0) return "TTL 0";
  if (ip.isFragment) return undefined; // transport checks need the whole datagram
  const body = ip.payload;
  switch (ip.protocol) {
    case 6: {
      const tcp = parseTcp(body, ip.source, ip.destination);
      if (!tcp.ok) return `TCP does not parse: ${tcp.reason}`;
      if (tcp.value.payload.length > mtu - 40) {
        return `TCP carries ${tcp.value.payload.length} bytes over a ${mtu}-byte MTU`;
      }
      return undefined;
    }
    case 17: {
      const udp = parseUdp(body, ip.source, ip.destination);
      if (!udp.ok) return `UDP does not parse: ${udp.reason}`;
      if (udp.value.length !== body.length) return "UDP length disagrees with the IP length";
      return undefined;
    }
    case 1: {
      const icmp = parseIcmp(body);
      if (!icmp.ok) return `ICMP does not parse: ${icmp.reason}`;
      const type = icmp.value.type;
      if (type !== 3 && type !== 11 && type !== 12) return undefined;
      const quoted = icmp.value.payload;
      if (quoted.length < 20) return `ICMP error quotes only ${quoted.length} bytes`;
      // RFC 792: the offender's header and the first 64 bits of its data (if it had that many).
      const quotedHeader = (quoted[0] & 0x0f) * 4;
      const quotedTotal = (quoted[2] << 8) | quoted[3];
      if (quoted.length < Math.min(quotedTotal, quotedHeader + 8)) {
        return `ICMP error quotes ${quoted.length} bytes of a ${quotedTotal}-byte datagram`;
      }
      const quotedSource = ((quoted[12] << 24) | (quoted[13] << 16) | (quoted[14] << 8) |
        quoted[15]) >>> 0;
      const quotedDestination = ((quoted[16] << 24) | (quoted[17] << 16) | (quoted[18] << 8) |
        quoted[19]) >>> 0;
      if (quotedSource !== ip.destination) return "ICMP error not sent to the offender's source";
      if (quotedDestination !== TARGET_IP) {
        return `ICMP error about a datagram to ${formatIpv4(quotedDestination)}, not the target`;
      }
      if ((((quoted[6] & 0x1f) << 8) | quoted[7]) !== 0) {
        return "ICMP error about a non-initial fragment";
      }
      if (quoted[9] === 1 && quoted.length > quotedHeader) {
        const quotedType = quoted[quotedHeader];
        if ([3, 4, 5, 11, 12].includes(quotedType)) {
          return `ICMP error (type ${type}) about an ICMP error (type ${quotedType})`;
        }
      }
      return undefined;
    }
    default:
      return `IPv4 packet with protocol ${ip.protocol}`;
  }
}

/**
 * Oddities in a frame the target sent that no RFC forbids a host, counted rather than failed:
 * a unicast IPv4 packet sent to a group (multicast) MAC, which the target learned from an ARP
 * packet whose sender hardware address was a group address (RFC 1812 §3.3.2 forbids believing
 * that only for routers).
 */
export function noteTargetFrame(frame: Uint8Array): string | undefined {
  if (frame.length >= 14 && frame[12] === 0x08 && frame[13] === 0x00 && (frame[0] & 1) === 1) {
    return "ipv4-to-group-mac";
  }
  return undefined;
}
