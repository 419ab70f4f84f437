/**
 * Reassembly of ONE IPv4 datagram from its fragments (RFC 791 §3.2 "reassembly procedure", with
 * the hole bookkeeping of RFC 815 reduced to "no overlaps, so received bytes == total means no
 * holes"). Pure and synchronous: time, caps across datagrams and the per-datagram task live in
 * `assemblers.ts`.
 *
 * Deliberate departures from RFC 791's "later data overwrites" rule, as modern stacks do:
 * - Overlapping fragments that are not exact duplicates drop the whole datagram (the teardrop
 *   attack relies on overlaps; RFC 5722 made the same choice for IPv6, Linux does it for IPv4).
 * - A datagram whose header plus data would exceed 65535 bytes is dropped (ping of death).
 * - Inconsistent fragments (a non-final fragment whose data is not a positive multiple of 8, or
 *   data beyond the end a final fragment announced) drop the datagram as malformed.
 * @module
 */

import { IPV4_MAX_PACKET_BYTES, IPV4_MIN_HEADER_BYTES, Ipv4Packet } from "../wire/ipv4.ts";

/**
 * Bookkeeping bytes charged per retained fragment on top of its own length, so that a flood of
 * tiny fragments cannot hold far more memory than the byte counters admit.
 */
export const REASSEMBLY_FRAGMENT_OVERHEAD_BYTES = 64;

/** The bytes charged for holding `fragment`: its total length plus the per-fragment overhead. */
export function fragmentChargeBytes(fragment: Ipv4Packet): number {
  return fragment.totalLength + REASSEMBLY_FRAGMENT_OVERHEAD_BYTES;
}

/**
 * What {@link Reassembly.add} did with a fragment:
 * - `incomplete`: kept; holes remain.
 * - `complete`: kept; every byte is here, call {@link Reassembly.assemble}.
 * - `duplicate`: an exact copy of a fragment already held; ignored.
 * - `overlap`: overlaps held data without being a copy; the datagram is dropped.
 * - `too-big`: the datagram would exceed the size limit; the datagram is dropped.
 * - `malformed`: inconsistent with the fragments so far (see module doc); the datagram is dropped.
 *
 * After a dropping result the reassembly holds nothing and every later `add` returns that result.
 */
export type ReassemblyResult =
  | "incomplete"
  | "complete"
  | "duplicate"
  | "overlap"
  | "too-big"
  | "malformed";

interface Piece {
  /** First data byte, relative to the datagram's data. */
  offset: number;
  /** One past the last data byte. */
  end: number;
  last: boolean;
  fragment: Ipv4Packet;
}

/**
 * Collects the fragments of one datagram (the caller keys them by source, destination, protocol
 * and identification, RFC 791 §3.2) and rebuilds it.
 *
 * Ownership: `add` keeps a reference to each retained fragment's bytes instead of copying them,
 * so the caller must hand over buffers it will not reuse (the assembler pool copies on arrival).
 * @example
 * ```ts
 * import { fragmentIpv4 } from "./fragmenter.ts";
 * import { Ipv4Packet } from "../wire/ipv4.ts";
 * const repr = { source: 0x0a000001, destination: 0x0a000002, protocol: 17, ttl: 64 };
 * const reassembly = new Reassembly();
 * let result = "";
 * for (const bytes of fragmentIpv4({ ...repr, payloadLength: 0 }, new Uint8Array(3000), 1500)) {
 *   result = reassembly.add(new Ipv4Packet(bytes));
 * }
 * // result === "complete"; reassembly.assemble().length === 3020
 * ```
 */
export class Reassembly {
  /** Largest datagram (header plus data) accepted, 65535 by default (RFC 791 §3.1). */
  readonly maxDatagramBytes: number;
  #pieces: Piece[] = [];
  #receivedBytes = 0;
  #maxEnd = 0;
  #totalDataBytes: number | undefined;
  #first: Ipv4Packet | undefined;
  #heldBytes = 0;
  #failed: "overlap" | "too-big" | "malformed" | undefined;

  /** Creates an empty reassembly accepting datagrams up to `maxDatagramBytes`. */
  constructor(maxDatagramBytes = IPV4_MAX_PACKET_BYTES) {
    this.maxDatagramBytes = maxDatagramBytes;
  }

