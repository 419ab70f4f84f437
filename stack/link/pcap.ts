/**
 * A link wrapper that records every frame in and out in the classic pcap format (LINKTYPE_ETHERNET),
 * which Wireshark and tcpdump open. The byte sink is injected, so this file does no I/O itself.
 * @module
 */

import type { FrameBatch, LinkDevice, SegmentationRequest } from "./link.ts";
import { LinkWrapper } from "./wrapper.ts";

/** Where pcap bytes go (a `Deno.FsFile` fits). */
export interface ByteSink {
  /** Writes all of `bytes` (or as much as it accepted; partial writes are retried). */
  writeSync(bytes: Uint8Array): number;
}

const PCAP_MAGIC_MICROS = 0xa1b2c3d4;
const LINKTYPE_ETHERNET = 1;
const GLOBAL_HEADER_BYTES = 24;
const RECORD_HEADER_BYTES = 16;

/** Writes pcap records to a sink. */
export class PcapWriter {
  readonly #sink: ByteSink;
  readonly #wallClockMs: () => number;
  readonly #snapLength: number;

  /** Writes the global header immediately. `wallClockMs` stamps records (default `Date.now`). */
  constructor(sink: ByteSink, options: { snapLength?: number; wallClockMs?: () => number } = {}) {
    this.#sink = sink;
    this.#wallClockMs = options.wallClockMs ?? Date.now;
    this.#snapLength = options.snapLength ?? 262144;
    const header = new Uint8Array(GLOBAL_HEADER_BYTES);
    const view = new DataView(header.buffer);
    // Little-endian file: readers detect byte order from the magic number.
    view.setUint32(0, PCAP_MAGIC_MICROS, true);
    view.setUint16(4, 2, true); // version 2.4
    view.setUint16(6, 4, true);
    view.setUint32(16, this.#snapLength, true);
    view.setUint32(20, LINKTYPE_ETHERNET, true);
    this.#writeAll(header);
  }

  /** Appends one frame. */
  record(frame: Uint8Array): void {
    const ms = this.#wallClockMs();
    const captured = Math.min(frame.length, this.#snapLength);
    const header = new Uint8Array(RECORD_HEADER_BYTES);
    const view = new DataView(header.buffer);
    view.setUint32(0, Math.floor(ms / 1000), true);
    view.setUint32(4, Math.floor((ms % 1000) * 1000), true);
    view.setUint32(8, captured, true);
    view.setUint32(12, frame.length, true);
    this.#writeAll(header);
    this.#writeAll(frame.subarray(0, captured));
  }

  #writeAll(bytes: Uint8Array): void {
    let offset = 0;
    while (offset < bytes.length) offset += this.#sink.writeSync(bytes.subarray(offset));
  }
}

/** A {@link LinkDevice} that records every frame passing through it, super-frames included. */
export class PcapLink extends LinkWrapper {
  readonly #writer: PcapWriter;

  /** Wraps `inner`, recording to `writer`. */
  constructor(inner: LinkDevice, writer: PcapWriter) {
    super(inner);
    this.#writer = writer;
  }

  /** Received batches, each frame recorded first. */
  override async *receive(): AsyncGenerator<FrameBatch> {
    for await (const batch of this.inner.receive()) {
      for (const frame of batch) this.#writer.record(frame);
      yield batch;
    }
  }

  /** Records and writes `frame`. */
  override write(frame: Uint8Array): boolean {
    this.#writer.record(frame);
    return this.inner.write(frame);
  }

  /** Records and writes a super-frame (as the one frame it is before segmentation). */
  override writeSegmented(frame: Uint8Array, request: SegmentationRequest): boolean {
    this.#writer.record(frame);
    return super.writeSegmented(frame, request);
  }
}
