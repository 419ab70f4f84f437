/**
 * The Ethernet dealer: reads frame batches from the link, keeps frames addressed to our MAC or to
 * broadcast, and hands each payload to the channel bound to its EtherType (ARP 0x0806, IPv4
 * 0x0800), like the paper's Ethernet read-manager. Egress is a direct call: the layer above builds
 * the frame with 14 bytes of headroom and {@link EthernetLayer.transmit} fills the header in place.
 * @module
 */

import type { Channel } from "../channel.ts";
import { countDrop, type DropCounts } from "../counters.ts";
import type { FrameBatch, LinkDevice, SegmentationRequest } from "../link/link.ts";
import { MAC_BROADCAST, type MacAddr, readMac, writeMac } from "../wire/addr.ts";
import {
  ETHERNET_ETHERTYPE_OFFSET,
  ETHERNET_HEADER_BYTES,
  ETHERNET_MIN_FRAME_BYTES,
} from "../wire/ethernet.ts";

/** Counters of the Ethernet layer. */
export interface EthernetStats {
  /** Frames accepted and delivered to a bound channel. */
  rxFrames: number;
  /** Frames transmitted. */
  txFrames: number;
  /** Frames dropped, by reason (`truncated`, `not-for-us`, `unknown-ethertype`, `inbox-full`). */
  drops: DropCounts;
}

/** Frame bytes an upper layer hands down: `frame[14..]` is the payload, `frame[0..14]` is free. */
export type OutgoingFrame = Uint8Array;

/** Where frames of one EtherType go, and those of the batch being dealt that go there. */
interface Binding {
  channel: Channel<FrameBatch>;
  pending: FrameBatch | undefined;
}

/** The Ethernet layer of one interface. */
export class EthernetLayer {
  /** Our MAC address. */
  readonly mac: MacAddr;
  /** Counters. */
  readonly stats: EthernetStats = { rxFrames: 0, txFrames: 0, drops: {} };
  readonly #link: LinkDevice;
  readonly #bindings = new Map<number, Binding>();
  /** The bindings in order, for handing out a batch without iterating a Map. */
  readonly #routes: Binding[] = [];
  readonly #padding = new Uint8Array(ETHERNET_MIN_FRAME_BYTES);

  /** Creates the layer for `link` with our `mac`. */
  constructor(link: LinkDevice, mac: MacAddr) {
    this.#link = link;
    this.mac = mac;
  }

  /**
   * Routes payloads of `etherType` to `channel`, as batches: all the frames of one link wakeup
   * with that EtherType travel as one channel item, so a hop costs one hand-off per batch.
   * Ingress never waits: a full channel drops the batch, counted per frame.
   */
  bind(etherType: number, channel: Channel<FrameBatch>): void {
    const existing = this.#bindings.get(etherType);
    if (existing) {
      existing.channel = channel;
      return;
    }
    const binding: Binding = { channel, pending: undefined };
    this.#bindings.set(etherType, binding);
    this.#routes.push(binding);
  }

  /** The dealer loop: runs until the link stops delivering frames. */
  async run(): Promise<void> {
    const drops = this.stats.drops;
    for await (const batch of this.#link.receive()) {
      const verified = batch.verified;
      for (let i = 0; i < batch.length; i++) {
        const frame = batch[i];
        if (frame.length < ETHERNET_HEADER_BYTES) {
          countDrop(drops, "truncated");
          continue;
        }
        const destination = readMac(frame, 0);
        if (destination !== this.mac && destination !== MAC_BROADCAST) {
          countDrop(drops, "not-for-us");
          continue;
        }
        const etherType = (frame[ETHERNET_ETHERTYPE_OFFSET] << 8) |
          frame[ETHERNET_ETHERTYPE_OFFSET + 1];
        const binding = this.#bindings.get(etherType);
        if (!binding) {
          countDrop(drops, "unknown-ethertype");
          continue;
        }
        let payloads = binding.pending;
        if (!payloads) {
          payloads = [];
          if (verified) payloads.verified = [];
          binding.pending = payloads;
        }
        if (verified) payloads.verified!.push(verified[i]);
        payloads.push(frame.subarray(ETHERNET_HEADER_BYTES));
      }
      // Indexed, not for-of: no iterator object on a path that runs cold after idle spells.
      const routes = this.#routes;
      for (let r = 0; r < routes.length; r++) {
        const payloads = routes[r].pending;
        if (payloads === undefined) continue;
        routes[r].pending = undefined;
        if (routes[r].channel.trySend(payloads)) {
          this.stats.rxFrames += payloads.length;
        } else {
          drops["inbox-full"] = (drops["inbox-full"] ?? 0) + payloads.length;
        }
      }
    }
  }

  /**
   * Takes one frame in and one out of the counters: a link's rehearsal
   * (`LinkDevice.setRehearsalHook`), which went up and back down like a real echo.
   */
  forgetRehearsedFrames(): void {
    this.stats.rxFrames--;
    this.stats.txFrames--;
  }

  /** Largest TCP super-frame the link segments for us (0: none). */
  get maxSegmentedFrameBytes(): number {
    return this.#link.writeSegmented ? this.#link.maxSegmentedFrameBytes ?? 0 : 0;
  }

  /** Writes an IPv4/TCP super-frame for the link to segment (TSO). */
  transmitSegmented(
    frame: Uint8Array,
    destination: MacAddr,
    request: SegmentationRequest,
  ): boolean {
    writeMac(frame, 0, destination);
    writeMac(frame, 6, this.mac);
    frame[ETHERNET_ETHERTYPE_OFFSET] = 0x08;
    frame[ETHERNET_ETHERTYPE_OFFSET + 1] = 0x00;
    if (!this.#link.writeSegmented?.(frame, request)) return false;
    this.stats.txFrames++;
    return true;
  }

  /**
   * Fills the header of `frame` (destination, our source MAC, `etherType`) and writes it to the
   * link. Short frames are padded to the 60-byte minimum. Returns false when the link dropped it.
   */
  transmit(frame: OutgoingFrame, destination: MacAddr, etherType: number): boolean {
    writeMac(frame, 0, destination);
    writeMac(frame, 6, this.mac);
    frame[ETHERNET_ETHERTYPE_OFFSET] = etherType >>> 8;
    frame[ETHERNET_ETHERTYPE_OFFSET + 1] = etherType;
    let out = frame;
    if (frame.length < ETHERNET_MIN_FRAME_BYTES) {
      // Plain loops, not fill and set: a pure ACK is this short, and those builtins run cold V8
      // runtime code on a path that has been quiet (see copyBehindPlainHeader in ffi/tap.ts).
      out = this.#padding;
      for (let i = 0; i < frame.length; i++) out[i] = frame[i];
      for (let i = frame.length; i < ETHERNET_MIN_FRAME_BYTES; i++) out[i] = 0;
    }
    if (!this.#link.write(out)) return false;
    this.stats.txFrames++;
    return true;
  }
}
