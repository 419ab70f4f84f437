/**
 * The segment shapes the control block consumes and produces (ports and addresses stay with the
 * connection), and the RST rule for segments that reach no connection.
 * @module
 */

import { TcpFlags, type TcpOptions } from "../wire/tcp.ts";
import { seqAdd, seqGe, seqLe, seqLt } from "../wire/seq.ts";

const EMPTY = new Uint8Array(0);

/** The fields of an incoming segment the TCB reads (a parsed `TcpSegment` fits). */
export interface InSegment {
  /** Sequence number. */
  readonly seq: number;
  /** Acknowledgment number. */
  readonly ack: number;
  /** Flag bits. */
  readonly flags: number;
  /** Window field as on the wire (unscaled). */
  readonly window: number;
  /** Parsed options. */
  readonly options: TcpOptions;
  /** Data. */
  readonly payload: Uint8Array;
}

/** A segment for the dealer to encode and send (ports and addresses come from the connection). */
export interface OutSegment {
  /** Sequence number. */
  seq: number;
  /** Acknowledgment number (0 without ACK). */
  ack: number;
  /** Flag bits. */
  flags: number;
  /** Window field, already scaled. */
  window: number;
  /** Options to send. */
  options?: TcpOptions;
  /**
   * Data. It may be a view into the connection's send buffer: encode it before the next
   * `write` on the same control block (the dealer does so synchronously in its flush).
   */
  payload: Uint8Array;
}

/** RFC 7323 §5.5: timestamps older than 24 days are not trusted for PAWS. */
export const PAWS_IDLE_MS = 24 * 24 * 3600 * 1000;

/** Sequence space a segment occupies: its data, plus one each for SYN and FIN. */
export function sequenceLength(
  seg: { readonly flags: number; readonly payload: Uint8Array },
): number {
  return seg.payload.length + (seg.flags & TcpFlags.SYN ? 1 : 0) +
    (seg.flags & TcpFlags.FIN ? 1 : 0);
}

/**
 * RFC 9293 §3.10.7.4's acceptance test: whether a segment of `len` at `seq` falls in the receive
 * window `[rcvNxt, rcvNxt + wnd)`, the four cases of the RFC with two widenings (below).
 */
export function inReceiveWindow(rcvNxt: number, seq: number, len: number, wnd: number): boolean {
  if (len === 0) {
    // The right edge itself is accepted for an empty segment (as Linux does): a sender whose
    // data filled our window numbers its ACKs there, and refusing them would lose their ACK
    // field while our own data is stuck.
    return wnd === 0 ? seq === rcvNxt : seqLe(rcvNxt, seq) && seqLe(seq, seqAdd(rcvNxt, wnd));
  }
  if (wnd === 0) return false;
  // "Start or end in the window", widened to "overlaps the window": a segment that begins
  // before RCV.NXT and ends beyond the window (a big retransmission into a small window)
  // still carries new bytes, which the trimming rule keeps (as Linux's tcp_sequence does).
  return seqGe(seqAdd(seq, len - 1), rcvNxt) && seqLt(seq, seqAdd(rcvNxt, wnd));
}

/** The TSval to send at `nowMs` for a connection whose timestamp clock starts at `offset`. */
export function timestampValue(nowMs: number, offset: number): number {
  return (Math.floor(nowMs) + offset) >>> 0;
}

/**
 * The RST to answer a segment that reached no connection (RFC 9293 §3.10.7.1, CLOSED state):
 * none for a RST; `<SEQ=SEG.ACK><CTL=RST>` if it had ACK; else
 * `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>`.
 */
export function resetFor(seg: InSegment): OutSegment | undefined {
  if (seg.flags & TcpFlags.RST) return undefined;
  if (seg.flags & TcpFlags.ACK) {
    return { seq: seg.ack, ack: 0, flags: TcpFlags.RST, window: 0, payload: EMPTY };
  }
  return {
    seq: 0,
    ack: seqAdd(seg.seq, sequenceLength(seg)),
    flags: TcpFlags.RST | TcpFlags.ACK,
    window: 0,
    payload: EMPTY,
  };
}
