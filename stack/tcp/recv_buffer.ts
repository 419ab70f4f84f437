/**
 * The receive side: in-order bytes waiting for the user, plus out-of-order segments held for
 * reassembly (RFC 9293 §3.10.7.4 "seventh": segments beyond RCV.NXT are kept for later delivery)
 * under a byte cap, and the SACK blocks that describe them (RFC 2018 §4).
 *
 * In-order data stays where the link read it, retained (`stack/arena_pool.ts`) until the reader
 * has copied all of it out: the bulk path copies each byte once. Out-of-order data is copied on
 * arrival instead: it is rare, and it may wait for a retransmission for a long time.
 * @module
 */

import type { SackBlock } from "../wire/tcp.ts";
import { releaseBytes, retainBytes } from "../arena_pool.ts";
import { seqAdd, seqDiff, seqGt, seqLe, seqLt, seqSub } from "../wire/seq.ts";

interface Held {
  seq: number;
  data: Uint8Array;
}

/** In-order data for the reader and out-of-order data for reassembly. */
export class RecvBuffer {
  /** Most out-of-order bytes held at once; more are dropped (and counted). */
  readonly maxOutOfOrderBytes: number;
  #ready: Uint8Array[] = [];
  #readyHead = 0;
  #readyOffset = 0;
  #readyBytes = 0;
  #held: Held[] = [];
  #heldBytes = 0;
  #lastBlockSeq: number | undefined;
  #dropped = 0;

  /** Creates an empty buffer. */
  constructor(maxOutOfOrderBytes: number) {
    this.maxOutOfOrderBytes = maxOutOfOrderBytes;
  }

  /** Bytes ready for the reader. */
  get readyBytes(): number {
    return this.#readyBytes;
  }

  /** Out-of-order bytes held. */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  /** Out-of-order segments refused because the cap was reached. */
  get droppedSegments(): number {
    return this.#dropped;
  }

  /**
   * Appends in-order bytes. The buffer keeps the view (retained until read) instead of a copy:
   * the caller must not reuse it.
   */
  pushReady(data: Uint8Array): void {
    if (data.length === 0) return;
    retainBytes(data);
    this.#ready.push(data);
    this.#readyBytes += data.length;
  }

  /** Copies up to `into.length` ready bytes into `into`; returns the count. */
  read(into: Uint8Array): number {
    let done = 0;
    while (done < into.length && this.#readyHead < this.#ready.length) {
      const chunk = this.#ready[this.#readyHead];
      const n = Math.min(into.length - done, chunk.length - this.#readyOffset);
      into.set(chunk.subarray(this.#readyOffset, this.#readyOffset + n), done);
      done += n;
      this.#readyOffset += n;
      if (this.#readyOffset === chunk.length) {
        releaseBytes(chunk);
        this.#readyHead++;
        this.#readyOffset = 0;
      }
    }
    if (this.#readyHead === this.#ready.length) {
      this.#ready = [];
      this.#readyHead = 0;
    } else if (this.#readyHead > 64) {
      this.#ready = this.#ready.slice(this.#readyHead);
      this.#readyHead = 0;
    }
    this.#readyBytes -= done;
    return done;
  }

  /**
   * Holds `data` starting at `seq` (which is after `rcvNxt`), trimming overlap with what is
   * already held. Returns false when the cap forced a drop.
   */
  hold(seq: number, data: Uint8Array): boolean {
    let start = seq;
    let bytes = data;
    // Walk the sorted list, keeping only the parts not already covered.
    const pieces: Held[] = [];
    for (const h of this.#held) {
      if (bytes.length === 0) break;
      const hEnd = seqAdd(h.seq, h.data.length);
      const end = seqAdd(start, bytes.length);
      if (seqLe(end, h.seq)) break;
      if (seqLe(hEnd, start)) continue;
      if (seqLt(start, h.seq)) {
        pieces.push({ seq: start, data: bytes.subarray(0, seqSub(h.seq, start)) });
      }
      const skip = seqDiff(hEnd, start);
      bytes = skip >= bytes.length ? bytes.subarray(bytes.length) : bytes.subarray(skip);
      start = hEnd;
    }
    if (bytes.length > 0) pieces.push({ seq: start, data: bytes });
    const added = pieces.reduce((n, p) => n + p.data.length, 0);
    if (this.#heldBytes + added > this.maxOutOfOrderBytes) {
      this.#dropped++;
      return false;
    }
    // Copies: the link reuses its receive memory once this turn is over.
    for (const p of pieces) this.#insert({ seq: p.seq, data: p.data.slice() });
    this.#heldBytes += added;
    this.#lastBlockSeq = seq;
    return true;
  }

  /**
   * Moves held data that now starts at or before `rcvNxt` to the ready queue and returns the new
   * RCV.NXT (RFC 9293 §3.10.7.4: advance over any contiguous data received earlier).
   */
  advance(rcvNxt: number): number {
    let next = rcvNxt;
    while (this.#held.length > 0) {
      const h = this.#held[0];
      if (seqGt(h.seq, next)) break;
      this.#held.shift();
      this.#heldBytes -= h.data.length;
      const skip = seqSub(next, h.seq);
      if (skip < h.data.length) {
        const fresh = h.data.subarray(skip);
        this.pushReady(fresh);
        next = seqAdd(next, fresh.length);
      }
    }
    return next;
  }

  /**
   * The SACK blocks describing held data (RFC 2018 §4): contiguous runs, the one containing the
   * most recently received segment first, then the others in ascending order, at most `max`.
   */
  sackBlocks(max: number): SackBlock[] {
    const runs: SackBlock[] = [];
    for (const h of this.#held) {
      const end = seqAdd(h.seq, h.data.length);
      const last = runs[runs.length - 1];
      if (last && last.end === h.seq) runs[runs.length - 1] = { start: last.start, end };
      else runs.push({ start: h.seq, end });
    }
    const recent = this.#lastBlockSeq;
    if (recent !== undefined) {
      const i = runs.findIndex((r) => seqLe(r.start, recent) && seqLt(recent, r.end));
      if (i > 0) runs.unshift(...runs.splice(i, 1));
    }
    return runs.slice(0, max);
  }

  #insert(piece: Held): void {
    let i = this.#held.length;
    while (i > 0 && seqGt(this.#held[i - 1].seq, piece.seq)) i--;
    this.#held.splice(i, 0, piece);
  }
}
