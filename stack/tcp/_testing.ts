/**
 * Test helpers for TCP (private to tests): a fake IPv4 layer, a pair of TCP layers joined by a
 * seeded faulty link on a {@link ManualClock}, and a gVisor-style probe that crafts segments into
 * one layer and checks its replies field by field.
 *
 * Nothing here sleeps: time moves only by `ManualClock.advance`, and `settle` lets queued
 * promise continuations run (it awaits resolved promises until the network stops changing).
 * Corked writes (`endpoint.ts`) go out at the next microtask unless a test passes its own
 * `turnEnd` and runs it.
 * @module
 */

import assert from "node:assert/strict";
import { Channel } from "../channel.ts";
import { ManualClock, SeededRandom } from "../clock.ts";
import type { IpOutput, IpPacketOut, IpSendResult, TransportInput } from "../layer.ts";
import type { Ipv4Addr } from "../wire/addr.ts";
import {
  emitTcp,
  parseTcp,
  type TcpHeaderFields,
  type TcpOptions,
  type TcpSegment,
  tcpSegmentLength,
} from "../wire/tcp.ts";
import { TcpLayer, type TcpLayerOptions } from "./layer.ts";
import { TurnEnd } from "../turn_end.ts";

/** 10.0.0.1, the peer / probe side. */
export const ADDR_A: Ipv4Addr = 0x0a000001;
/** 10.0.0.2, the side under test. */
export const ADDR_B: Ipv4Addr = 0x0a000002;

/** Lets every pending promise continuation run; loops while `activity()` keeps changing. */
export async function settle(activity: () => number = () => 0): Promise<void> {
  for (;;) {
    const before = activity();
    for (let i = 0; i < 64; i++) await Promise.resolve();
    if (activity() === before) return;
  }
}

/** An {@link IpOutput} that records copies of what is sent and optionally forwards them. */
export class FakeIp implements IpOutput {
  /** Everything sent, copied. */
  readonly sent: { destination: Ipv4Addr; payload: Uint8Array }[] = [];
  /** Path MTU reported to TCP. */
  mtu: number;
  /** Called for every packet after it was copied. */
  onSend: ((destination: Ipv4Addr, payload: Uint8Array) => void) | undefined;
  readonly #source: Ipv4Addr;

  /** A fake with source address `source`. */
  constructor(source: Ipv4Addr, mtu = 1500) {
    this.#source = source;
    this.mtu = mtu;
  }

  /** Copies and records the payload (IP copies before `send` returns). */
  send(packet: IpPacketOut): IpSendResult {
    const payload = packet.payload.slice();
    this.sent.push({ destination: packet.destination, payload });
    this.onSend?.(packet.destination, payload);
    return "sent";
  }

  /** Our address. */
  sourceFor(): Ipv4Addr {
    return this.#source;
  }

  /** The configured MTU. */
  mtuFor(): number {
    return this.mtu;
  }
}

/** Probabilities (0..1) and delays of the simulated link. */
export interface Faults {
  /** Drop probability. */
  loss?: number;
  /** Duplicate probability. */
  duplicate?: number;
  /** Probability of an extra delay that reorders a packet. */
  reorder?: number;
  /** Probability of flipping one byte (the checksum must catch it). */
  corrupt?: number;
  /** One-way latency in ms (default 5). */
  latencyMs?: number;
}

/** Two TCP layers (A = 10.0.0.1, B = 10.0.0.2) over a seeded faulty link. */
export class Net {
  /** The shared clock. */
  readonly clock = new ManualClock(1_000_000);
  /** Side A. */
  readonly a: TcpLayer;
  /** Side B. */
  readonly b: TcpLayer;
  /** Packets delivered, dropped, duplicated, reordered, corrupted. */
  readonly link = { delivered: 0, dropped: 0, duplicated: 0, reordered: 0, corrupted: 0 };
  /** Extra filter: return false to drop a packet (after parsing it). */
  filter: ((from: Ipv4Addr, seg: TcpSegment) => boolean) | undefined;
  /** Packets sent by each side, parsed. */
  readonly trace: { from: Ipv4Addr; seg: TcpSegment }[] = [];
  #activity = 0;
  #inboxA = new Channel<TransportInput>(4096, "tcp-a");
  #inboxB = new Channel<TransportInput>(4096, "tcp-b");
  #runs: Promise<void>[];
  #rng: SeededRandom;
  #faults: Faults;

