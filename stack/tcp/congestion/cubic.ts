/**
 * CUBIC congestion control (RFC 9438): after a loss the window follows
 * W_cubic(t) = C*(t-K)^3 + W_max (§4.2) with beta_cubic = 0.7 and C = 0.4, never growing slower
 * than the Reno-friendly estimate W_est (§4.3). Slow start is standard (RFC 5681, §4.10) and fast
 * convergence lowers W_max when the window keeps shrinking (§4.7). Windows are kept in segments
 * internally and exposed in bytes.
 * @module
 */

import { type CongestionControl, initialWindow } from "./types.ts";

const C = 0.4;
const BETA = 0.7;
/** RFC 9438 §4.3: alpha_cubic = 3 * (1 - beta) / (1 + beta). */
const ALPHA = (3 * (1 - BETA)) / (1 + BETA);

/** CUBIC congestion control. */
export class Cubic implements CongestionControl {
  /** Algorithm name. */
  readonly name = "cubic";
  /** Congestion window in bytes. */
  cwnd: number;
  /** Slow-start threshold in bytes. */
  ssthresh = Number.MAX_SAFE_INTEGER;
  readonly #mss: number;
  #wMax = 0; // segments
  #k = 0; // seconds
  #epochStart: number | undefined; // ms
  #wEst = 0; // segments

  /** Starts with the RFC 6928 initial window for `mss`. */
  constructor(mss: number) {
    this.#mss = mss;
    this.cwnd = initialWindow(mss);
  }

  /** Current W_max in segments (for tests and stats). */
  get wMaxSegments(): number {
    return this.#wMax;
  }

  /** Current K in seconds (RFC 9438 eq. 2). */
  get kSeconds(): number {
    return this.#k;
  }

  /** Grows the window: slow start, then the cubic / Reno-friendly rule (RFC 9438 §4.2-§4.5). */
  onAck(ackedBytes: number, nowMs: number, srttMs: number | undefined): void {
    if (this.cwnd < this.ssthresh) {
      this.cwnd += Math.min(ackedBytes, 2 * this.#mss);
      return;
    }
    const segs = this.cwnd / this.#mss;
    if (this.#epochStart === undefined) {
      // A congestion-avoidance epoch starts (no loss seen yet, or after slow start).
      this.#epochStart = nowMs;
      if (this.#wMax < segs) {
        this.#wMax = segs;
        this.#k = 0;
      } else {
        this.#k = Math.cbrt((this.#wMax - segs) / C);
      }
      this.#wEst = segs;
    }
    const rtt = (srttMs ?? 100) / 1000;
    const t = (nowMs - this.#epochStart) / 1000;
    const acked = ackedBytes / this.#mss;
    // §4.3: the Reno-friendly estimate grows by alpha_cubic segments per window acknowledged.
    this.#wEst += ALPHA * (acked / segs);
    let next: number;
    if (this.#wCubic(t) < this.#wEst) {
      next = this.#wEst;
    } else {
      // §4.4, §4.5: aim for W_cubic one RTT ahead, within [cwnd, 1.5 cwnd].
      const target = Math.min(1.5 * segs, Math.max(segs, this.#wCubic(t + rtt)));
      next = segs + ((target - segs) / segs) * acked;
    }
    this.cwnd = Math.max(this.cwnd, Math.round(next * this.#mss));
  }

  /** Multiplicative decrease with fast convergence (RFC 9438 §4.6, §4.7). */
  onLoss(_nowMs: number, _flightBytes: number): void {
    const segs = this.cwnd / this.#mss;
    this.#wMax = segs < this.#wMax ? segs * (1 + BETA) / 2 : segs;
    this.ssthresh = Math.max(Math.floor(this.cwnd * BETA), 2 * this.#mss);
    this.#epochStart = undefined;
  }

  /** Recovery done: continue from ssthresh (§4.6). */
  onRecoveryEnd(_nowMs?: number): void {
    this.cwnd = this.ssthresh;
  }

  /** RTO: ssthresh as for a loss, one segment, slow start (RFC 9438 §4.8). */
  onTimeout(nowMs: number, flightBytes: number): void {
    this.onLoss(nowMs, flightBytes);
    this.cwnd = this.#mss;
  }

  /** RFC 9438 eq. 1, in segments, `t` in seconds since the epoch started. */
  #wCubic(t: number): number {
    return C * (t - this.#k) ** 3 + this.#wMax;
  }
}
