/**
 * The ARP dealer (RFC 826). It answers requests for our address, feeds the cache by the policy in
 * `cache.ts`, and resolves addresses with one resolver task per outstanding address, as in the
 * paper: concurrent lookups of the same address share that task, which sends a request, waits on
 * its own channel for the reply or a timer tick, retries, and gives up after the last try.
 * @module
 */

import { Channel } from "../channel.ts";
import type { Clock } from "../clock.ts";
import { countDrop, type DropCounts } from "../counters.ts";
import type { FrameOutput } from "../layer.ts";
import type { FrameBatch } from "../link/link.ts";
import {
  type Ipv4Addr,
  isMulticastMac,
  MAC_BROADCAST,
  MAC_ZERO,
  type MacAddr,
} from "../wire/addr.ts";
import { ARP_PACKET_BYTES, ArpOperation, type ArpRepr, emitArp, parseArp } from "../wire/arp.ts";
import { ETHERNET_HEADER_BYTES, EtherType } from "../wire/ethernet.ts";
import { ArpCache, type ArpCacheOptions } from "./cache.ts";

/** Tunables of the ARP layer. */
export interface ArpOptions extends ArpCacheOptions {
  /** Requests sent before giving up on an address (default 3). */
  retries?: number;
  /** Wait for a reply before the next request (default 1000 ms). */
  retryIntervalMs?: number;
  /** At most this many addresses resolved at once; more fail at once (default 256). */
  maxResolvers?: number;
}

/** Counters of the ARP layer. */
export interface ArpStats {
  /** Requests received. */
  requestsIn: number;
  /** Replies received. */
  repliesIn: number;
  /** Requests sent (resolution and gratuitous). */
  requestsOut: number;
  /** Replies sent. */
  repliesOut: number;
  /** Resolutions that got an answer. */
  resolved: number;
  /** Resolutions that gave up. */
  failed: number;
  /** Packets dropped, by reason. */
  drops: DropCounts;
}

type ResolverEvent = { kind: "reply"; mac: MacAddr } | { kind: "tick" };

interface Resolver {
  readonly events: Channel<ResolverEvent>;
  readonly result: Promise<MacAddr | undefined>;
}

/** The ARP layer of one interface. */
export class ArpLayer {
  /** The neighbour cache. */
  readonly cache: ArpCache;
  /** Counters. */
  readonly stats: ArpStats = {
    requestsIn: 0,
    repliesIn: 0,
    requestsOut: 0,
    repliesOut: 0,
    resolved: 0,
    failed: 0,
    drops: {},
  };
  readonly #ethernet: FrameOutput;
  readonly #clock: Clock;
  readonly #address: Ipv4Addr;
  readonly #retries: number;
  readonly #retryIntervalMs: number;
  readonly #maxResolvers: number;
  readonly #resolvers = new Map<Ipv4Addr, Resolver>();
  #closed = false;

  /** Creates the layer answering for `address` on `ethernet`. */
  constructor(ethernet: FrameOutput, address: Ipv4Addr, clock: Clock, options: ArpOptions = {}) {
    this.#ethernet = ethernet;
    this.#address = address;
    this.#clock = clock;
    this.cache = new ArpCache(options);
    this.#retries = options.retries ?? 3;
    this.#retryIntervalMs = options.retryIntervalMs ?? 1000;
    this.#maxResolvers = options.maxResolvers ?? 256;
  }

  /** Addresses being resolved right now. */
  get pendingResolutions(): number {
    return this.#resolvers.size;
  }

  /** The dealer loop over ARP payloads from the Ethernet layer; ends when `inbox` closes. */
  async run(inbox: Channel<FrameBatch>): Promise<void> {
    for (let batches = await inbox.receiveBatch(); batches; batches = await inbox.receiveBatch()) {
      for (const batch of batches) {
        for (const payload of batch) this.#receive(payload);
      }
    }
  }

