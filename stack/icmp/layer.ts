/**
 * The ICMP dealer (RFC 792, RFC 1122 §3.2.2). It answers echo requests, matches echo replies to
 * the pings in flight by identifier and sequence, hands errors about our own datagrams to the
 * transport that sent them, and originates errors for the other layers under a rate limit.
 * @module
 */

import type { Channel } from "../channel.ts";
import type { Clock, Random, TimerHandle } from "../clock.ts";
import { countDrop, type DropCounts } from "../counters.ts";
import type { IcmpErrorIn, IpOutput, TransportInput } from "../layer.ts";
import { IpProtocol } from "../layer.ts";
import { type Ipv4Addr, readIpv4 } from "../wire/addr.ts";
import { updateChecksum } from "../wire/checksum.ts";
import {
  emitIcmpEcho,
  emitIcmpError,
  IcmpType,
  parseIcmp,
  quoteForIcmpError,
} from "../wire/icmp.ts";
import { TokenBucket } from "./token_bucket.ts";

/** Tunables of the ICMP layer, with defaults. */
export interface IcmpOptions {
  /** Errors we originate per second (default 100), with bursts of `errorBurst` (default 50). */
  errorRatePerSec?: number;
  /** Burst size of the error limiter. */
  errorBurst?: number;
  /** Echo replies per second (default 100 000, a flood guard rather than a throttle). */
  echoReplyRatePerSec?: number;
  /** Pings in flight at once across all users (default 65 536). */
  maxPingsInFlight?: number;
}

/** Counters of the ICMP layer. */
export interface IcmpStats {
  /** Echo requests received. */
  echoRequestsIn: number;
  /** Echo replies sent. */
  echoRepliesOut: number;
  /** Echo requests sent (pings). */
  echoRequestsOut: number;
  /** Echo replies received that matched a ping. */
  echoRepliesIn: number;
  /** Errors received. */
  errorsIn: number;
  /** Errors sent. */
  errorsOut: number;
  /** Errors not sent because of the rate limit. */
  errorsRateLimited: number;
  /** Messages dropped, by reason. */
  drops: DropCounts;
}

/** One ping to send. */
export interface EchoRequest {
  /** Destination address. */
  destination: Ipv4Addr;
  /** Identifier; see {@link IcmpLayer.allocateIdentifier}. */
  identifier: number;
  /** Sequence number (0..65535). */
  sequence: number;
  /** Echo data bytes (iputils `-s`, default 56). */
  dataBytes?: number;
  /** Give up after this long (default 1000 ms). */
  timeoutMs?: number;
  /** TTL of the request. */
  ttl?: number;
}

/** A matched echo reply. */
export interface EchoReply {
  /** Who answered. */
  source: Ipv4Addr;
  /** ICMP bytes received (header and data). */
  bytes: number;
  /** TTL of the reply's IP header. */
  ttl: number;
  /** Round-trip time in milliseconds. */
  rttMs: number;
  /** Sequence number. */
  sequence: number;
  /** Whether the data came back unchanged. */
  dataMatches: boolean;
}

/** The result of one ping: a reply, a timeout, or an ICMP error instead of a reply. */
export type EchoResult =
  | { kind: "reply"; reply: EchoReply }
  | { kind: "timeout" }
  | { kind: "error"; type: number; code: number; reporter: Ipv4Addr }
  | { kind: "not-sent"; reason: string };

interface PendingEcho {
  readonly sentAt: number;
  readonly data: Uint8Array;
  readonly timer: TimerHandle;
  readonly resolve: (result: EchoResult) => void;
}

/** The ICMP layer. */
export class IcmpLayer {
  /** Counters. */
  readonly stats: IcmpStats = {
    echoRequestsIn: 0,
    echoRepliesOut: 0,
    echoRequestsOut: 0,
    echoRepliesIn: 0,
    errorsIn: 0,
    errorsOut: 0,
    errorsRateLimited: 0,
    drops: {},
  };
  readonly #ip: IpOutput;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #errorLimiter: TokenBucket;
  readonly #echoLimiter: TokenBucket;
  readonly #maxPings: number;
  readonly #errorSinks = new Map<number, Channel<TransportInput>>();
  readonly #pending = new Map<number, PendingEcho>();
  readonly #identifiers = new Set<number>();
  readonly #scratch = new Uint8Array(65535);