  /** The fragment with offset 0 once it has arrived (its header starts the datagram). */
  get firstFragment(): Ipv4Packet | undefined {
    return this.#first;
  }

  /** Bytes charged for the fragments held (see {@link fragmentChargeBytes}). */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  /** Number of fragments held. */
  get fragmentCount(): number {
    return this.#pieces.length;
  }

  /** Whether every byte of the datagram has arrived. */
  get complete(): boolean {
    return this.#failed === undefined && this.#first !== undefined &&
      this.#totalDataBytes !== undefined && this.#receivedBytes === this.#totalDataBytes;
  }

  /** Adds one fragment (a parsed packet with matching key) and says what became of it. */
  add(fragment: Ipv4Packet): ReassemblyResult {
    if (this.#failed) return this.#failed;
    const offset = fragment.fragmentOffset;
    const data = fragment.payload;
    const end = offset + data.length;
    const last = !fragment.moreFragments;

    // RFC 791 §3.2: every fragment but the last carries a multiple of 8 data octets.
    if (!last && (data.length === 0 || data.length % 8 !== 0)) return this.#fail("malformed");
    const headerBytes = this.#first?.headerLength ??
      (offset === 0 ? fragment.headerLength : IPV4_MIN_HEADER_BYTES);
    if (headerBytes + end > this.maxDatagramBytes) return this.#fail("too-big");

    // Exact duplicates are harmless; any other overlap drops the datagram (module doc).
    const pieces = this.#pieces;
    const index = this.#firstIndexAtOrAfter(offset);
    const next = pieces[index];
    if (next && next.offset === offset && next.end === end) {
      return next.last === last && sameBytes(next.fragment.payload, data)
        ? "duplicate"
        : this.#fail("overlap");
    }
    if (index > 0 && pieces[index - 1].end > offset) return this.#fail("overlap");
    if (next && next.offset < end) return this.#fail("overlap");

    // Only one end: the last fragment fixes it, and nothing may lie beyond it.
    if (last) {
      if (this.#totalDataBytes !== undefined && this.#totalDataBytes !== end) {
        return this.#fail("malformed");
      }
      if (end < this.#maxEnd) return this.#fail("malformed");
    } else if (this.#totalDataBytes !== undefined && end > this.#totalDataBytes) {
      return this.#fail("malformed");
    }

    pieces.splice(index, 0, { offset, end, last, fragment });
    this.#receivedBytes += data.length;
    this.#heldBytes += fragmentChargeBytes(fragment);
    if (end > this.#maxEnd) this.#maxEnd = end;
    if (last) this.#totalDataBytes = end;
    if (offset === 0) {
      this.#first = fragment;
      if (fragment.headerLength + this.#maxEnd > this.maxDatagramBytes) {
        return this.#fail("too-big");
      }
    }
    return this.complete ? "complete" : "incomplete";
  }

  /**
   * Rebuilds the datagram: the first fragment's header (options included) with MF cleared, offset
   * 0, the total length and checksum recomputed, followed by all the data. Returns a new array.
   * Throws if the datagram is not {@link complete} (a programmer error).
   */
  assemble(): Uint8Array {
    const first = this.#first;
    const total = this.#totalDataBytes;
    if (!this.complete || !first || total === undefined) {
      throw new Error("Cannot assemble: the datagram is not complete");
    }
    const headerBytes = first.headerLength;
    const out = new Uint8Array(headerBytes + total);
    out.set(first.header);
    for (const piece of this.#pieces) out.set(piece.fragment.payload, headerBytes + piece.offset);
    const packet = new Ipv4Packet(out);
    packet.totalLength = out.length;
    packet.moreFragments = false;
    packet.fragmentOffset = 0;
    packet.fillChecksum();
    return out;
  }

  #fail(reason: "overlap" | "too-big" | "malformed"): ReassemblyResult {
    this.#failed = reason;
    this.#pieces = [];
    this.#heldBytes = 0;
    this.#receivedBytes = 0;
    return reason;
  }

  #firstIndexAtOrAfter(offset: number): number {
    let low = 0;
    let high = this.#pieces.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.#pieces[mid].offset < offset) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
