/**
 * The segment shapes the control block consumes and produces (ports and addresses stay with the
 * connection), and the RST rule for segments that reach no connection.
 * @module
 */

import { TcpFlags, type TcpOptions } from "../wire/tcp.ts";
import { seqAdd } from "../wire/seq.ts";

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
  const len = seg.payload.length + (seg.flags & TcpFlags.SYN ? 1 : 0) +
    (seg.flags & TcpFlags.FIN ? 1 : 0);
  return {
    seq: 0,
    ack: seqAdd(seg.seq, len),
    flags: TcpFlags.RST | TcpFlags.ACK,
    window: 0,
    payload: EMPTY,
  };
}
