/**
 * Retransmission timeout estimation (RFC 6298): smoothed RTT and variance from samples, the RTO
 * derived from them with clamping, and exponential backoff on expiry. Karn's algorithm (RFC 6298
 * §3, no samples from retransmitted segments) is applied by the caller, which decides what to feed.
 * @module
 */

/** Tunables for {@link RtoEstimator}, all in milliseconds. */
export interface RtoOptions {
  /** RTO before any sample (RFC 6298 §2.1: 1 s). */
  initialRtoMs?: number;
  /** Lower bound (RFC 6298 §2.4 says 1 s; Linux uses 200 ms). Default 200. */
  minRtoMs?: number;
  /** Upper bound (RFC 6298 §2.5 allows >= 60 s). Default 60 000. */
  maxRtoMs?: number;
  /** Clock granularity G (RFC 6298 §2). Default 1. */
  granularityMs?: number;
}

/** RFC 6298 estimator with backoff. */
export class RtoEstimator {
  #srtt: number | undefined;
  #rttvar = 0;
  #baseRto: number;
  #backoff = 0;
  readonly #min: number;
  readonly #max: number;
  readonly #g: number;

  /** Creates an estimator with no samples yet. */
  constructor(options: RtoOptions = {}) {
    this.#min = options.minRtoMs ?? 200;
    this.#max = options.maxRtoMs ?? 60_000;
    this.#g = options.granularityMs ?? 1;
    this.#baseRto = this.#clamp(options.initialRtoMs ?? 1000);
  }

  /** Smoothed RTT, or undefined before the first sample. */
  get srttMs(): number | undefined {
    return this.#srtt;
  }

  /** RTT variance estimate. */
  get rttvarMs(): number {
    return this.#rttvar;
  }

  /** The RTO to arm now, backoff included, capped at the maximum (RFC 6298 §5.5). */
  get rtoMs(): number {
    return Math.min(this.#max, this.#baseRto * 2 ** this.#backoff);
  }

  /** How many times the timer has backed off since the last reset. */
  get backoffCount(): number {
    return this.#backoff;
  }

  /** Feeds one RTT measurement (RFC 6298 §2.2, §2.3) and clears the backoff (§5.7). */
  sample(rttMs: number): void {
    const r = Math.max(0, rttMs);
    if (this.#srtt === undefined) {
      this.#srtt = r;
      this.#rttvar = r / 2;
    } else {
      // Beta 1/4, alpha 1/8; rttvar first, using the old srtt (RFC 6298 §2.3).
      this.#rttvar = 0.75 * this.#rttvar + 0.25 * Math.abs(this.#srtt - r);
      this.#srtt = 0.875 * this.#srtt + 0.125 * r;
    }
    this.#baseRto = this.#clamp(this.#srtt + Math.max(this.#g, 4 * this.#rttvar));
    this.#backoff = 0;
  }

  /** Doubles the timeout after an expiry (RFC 6298 §5.5). */
  backoff(): void {
    if (this.#baseRto * 2 ** this.#backoff < this.#max) this.#backoff++;
  }

  /** Clears the backoff (new data was acknowledged). */
  resetBackoff(): void {
    this.#backoff = 0;
  }

  /**
   * RFC 6298 §5.7: when the SYN timed out and no sample exists yet, use 3 s once data flows.
   */
  afterSynTimeout(): void {
    if (this.#srtt === undefined) this.#baseRto = this.#clamp(Math.max(this.#baseRto, 3000));
  }

  #clamp(ms: number): number {
    return Math.min(this.#max, Math.max(this.#min, ms));
  }
}
