/**
 * The congestion-control interface the TCB drives (RFC 5681 §3). Loss recovery itself (fast
 * retransmit, NewReno partial ACKs, SACK recovery) lives in the TCB; an algorithm only decides the
 * window: growth on ACKs and the reduction after a loss.
 * @module
 */

/** A congestion-control algorithm; windows are in bytes. */
export interface CongestionControl {
  /** Algorithm name (`newreno`, `cubic`). */
  readonly name: string;
  /** Congestion window in bytes. The TCB may inflate and deflate it during fast recovery. */
  cwnd: number;
  /** Slow-start threshold in bytes. */
  ssthresh: number;
  /** New data acknowledged outside recovery: grow the window. */
  onAck(ackedBytes: number, nowMs: number, srttMs: number | undefined): void;
  /** A loss detected by duplicate ACKs or SACK: set ssthresh (and remember state for growth). */
  onLoss(nowMs: number, flightBytes: number): void;
  /** Recovery ended (full ACK): settle the window. */
  onRecoveryEnd(nowMs: number): void;
  /** The retransmission timer expired (RFC 5681 §3.1 eq. 4): one segment, slow start again. */
  onTimeout(nowMs: number, flightBytes: number): void;
}

/** Which algorithm to use. */
export type CongestionAlgorithm = "newreno" | "cubic";

/** RFC 6928 initial window: min(10*MSS, max(2*MSS, 14600)). */
export function initialWindow(mss: number): number {
  return Math.min(10 * mss, Math.max(2 * mss, 14600));
}
