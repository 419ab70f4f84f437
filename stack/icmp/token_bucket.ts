/**
 * A token bucket, the rate limiter RFC 1812 §4.3.2.8 suggests for ICMP errors: `ratePerSec` tokens
 * accrue per second up to `burst`; each message spends one. Pure: time comes in as `now`.
 * @module
 */

/** A token bucket over milliseconds. */
export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #burst: number;
  #tokens: number;
  #updatedAt: number;

  /** Starts full at time `now`. */
  constructor(ratePerSec: number, burst: number, now: number) {
    this.#ratePerMs = ratePerSec / 1000;
    this.#burst = burst;
    this.#tokens = burst;
    this.#updatedAt = now;
  }

  /** Spends one token if available at `now`; returns whether it did. */
  take(now: number): boolean {
    if (!this.hasToken(now)) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Whether a token is available at `now`, without spending it. */
  hasToken(now: number): boolean {
    const elapsed = Math.max(0, now - this.#updatedAt);
    this.#tokens = Math.min(this.#burst, this.#tokens + elapsed * this.#ratePerMs);
    this.#updatedAt = now;
    return this.#tokens >= 1;
  }

  /** Returns a token spent on something that turned out not to count (up to the burst). */
  giveBack(): void {
    this.#tokens = Math.min(this.#burst, this.#tokens + 1);
  }
}
