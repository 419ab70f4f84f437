/**
 * The sender's SACK scoreboard (RFC 2018 §5, RFC 6675 §3-§4): which bytes above SND.UNA the peer
 * reported holding, which holes count as lost (IsLost), and where the next retransmission goes
 * (NextSeg rule 1).
 * @module
 */

import type { SackBlock } from "../wire/tcp.ts";
import { seqGe, seqGt, seqLe, seqLt, seqMax, seqMin, seqSub } from "../wire/seq.ts";

/** SACKed ranges above SND.UNA, sorted and disjoint. */
export class SackScoreboard {
  #blocks: SackBlock[] = [];

  /** The ranges currently recorded. */
  get blocks(): readonly SackBlock[] {
    return this.#blocks;
  }

  /** Forgets everything (after an RTO, RFC 2018 §8). */
  clear(): void {
    this.#blocks = [];
  }

  /**
   * Merges the blocks of one ACK. Blocks outside (`una`, `sndMax`] are ignored (RFC 2018 §5:
   * a block must describe data we sent and that is not yet cumulatively acknowledged).
   */
  update(reported: readonly SackBlock[], una: number, sndMax: number): void {
    for (const b of reported) {
      if (!seqLt(b.start, b.end) || seqLe(b.end, una) || seqGt(b.end, sndMax)) continue;
      this.#add({ start: seqMax(b.start, una), end: b.end });
    }
  }

  /** Drops what the cumulative ACK now covers. */
  advance(una: number): void {
    const kept: SackBlock[] = [];
    for (const b of this.#blocks) {
      if (seqLe(b.end, una)) continue;
      kept.push({ start: seqMax(b.start, una), end: b.end });
    }
    this.#blocks = kept;
  }

  /** Total SACKed bytes. */
  sackedBytes(): number {
    return this.#blocks.reduce((n, b) => n + seqSub(b.end, b.start), 0);
  }

  /** SACKed bytes in `[from, to)`. */
  sackedBetween(from: number, to: number): number {
    let n = 0;
    for (const b of this.#blocks) {
      const start = seqMax(b.start, from);
      const end = seqMin(b.end, to);
      if (seqLt(start, end)) n += seqSub(end, start);
    }
    return n;
  }

  /** The end of the SACKed block holding `seq`, or `seq` itself when it is not SACKed. */
  skipSacked(seq: number): number {
    for (const b of this.#blocks) {
      if (seqLe(b.start, seq) && seqLt(seq, b.end)) return b.end;
    }
    return seq;
  }

  /** The start of the first SACKed block after `seq`, or undefined. */
  nextSackedStart(seq: number): number | undefined {
    for (const b of this.#blocks) if (seqGt(b.start, seq)) return b.start;
    return undefined;
  }

  /** SACKed bytes strictly above `seq`. */
  sackedAbove(seq: number): number {
    let n = 0;
    for (const b of this.#blocks) {
      if (seqLe(b.end, seq)) continue;
      n += seqSub(b.end, seqMax(b.start, seq));
    }
    return n;
  }

  /**
   * RFC 6675 §4 IsLost: a byte is lost when more than (DupThresh - 1) * SMSS bytes above it are
   * SACKed, or DupThresh discontiguous blocks lie above it.
   */
  isLost(seq: number, dupThresh: number, mss: number): boolean {
    const above = this.#blocks.filter((b) => seqGt(b.end, seq) && seqGe(b.start, seq));
    return this.sackedAbove(seq) > (dupThresh - 1) * mss || above.length >= dupThresh;
  }

  /** Whether the first unacknowledged byte counts as lost. */
  lossDetected(una: number, dupThresh: number, mss: number): boolean {
    if (this.#blocks.length === 0) return false;
    return this.isLost(una, dupThresh, mss);
  }

  /** Bytes in holes (not SACKed, between `una` and the highest SACK) that count as lost. */
  lostBytes(una: number, dupThresh: number, mss: number): number {
    let n = 0;
    let cursor = una;
    for (const b of this.#blocks) {
      if (seqLt(cursor, b.start) && this.isLost(cursor, dupThresh, mss)) {
        n += seqSub(b.start, cursor);
      }
      cursor = seqMax(cursor, b.end);
    }
    return n;
  }

  /**
   * RFC 6675 §4 NextSeg: the first un-SACKed range at or after `from` (and after `una`) below
   * the highest SACKed byte, whose start counts as lost (rule 1) or, with `requireLost` false,
   * need not (rule 3); undefined when none.
   */
  nextHole(
    from: number,
    una: number,
    dupThresh: number,
    mss: number,
    requireLost = true,
  ): SackBlock | undefined {
    let cursor = seqMax(from, una);
    for (const b of this.#blocks) {
      if (seqLe(b.end, cursor)) continue;
      if (seqLt(cursor, b.start)) {
        if (requireLost && !this.isLost(cursor, dupThresh, mss)) return undefined;
        return { start: cursor, end: b.start };
      }
      cursor = b.end;
    }
    return undefined;
  }

  #add(block: SackBlock): void {
    let start = block.start;
    let end = block.end;
    const out: SackBlock[] = [];
    let placed = false;
    for (const b of this.#blocks) {
      if (seqLt(b.end, start)) {
        out.push(b);
      } else if (seqLt(end, b.start)) {
        if (!placed) {
          out.push({ start, end });
          placed = true;
        }
        out.push(b);
      } else {
        start = seqMin(start, b.start);
        end = seqMax(end, b.end);
      }
    }
    if (!placed) out.push({ start, end });
    this.#blocks = out;
  }
}
