/**
 * Reno/NewReno window arithmetic (RFC 5681 §3.1): slow start with appropriate byte counting
 * (RFC 3465, L = 2*SMSS), additive increase of one SMSS per window in congestion avoidance, and
 * ssthresh = max(FlightSize/2, 2*SMSS) after a loss (RFC 5681 eq. 4). Partial-ACK handling of
 * RFC 6582 is done by the TCB.
 * @module
 */

import { type CongestionControl, initialWindow } from "./types.ts";

/** NewReno congestion control. */
export class NewReno implements CongestionControl {
  /** Algorithm name. */
  readonly name = "newreno";
  /** Congestion window in bytes. */
  cwnd: number;
  /** Slow-start threshold in bytes. */
  ssthresh = Number.MAX_SAFE_INTEGER;
  readonly #mss: number;
  #acked = 0;

  /** Starts with the RFC 6928 initial window for `mss`. */
  constructor(mss: number) {
    this.#mss = mss;
    this.cwnd = initialWindow(mss);
  }

  /** Grows the window (RFC 5681 §3.1). */
  onAck(ackedBytes: number, _nowMs?: number, _srttMs?: number): void {
    if (this.cwnd < this.ssthresh) {
      this.cwnd += Math.min(ackedBytes, 2 * this.#mss);
      return;
    }
    // Congestion avoidance by byte counting: +1 SMSS per cwnd of acknowledged bytes.
    this.#acked += ackedBytes;
    if (this.#acked >= this.cwnd) {
      this.#acked -= this.cwnd;
      this.cwnd += this.#mss;
    }
  }

  /** RFC 5681 eq. 4. */
  onLoss(_nowMs: number, flightBytes: number): void {
    this.ssthresh = Math.max(Math.floor(flightBytes / 2), 2 * this.#mss);
    this.#acked = 0;
  }

  /** RFC 6582 §3.2 step 3: deflate to ssthresh. */
  onRecoveryEnd(_nowMs?: number): void {
    this.cwnd = this.ssthresh;
  }

  /** RFC 5681 §3.1: ssthresh from eq. 4, cwnd = loss window of one segment. */
  onTimeout(nowMs: number, flightBytes: number): void {
    this.onLoss(nowMs, flightBytes);
    this.cwnd = this.#mss;
  }
}
