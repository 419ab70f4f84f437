/**
 * The base of link wrappers (fault injection, pcap, test taps): a {@link LinkDevice} that forwards
 * everything to the device it wraps, so a wrapper overrides only what it changes.
 * @module
 */

import type { FrameBatch, LinkDevice, LinkStats, SegmentationRequest } from "./link.ts";

/** Forwards every operation to `inner`; subclasses override the ones they change. */
export class LinkWrapper implements LinkDevice {
  /** The wrapped device. */
  protected readonly inner: LinkDevice;

  /** Wraps `inner`. */
  constructor(inner: LinkDevice) {
    this.inner = inner;
  }

  /** The wrapped device's name. */
  get name(): string {
    return this.inner.name;
  }

  /** The wrapped device's MTU. */
  get mtu(): number {
    return this.inner.mtu;
  }

  /** The wrapped device's counters. */
  get stats(): LinkStats {
    return this.inner.stats;
  }

  /** The wrapped device's segmentation limit (0 when it cannot segment). */
  get maxSegmentedFrameBytes(): number {
    return this.inner.writeSegmented ? this.inner.maxSegmentedFrameBytes ?? 0 : 0;
  }

  /** The wrapped device's received batches. */
  receive(): AsyncIterable<FrameBatch> {
    return this.inner.receive();
  }

  /** Writes to the wrapped device. */
  write(frame: Uint8Array): boolean {
    return this.inner.write(frame);
  }

  /** Writes a super-frame to the wrapped device, or drops it when it cannot segment. */
  writeSegmented(frame: Uint8Array, request: SegmentationRequest): boolean {
    return this.inner.writeSegmented?.(frame, request) ?? false;
  }

  // No setRehearsalHook: a wrapped device does not rehearse, so a pcap or fault injector only
  // ever sees real frames.

  /** Registers the end-of-turn hook with the wrapped device. */
  setTurnHook(hook: () => void): void {
    this.inner.setTurnHook?.(hook);
  }

  /** Closes the wrapped device. */
  close(): Promise<void> {
    return this.inner.close();
  }
}