  /** The cached MAC of `address`, without waiting (the egress fast path). */
  lookup(address: Ipv4Addr): MacAddr | undefined {
    return this.cache.lookup(address, this.#clock.now());
  }

  /**
   * The MAC of `address`, from the cache or by asking the network. Resolves `undefined` when
   * nobody answered all the retries.
   */
  resolve(address: Ipv4Addr): Promise<MacAddr | undefined> {
    const cached = this.lookup(address);
    if (cached !== undefined) return Promise.resolve(cached);
    const running = this.#resolvers.get(address);
    if (running) return running.result;
    if (this.#closed || this.#resolvers.size >= this.#maxResolvers) {
      countDrop(this.stats.drops, "too-many-resolutions");
      return Promise.resolve(undefined);
    }
    const events = new Channel<ResolverEvent>(8, `arp.resolver`);
    const result = this.#runResolver(address, events).finally(() => {
      events.close();
      this.#resolvers.delete(address);
    });
    this.#resolvers.set(address, { events, result });
    return result;
  }

  /** Sends a gratuitous ARP request announcing our binding (RFC 5227 §3 "ARP Announcement"). */
  announce(): void {
    this.#send({
      operation: ArpOperation.Request,
      senderMac: this.#ethernet.mac,
      senderIp: this.#address,
      targetMac: MAC_ZERO,
      targetIp: this.#address,
    }, MAC_BROADCAST);
    this.stats.requestsOut++;
  }

  /** Stops all resolvers; their callers get `undefined`. */
  close(): void {
    this.#closed = true;
    for (const resolver of this.#resolvers.values()) resolver.events.close();
  }

  async #runResolver(
    address: Ipv4Addr,
    events: Channel<ResolverEvent>,
  ): Promise<MacAddr | undefined> {
    for (let attempt = 0; attempt < this.#retries && !this.#closed; attempt++) {
      this.#send({
        operation: ArpOperation.Request,
        senderMac: this.#ethernet.mac,
        senderIp: this.#address,
        targetMac: MAC_ZERO,
        targetIp: address,
      }, MAC_BROADCAST);
      this.stats.requestsOut++;
      const timer = this.#clock.setTimer(
        this.#retryIntervalMs,
        () => events.trySend({ kind: "tick" }),
      );
      const event = await events.receive();
      timer.cancel();
      if (event === undefined) break;
      if (event.kind === "reply") {
        this.stats.resolved++;
        return event.mac;
      }
    }
    this.stats.failed++;
    return undefined;
  }

  #receive(payload: Uint8Array): void {
    const parsed = parseArp(payload);
    if (!parsed.ok) return countDrop(this.stats.drops, parsed.reason);
    const arp = parsed.value;
    const now = this.#clock.now();
    // A host's hardware address is unicast and not zero; anything else would have us send
    // unicast IP to a group or to nobody (RFC 1812 §3.3.2 says the same for routers).
    if (
      arp.senderMac === MAC_ZERO || isMulticastMac(arp.senderMac) ||
      arp.senderMac === this.#ethernet.mac
    ) {
      return countDrop(this.stats.drops, "bad-sender-mac");
    }
    if (arp.senderIp === this.#address) return countDrop(this.stats.drops, "address-conflict");
    switch (arp.operation) {
      case ArpOperation.Request: {
        this.stats.requestsIn++;
        if (arp.targetIp !== this.#address) {
          // RFC 826 merge step only: refresh what we already know, learn nothing new.
          this.cache.refresh(arp.senderIp, arp.senderMac, now);
          return;
        }
        this.cache.set(arp.senderIp, arp.senderMac, now);
        this.#send({
          operation: ArpOperation.Reply,
          senderMac: this.#ethernet.mac,
          senderIp: this.#address,
          targetMac: arp.senderMac,
          targetIp: arp.senderIp,
        }, arp.senderMac);
        this.stats.repliesOut++;
        this.#resolvers.get(arp.senderIp)?.events.trySend({ kind: "reply", mac: arp.senderMac });
        return;
      }
      case ArpOperation.Reply: {
        this.stats.repliesIn++;
        const resolver = this.#resolvers.get(arp.senderIp);
        if (!resolver) return countDrop(this.stats.drops, "unsolicited-reply");
        this.cache.set(arp.senderIp, arp.senderMac, now);
        resolver.events.trySend({ kind: "reply", mac: arp.senderMac });
        return;
      }
      default:
        return countDrop(this.stats.drops, "unknown-operation");
    }
  }

  #send(repr: ArpRepr, destination: MacAddr): void {
    const frame = new Uint8Array(ETHERNET_HEADER_BYTES + ARP_PACKET_BYTES);
    emitArp(repr, frame.subarray(ETHERNET_HEADER_BYTES));
    this.#ethernet.transmit(frame, destination, EtherType.Arp);
  }
}