  /** Builds both layers; `options` applies to both, `a`/`b` to one side. */
  constructor(
    init: {
      seed?: number;
      faults?: Faults;
      options?: Partial<TcpLayerOptions>;
      a?: Partial<TcpLayerOptions>;
      b?: Partial<TcpLayerOptions>;
      mtu?: number;
    } = {},
  ) {
    this.#rng = new SeededRandom(init.seed ?? 1);
    this.#faults = init.faults ?? {};
    const ipA = new FakeIp(ADDR_A, init.mtu);
    const ipB = new FakeIp(ADDR_B, init.mtu);
    ipA.onSend = (_dst, payload) => this.#transmit(ADDR_A, ADDR_B, payload, this.#inboxB);
    ipB.onSend = (_dst, payload) => this.#transmit(ADDR_B, ADDR_A, payload, this.#inboxA);
    this.a = new TcpLayer({
      ip: ipA,
      clock: this.clock,
      random: new SeededRandom((init.seed ?? 1) + 100),
      localAddress: ADDR_A,
      turnEnd: new TurnEnd(queueMicrotask),
      ...init.options,
      ...init.a,
    });
    this.b = new TcpLayer({
      ip: ipB,
      clock: this.clock,
      random: new SeededRandom((init.seed ?? 1) + 200),
      localAddress: ADDR_B,
      turnEnd: new TurnEnd(queueMicrotask),
      ...init.options,
      ...init.b,
    });
    this.#runs = [this.a.run(this.#inboxA), this.b.run(this.#inboxB)];
  }

  /** Lets queued work run until nothing moves. */
  settle(): Promise<void> {
    return settle(() => this.#activity);
  }

  /** Advances time by `ms` in `stepMs` steps, settling after each. */
  async run(ms: number, stepMs = 1): Promise<void> {
    await this.settle();
    for (let t = 0; t < ms; t += stepMs) {
      this.clock.advance(stepMs);
      await this.settle();
    }
  }

  /** Advances time until `done()` is true; fails after `maxMs` of simulated time. */
  async until(done: () => boolean, maxMs = 600_000, stepMs = 1): Promise<void> {
    await this.settle();
    for (let t = 0; !done(); t += stepMs) {
      if (t >= maxMs) throw new Error(`condition not reached within ${maxMs} ms`);
      this.clock.advance(stepMs);
      await this.settle();
    }
  }

  /** Awaits `promise` while advancing time. */
  async await<T>(promise: Promise<T>, maxMs = 600_000, stepMs = 1): Promise<T> {
    let settled = false;
    let value: T | undefined;
    let error: unknown;
    promise.then((v) => {
      settled = true;
      value = v;
    }, (e) => {
      settled = true;
      error = e;
    });
    await this.until(() => settled, maxMs, stepMs);
    if (error !== undefined) throw error;
    return value as T;
  }

  /** Closes both layers and their dealers. */
  async close(): Promise<void> {
    await this.a.close();
    await this.b.close();
    this.#inboxA.close();
    this.#inboxB.close();
    await this.settle();
    await Promise.all(this.#runs);
  }

  #transmit(from: Ipv4Addr, to: Ipv4Addr, payload: Uint8Array, inbox: Channel<TransportInput>) {
    this.#activity++;
    const parsed = parseTcp(payload, from, to);
    if (parsed.ok) {
      this.trace.push({ from, seg: parsed.value });
      if (this.filter && !this.filter(from, parsed.value)) {
        this.link.dropped++;
        return;
      }
    }
    const f = this.#faults;
    const rng = this.#rng;
    if (f.loss && rng.nextFloat() < f.loss) {
      this.link.dropped++;
      return;
    }
    let copies = 1;
    if (f.duplicate && rng.nextFloat() < f.duplicate) {
      copies = 2;
      this.link.duplicated++;
    }
    for (let c = 0; c < copies; c++) {
      let bytes = payload;
      if (f.corrupt && rng.nextFloat() < f.corrupt) {
        bytes = payload.slice();
        bytes[rng.nextU32() % bytes.length] ^= 1 << (rng.nextU32() % 8);
        this.link.corrupted++;
      }
      let delay = f.latencyMs ?? 5;
      if (f.reorder && rng.nextFloat() < f.reorder) {
        delay += 1 + (rng.nextU32() % 20);
        this.link.reordered++;
      }
      this.clock.setTimer(delay, () => {
        this.#activity++;
        this.link.delivered++;
        inbox.trySend({
          kind: "packet",
          packet: {
            source: from,
            destination: to,
            protocol: 6,
            ttl: 64,
            header: new Uint8Array(20),
            payload: bytes,
          },
        });
      });
    }
  }
}

/** Fields of a crafted segment; ports default to the probe's. */
export interface Craft {
  /** Flag bits. */
  flags: number;
  /** Sequence number. */
  seq: number;
  /** Acknowledgment number (default 0). */
  ack?: number;
  /** Window field (default 65535). */
  window?: number;
  /** Options. */
  options?: TcpOptions;
  /** Data. */
  payload?: Uint8Array;
  /** Source port (default the probe's). */
  sourcePort?: number;
  /** Destination port (default the probe's). */
  destinationPort?: number;
}

/** What {@link Probe.expect} checks; omitted fields are not checked. */
export interface Expect {
  /** Exact flag bits. */
  flags?: number;
  /** Sequence number. */
  seq?: number;
  /** Acknowledgment number. */
  ack?: number;
  /** Window field as on the wire. */
  window?: number;
  /** Payload length. */
  length?: number;
  /** Options, compared with deepEqual. */
  options?: TcpOptions;
}

/**
 * A hand-driven peer (10.0.0.1) talking to one layer under test (10.0.0.2) with crafted
 * segments, in the style of gVisor's TCP tests.
 */
export class Probe {
  /** The clock. */
  readonly clock = new ManualClock(1_000_000);
  /** The layer under test. */
  readonly layer: TcpLayer;
  /** The fake IP below the layer. */
  readonly ip = new FakeIp(ADDR_B);
  /** Port the probe uses. */
  localPort = 40000;
  /** Port of the layer under test the probe talks to. */
  remotePort = 80;
  #inbox = new Channel<TransportInput>(1024, "probe-in");
  #read = 0;
  #run: Promise<void>;