  /** Creates the layer sending through `ip`. */
  constructor(ip: IpOutput, clock: Clock, random: Random, options: IcmpOptions = {}) {
    this.#ip = ip;
    this.#clock = clock;
    this.#random = random;
    const now = clock.now();
    this.#errorLimiter = new TokenBucket(
      options.errorRatePerSec ?? 100,
      options.errorBurst ?? 50,
      now,
    );
    const echoRate = options.echoReplyRatePerSec ?? 100_000;
    this.#echoLimiter = new TokenBucket(echoRate, echoRate, now);
    this.#maxPings = options.maxPingsInFlight ?? 65_536;
  }

  /** Routes errors about datagrams of `protocol` to `channel`. */
  bindErrors(protocol: number, channel: Channel<TransportInput>): void {
    this.#errorSinks.set(protocol, channel);
  }

  /** The dealer loop; ends when `inbox` closes. */
  async run(inbox: Channel<TransportInput>): Promise<void> {
    try {
      for (let batch = await inbox.receiveBatch(); batch; batch = await inbox.receiveBatch()) {
        for (const input of batch) {
          if (input.kind === "packet") {
            this.#receive(
              input.packet.source,
              input.packet.destination,
              input.packet.ttl,
              input.packet.payload,
            );
          }
        }
      }
    } finally {
      this.close();
    }
  }

  /** A fresh echo identifier not used by another ping session; release it when done. */
  allocateIdentifier(): number {
    for (;;) {
      const id = this.#random.nextU32() & 0xffff;
      if (!this.#identifiers.has(id)) {
        this.#identifiers.add(id);
        return id;
      }
    }
  }

  /** Returns an identifier to the pool. */
  releaseIdentifier(identifier: number): void {
    this.#identifiers.delete(identifier);
  }

  /** Sends one echo request and resolves with its reply, an error, or a timeout. */
  ping(request: EchoRequest): Promise<EchoResult> {
    const key = request.identifier * 0x10000 + (request.sequence & 0xffff);
    if (this.#pending.has(key)) return Promise.resolve({ kind: "not-sent", reason: "duplicate" });
    if (this.#pending.size >= this.#maxPings) {
      return Promise.resolve({ kind: "not-sent", reason: "too-many-pings" });
    }
    const data = new Uint8Array(request.dataBytes ?? 56);
    // The iputils pattern: byte i of the data is i (mod 256), so corruption shows.
    for (let i = 0; i < data.length; i++) data[i] = i;
    const length = emitIcmpEcho({
      type: IcmpType.EchoRequest,
      identifier: request.identifier,
      sequence: request.sequence & 0xffff,
      data,
    }, this.#scratch);
    return new Promise<EchoResult>((resolve) => {
      const timer = this.#clock.setTimer(request.timeoutMs ?? 1000, () => {
        this.#pending.delete(key);
        resolve({ kind: "timeout" });
      });
      this.#pending.set(key, { sentAt: this.#clock.now(), data, timer, resolve });
      const result = this.#ip.send({
        destination: request.destination,
        protocol: IpProtocol.Icmp,
        payload: this.#scratch.subarray(0, length),
        ttl: request.ttl,
      });
      if (result === "no-route" || result === "too-big") {
        timer.cancel();
        this.#pending.delete(key);
        resolve({ kind: "not-sent", reason: result });
        return;
      }
      this.stats.echoRequestsOut++;
    });
  }

  /**
   * Sends an error about an offending datagram, unless RFC 1122 §3.2.2 forbids it (the offender
   * was an ICMP error, a broadcast, a non-first fragment, or from a martian source) or the rate
   * limit says no.
   */
  sendError(
    type: number,
    code: number,
    offending: { header: Uint8Array; payload: Uint8Array; source: Ipv4Addr; destination: Ipv4Addr },
    nextHopMtu?: number,
  ): void {
    const header = offending.header;
    const fragmentOffset = ((header[6] & 0x1f) << 8) | header[7];
    if (fragmentOffset !== 0) return;
    if (offending.destination === 0xffff_ffff || (offending.source >>> 24) >= 224) return;
    if (offending.destination !== this.#ip.sourceFor(offending.source)) return;
    if (
      header[9] === IpProtocol.Icmp && offending.payload.length > 0 &&
      isIcmpError(offending.payload[0])
    ) {
      return;
    }
    if (!this.#errorLimiter.take(this.#clock.now())) {
      this.stats.errorsRateLimited++;
      return;
    }
    const quotedBytes = header.length + offending.payload.length;
    const datagram = new Uint8Array(quotedBytes);
    datagram.set(header);
    datagram.set(offending.payload, header.length);
    const length = emitIcmpError(
      { type, code, nextHopMtu, quoted: quoteForIcmpError(datagram) },
      this.#scratch,
    );
    this.#ip.send({
      destination: offending.source,
      protocol: IpProtocol.Icmp,
      payload: this.#scratch.subarray(0, length),
    });
    this.stats.errorsOut++;
  }

  /** Fails every ping in flight with a timeout. */
  close(): void {
    for (const pending of this.#pending.values()) {
      pending.timer.cancel();
      pending.resolve({ kind: "timeout" });
    }
    this.#pending.clear();
  }

  #receive(source: Ipv4Addr, destination: Ipv4Addr, ttl: number, bytes: Uint8Array): void {
    const parsed = parseIcmp(bytes);
    if (!parsed.ok) return countDrop(this.stats.drops, parsed.reason);
    const message = parsed.value;
    switch (message.type) {
      case IcmpType.EchoRequest:
        return this.#answerEcho(source, destination, bytes);
      case IcmpType.EchoReply:
        return this.#matchReply(
          source,
          ttl,
          bytes.length,
          message.identifier,
          message.sequence,
          message.payload,
        );
      case IcmpType.DestinationUnreachable:
      case IcmpType.TimeExceeded:
      case IcmpType.ParameterProblem:
        this.stats.errorsIn++;
        return this.#routeError(
          source,
          message.type,
          message.code,
          message.nextHopMtu,
          message.payload,
        );
      default:
        return countDrop(this.stats.drops, "unhandled-type");
    }
  }

  /** Whether an echo request would be answered now rather than dropped by the rate limit. */
  mayAnswerEcho(): boolean {
    return this.#echoLimiter.hasToken(this.#clock.now());
  }

  /**
   * Takes one answered echo out of the counters and gives its rate-limit token back: a link's
   * rehearsal (`LinkDevice.setRehearsalHook`), which was answered like a real request.
   */
  forgetRehearsedEcho(): void {
    this.stats.echoRequestsIn--;
    this.stats.echoRepliesOut--;
    this.#echoLimiter.giveBack();
  }

  #answerEcho(source: Ipv4Addr, destination: Ipv4Addr, request: Uint8Array): void {
    this.stats.echoRequestsIn++;
    // RFC 1122 §3.2.2.6 lets a host ignore echo requests to a broadcast address; Linux does too.
    if (destination !== this.#ip.sourceFor(source)) {
      return countDrop(this.stats.drops, "broadcast-echo");
    }
    if (!this.#echoLimiter.take(this.#clock.now())) {
      return countDrop(this.stats.drops, "echo-rate-limited");
    }
    // The request's bytes are ours (IpPacketIn): turn them into the reply in place, no copy.
    const reply = request;
    reply[0] = IcmpType.EchoReply;
    // Only the type byte changed, from 8 to 0: update the checksum instead of recomputing it.
    const checksum = updateChecksum(
      (reply[2] << 8) | reply[3],
      IcmpType.EchoRequest << 8,
      IcmpType.EchoReply << 8,
    );
    reply[2] = checksum >>> 8;
    reply[3] = checksum;
    const result = this.#ip.send({
      destination: source,
      protocol: IpProtocol.Icmp,
      payload: reply,
    });
    if (result === "sent" || result === "queued") this.stats.echoRepliesOut++;
    else countDrop(this.stats.drops, `echo-reply-${result}`);
  }

  #matchReply(
    source: Ipv4Addr,
    ttl: number,
    bytes: number,
    identifier: number,
    sequence: number,
    data: Uint8Array,
  ): void {
    const key = identifier * 0x10000 + sequence;
    const pending = this.#pending.get(key);
    if (!pending) return countDrop(this.stats.drops, "unmatched-reply");
    this.#pending.delete(key);
    pending.timer.cancel();
    this.stats.echoRepliesIn++;
    pending.resolve({
      kind: "reply",
      reply: {
        source,
        bytes,
        ttl,
        rttMs: this.#clock.now() - pending.sentAt,
        sequence,
        dataMatches: sameBytes(data, pending.data),
      },
    });
  }

  #routeError(
    reporter: Ipv4Addr,
    type: number,
    code: number,
    nextHopMtu: number,
    quoted: Uint8Array,
  ): void {
    if (quoted.length < 20 || quoted[0] >>> 4 !== 4) {
      return countDrop(this.stats.drops, "bad-quote");
    }
    const headerLength = (quoted[0] & 0x0f) * 4;
    if (headerLength < 20 || quoted.length < headerLength + 8) {
      return countDrop(this.stats.drops, "bad-quote");
    }
    const protocol = quoted[9];
    const source = readIpv4(quoted, 12);
    const destination = readIpv4(quoted, 16);
    const transport = quoted.subarray(headerLength);
    if (protocol === IpProtocol.Icmp) {
      // An error about one of our echo requests answers that ping.
      if (transport[0] === IcmpType.EchoRequest) {
        const key = ((transport[4] << 8) | transport[5]) * 0x10000 +
          ((transport[6] << 8) | transport[7]);
        const pending = this.#pending.get(key);
        if (pending) {
          this.#pending.delete(key);
          pending.timer.cancel();
          pending.resolve({ kind: "error", type, code, reporter });
        }
      }
      return;
    }
    const sink = this.#errorSinks.get(protocol);
    if (!sink) return countDrop(this.stats.drops, "error-for-unknown-protocol");
    const error: IcmpErrorIn = {
      type,
      code,
      reporter,
      nextHopMtu,
      source,
      destination,
      protocol,
      quoted: transport,
    };
    if (!sink.trySend({ kind: "icmp-error", error })) {
      countDrop(this.stats.drops, "transport-inbox-full");
    }
  }
}

function isIcmpError(type: number): boolean {
  return type === IcmpType.DestinationUnreachable || type === IcmpType.TimeExceeded ||
    type === IcmpType.ParameterProblem || type === 4 || type === 5;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
