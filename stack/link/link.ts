/**
 * The narrow interface between the stack and whatever moves Ethernet frames: a TAP device, an
 * in-memory pair, or a wrapper (fault injection, pcap, tracing) around either.
 * @module
 */

import type { RehearsalHook } from "./echo_rehearsal.ts";

/** Counters every link keeps. */
export interface LinkStats {
  /** Frames handed up to the stack. */
  rxFrames: number;
  /** Bytes handed up to the stack. */
  rxBytes: number;
  /** Frames accepted for transmission. */
  txFrames: number;
  /** Bytes accepted for transmission. */
  txBytes: number;
  /** Frames the device refused or lost on transmit (queue full, I/O error). */
  txDrops: number;
}

/**
 * A batch of received frames. A device with checksum offload sets `verified[i]` to 1 when it
 * vouches for the transport checksum of frame i (virtio-net's NEEDS_CSUM or DATA_VALID), so the
 * stack skips that work; plain arrays (no `verified`) mean "verify everything". The flags are a
 * plain array, not a typed one: a fresh `ArrayBuffer` per batch costs ~17 us on a receive path
 * that has been idle for a few milliseconds (allocation goes through the runtime), a small JS
 * array ~2 us.
 */
export type FrameBatch = Uint8Array[] & { verified?: number[] };

/**
 * How the device should cut a TCP super-frame into segments (TSO, virtio-net GSO): the frame holds
 * one Ethernet/IPv4/TCP header followed by up to 64 KB of data, the TCP checksum field holds the
 * pseudo-header sum, and the device (the kernel, for a TAP) segments and checksums.
 */
export interface SegmentationRequest {
  /** Data bytes per segment (the MSS). */
  readonly segmentBytes: number;
  /** Bytes of Ethernet + IPv4 + TCP headers at the front of the frame. */
  readonly headerBytes: number;
  /** Offset of the TCP header in the frame (where checksumming starts). */
  readonly checksumStart: number;
}

/**
 * A device that carries whole Ethernet II frames (no preamble, no FCS).
 *
 * Buffer ownership: a frame yielded by {@link receive} belongs to the receiver for its turn: it
 * may modify it, and may keep it past the turn only by copying it or retaining it with
 * `retainBytes` (`stack/arena_pool.ts`), since a device may read into the same memory again once
 * a later turn has begun (the TAP does; the memory link hands over copies). A frame passed to
 * {@link write} is copied (or written out) before `write` returns, so the caller may reuse its
 * buffer right away.
 */
export interface LinkDevice {
  /** Device name, e.g. `gonet0`. */
  readonly name: string;
  /** The largest IP packet a frame can carry (the Ethernet payload size), e.g. 1500. */
  readonly mtu: number;
  /** Counters, updated in place. */
  readonly stats: LinkStats;
  /**
   * Received frames in batches: each batch holds every frame that was ready at one wakeup. The
   * iteration ends when the device is closed. Only one consumer may iterate.
   */
  receive(): AsyncIterable<FrameBatch>;
  /** Sends one frame without waiting. Returns false (and counts a drop) when it was not sent. */
  write(frame: Uint8Array): boolean;
  /**
   * Largest TCP super-frame (headers included) {@link writeSegmented} accepts, or 0/absent when
   * the device cannot segment.
   */
  readonly maxSegmentedFrameBytes?: number;
  /** Sends a TCP super-frame for the device to segment (see {@link SegmentationRequest}). */
  writeSegmented?(frame: Uint8Array, request: SegmentationRequest): boolean;
  /**
   * Registers the stack's end-of-turn work (`stack/turn_end.ts`). A device whose receive loop
   * spins or blocks the thread between batches calls `hook` at the start of each turn of that
   * loop, before spinning or blocking, so work deferred to the end of a turn is not held up by
   * it. Devices that never hold the thread need not implement it.
   */
  setTurnHook?(hook: () => void): void;
  /**
   * Lets the device rehearse (`stack/link/echo_rehearsal.ts`): a device that spins while it waits
   * may hand up a copy of the last echo request the stack answered, to keep the path warm, and
   * swallow the reply. It rehearses only when `hook.ready` says the stack would answer the same
   * way, and calls `hook.rehearsed` for each reply it swallowed, from inside the write of that
   * reply, so the stack can take the echo out of its counters (the layers that count a send after
   * the write returns come out even all the same). Without a hook a device never rehearses;
   * wrappers (pcap, faults) do not pass it on, so what they see and do stays real.
   */
  setRehearsalHook?(hook: RehearsalHook): void;
  /** Stops receiving and releases the device. Idempotent. */
  close(): Promise<void>;
}

/** Fresh zeroed counters. */
export function newLinkStats(): LinkStats {
  return { rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, txDrops: 0 };
}