  /** Creates the layer under test with `options`. */
  constructor(options: Partial<TcpLayerOptions> = {}) {
    this.layer = new TcpLayer({
      ip: this.ip,
      clock: this.clock,
      random: new SeededRandom(7),
      localAddress: ADDR_B,
      turnEnd: new TurnEnd(queueMicrotask),
      ...options,
    });
    this.#run = this.layer.run(this.#inbox);
  }

  /** Lets the layer process everything queued. */
  settle(): Promise<void> {
    return settle(() => this.ip.sent.length + this.#inbox.length);
  }

  /** Advances time by `ms` (in one step by default) and settles. */
  async advance(ms: number, stepMs = ms): Promise<void> {
    await this.settle();
    for (let t = 0; t < ms; t += stepMs) {
      this.clock.advance(Math.min(stepMs, ms - t));
      await this.settle();
    }
  }

  /** Sends a crafted segment from 10.0.0.1 to the layer and settles. */
  async send(c: Craft): Promise<void> {
    const fields: TcpHeaderFields = {
      sourcePort: c.sourcePort ?? this.localPort,
      destinationPort: c.destinationPort ?? this.remotePort,
      seq: c.seq >>> 0,
      ack: (c.ack ?? 0) >>> 0,
      flags: c.flags,
      window: c.window ?? 65535,
      options: c.options,
    };
    const payload = c.payload ?? new Uint8Array(0);
    const bytes = new Uint8Array(tcpSegmentLength(fields, payload.length));
    emitTcp(bytes, fields, payload, ADDR_A, ADDR_B);
    this.sendRaw(bytes);
    await this.settle();
  }

  /** Queues raw bytes as a TCP payload from 10.0.0.1 (no settling). */
  sendRaw(bytes: Uint8Array, source = ADDR_A, checksumVerified = false): void {
    this.#inbox.trySend({
      kind: "packet",
      packet: {
        source,
        destination: ADDR_B,
        protocol: 6,
        ttl: 64,
        header: new Uint8Array(20),
        payload: bytes,
        checksumVerified,
      },
    });
  }

  /** Queues an ICMP error about a segment the layer sent to 10.0.0.1 (no settling). */
  sendIcmp(e: { type: number; code: number; quoted: Uint8Array; nextHopMtu?: number }): void {
    this.#inbox.trySend({
      kind: "icmp-error",
      error: {
        type: e.type,
        code: e.code,
        reporter: ADDR_A,
        nextHopMtu: e.nextHopMtu ?? 0,
        source: ADDR_B,
        destination: ADDR_A,
        protocol: 6,
        quoted: e.quoted,
      },
    });
  }

  /** Segments sent by the layer and not yet checked. */
  pending(): TcpSegment[] {
    return this.ip.sent.slice(this.#read).map((p) => this.#parse(p.payload));
  }

  /** Takes the next sent segment and checks the given fields. */
  expect(e: Expect, message = ""): TcpSegment {
    const next = this.ip.sent[this.#read];
    assert.ok(next, `expected a segment ${JSON.stringify(e)} ${message}, none was sent`);
    this.#read++;
    assert.equal(next.destination, ADDR_A);
    const seg = this.#parse(next.payload);
    const where = `${message} (flags=${seg.flags} seq=${seg.seq} ack=${seg.ack})`;
    if (e.flags !== undefined) assert.equal(seg.flags, e.flags, `flags ${where}`);
    if (e.seq !== undefined) assert.equal(seg.seq, e.seq >>> 0, `seq ${where}`);
    if (e.ack !== undefined) assert.equal(seg.ack, e.ack >>> 0, `ack ${where}`);
    if (e.window !== undefined) assert.equal(seg.window, e.window, `window ${where}`);
    if (e.length !== undefined) assert.equal(seg.payload.length, e.length, `length ${where}`);
    if (e.options !== undefined) assert.deepEqual(seg.options, e.options, `options ${where}`);
    return seg;
  }

  /** Asserts that nothing more was sent. */
  expectNone(message = ""): void {
    const extra = this.pending().map((s) =>
      `flags=${s.flags} seq=${s.seq} len=${s.payload.length}`
    );
    assert.deepEqual(extra, [], `expected no segment ${message}`);
  }

  /** Closes the layer and its dealer. */
  async close(): Promise<void> {
    await this.layer.close();
    this.#inbox.close();
    await this.settle();
    await this.#run;
  }

  #parse(bytes: Uint8Array): TcpSegment {
    const parsed = parseTcp(bytes, ADDR_B, ADDR_A);
    assert.ok(parsed.ok, `layer sent an invalid segment: ${!parsed.ok && parsed.reason}`);
    return parsed.value;
  }
}
