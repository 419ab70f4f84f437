/**
 * A fault injector that wraps any {@link LinkDevice} and, with seeded probabilities, drops,
 * duplicates, reorders or corrupts frames in both directions. It stands in for `netem`, which this
 * kernel lacks, and makes loss tests over the in-memory pair repeatable.
 * @module
 */

import type { Random } from "../clock.ts";
import type { FrameBatch, LinkDevice } from "./link.ts";
import { LinkWrapper } from "./wrapper.ts";

/** Probabilities (0..1) of each fault, applied independently to every frame. */
export interface FaultOptions {
  /** Probability that a frame is lost. */
  drop?: number;
  /** Probability that a frame is delivered twice. */
  duplicate?: number;
  /** Probability that a frame is held back and delivered after the next one. */
  reorder?: number;
  /** Probability that one random byte of the frame is flipped. */
  corrupt?: number;
}

/** Counters of injected faults. */
export interface FaultStats {
  /** Frames dropped. */
  dropped: number;
  /** Extra copies delivered. */
  duplicated: number;
  /** Frames delivered out of order. */
  reordered: number;
  /** Frames with a flipped byte. */
  corrupted: number;
}

/** Validates that every probability is a number in [0, 1]; throws a RangeError naming the flag. */
export function validateFaultOptions(options: FaultOptions): void {
  for (const [name, p] of Object.entries(options)) {
    if (p !== undefined && !(typeof p === "number" && p >= 0 && p <= 1)) {
      throw new RangeError(`Invalid ${name} probability: ${p} (expected a number from 0 to 1)`);
    }
  }
}

/** A {@link LinkDevice} that injects faults on the way in and on the way out. */
export class FaultyLink extends LinkWrapper {
  readonly #options: Required<FaultOptions>;
  readonly #random: Random;
  #heldTx: Uint8Array | undefined;
  readonly #corrupted = new WeakSet<Uint8Array>();
  /** Counters of what was injected, both directions together. */
  readonly faults: FaultStats = { dropped: 0, duplicated: 0, reordered: 0, corrupted: 0 };

  /** Wraps `inner`; all randomness comes from `random` (seed it for repeatable runs). */
  constructor(inner: LinkDevice, options: FaultOptions, random: Random) {
    super(inner);
    validateFaultOptions(options);
    this.#options = {
      drop: options.drop ?? 0,
      duplicate: options.duplicate ?? 0,
      reorder: options.reorder ?? 0,
      corrupt: options.corrupt ?? 0,
    };
    this.#random = random;
  }

  /**
   * No segmentation offload through a fault injector: faults apply to frames as they are on the
   * wire, so the stack sends ordinary segments.
   */
  override get maxSegmentedFrameBytes(): number {
    return 0;
  }

  /**
   * Received batches after faults are applied. A frame held back for reordering is released at the
   * end of its batch at the latest, so reordering never stalls the last frame of a burst.
   */
  override async *receive(): AsyncGenerator<FrameBatch> {
    for await (const batch of this.inner.receive()) {
      const out: FrameBatch = [];
      // Checksums the device vouched for stay vouched for, unless we corrupted the frame.
      const trusted = new Set<Uint8Array>();
      if (batch.verified) batch.forEach((f, i) => batch.verified![i] === 1 && trusted.add(f));
      let held: Uint8Array | undefined;
      for (const frame of batch) {
        held = this.#apply(frame, held, (f) => out.push(f));
      }
      if (held) out.push(held);
      if (trusted.size > 0) {
        out.verified = out.map((f) => trusted.has(f) && !this.#corrupted.has(f) ? 1 : 0);
      }
      if (out.length > 0) yield out;
    }
  }

  /**
   * Writes `frame` after faults are applied. A frame held back for reordering goes out after the
   * next one written in the same synchronous burst, or when the burst ends (a microtask later).
   */
  override write(frame: Uint8Array): boolean {
    let ok = true;
    const wasHolding = this.#heldTx !== undefined;
    this.#heldTx = this.#apply(frame.slice(), this.#heldTx, (f) => {
      ok = this.inner.write(f) && ok;
    });
    if (this.#heldTx && !wasHolding) queueMicrotask(() => this.#flushHeldTx());
    return ok;
  }

  #flushHeldTx(): void {
    const held = this.#heldTx;
    this.#heldTx = undefined;
    if (held && !this.inner.write(held)) this.faults.dropped++;
  }

  /** Sends a frame still held back for reordering, then closes the wrapped device. */
  override close(): Promise<void> {
    this.#flushHeldTx();
    return this.inner.close();
  }

  #chance(p: number): boolean {
    return p > 0 && this.#random.nextU32() / 0x1_0000_0000 < p;
  }

  /** Applies faults to one frame; returns the frame now held back for reordering, if any. */
  #apply(
    frame: Uint8Array,
    held: Uint8Array | undefined,
    deliver: (frame: Uint8Array) => void,
  ): Uint8Array | undefined {
    if (this.#chance(this.#options.drop)) {
      this.faults.dropped++;
      return held;
    }
    if (this.#chance(this.#options.corrupt) && frame.length > 0) {
      const at = this.#random.nextU32() % frame.length;
      frame[at] ^= 1 + (this.#random.nextU32() % 255);
      this.#corrupted.add(frame);
      this.faults.corrupted++;
    }
    if (!held && this.#chance(this.#options.reorder)) {
      this.faults.reordered++;
      return frame;
    }
    deliver(frame);
    if (this.#chance(this.#options.duplicate)) {
      this.faults.duplicated++;
      deliver(frame.slice());
    }
    if (held) deliver(held);
    return undefined;
  }
}
