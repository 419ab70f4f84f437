/**
 * Spinning ahead of periodic traffic: when bursts of frames have been arriving at a steady
 * period (a `ping`, a heartbeat, a media stream), the TAP's receiver busy-polls for a short window
 * around the next expected arrival instead of sleeping through it (`TapOptions.spinAheadMicros`
 * in `tap.ts`).
 *
 * Why: the first frame after a quiet spell finds the receiving CPU halted. Waking it costs tens of
 * microseconds on bare metal and more on a VM, where a halted vCPU may have been descheduled by
 * the host. Spinning all the time costs a core; spinning only from a lead before each predicted
 * arrival costs about the lead per period, plus the lateness of late bursts: 1% of a core for
 * periods of 25 ms and more, and up to 12.5% at 2 ms, where the 0.25 ms shortest lead applies.
 *
 * The rule, on the times at which bursts began (a frame after at least a millisecond of quiet):
 * - When two gaps in a row agree within the lead, that gap is the period, also when another one
 *   was being followed (a sender's timer may run differently while its machine is busy). The next
 *   burst is due one period after the last, and the receiver spins from a lead before that until
 *   four leads after: a sender's timer fires late far more often than early (on a busy VM host,
 *   by milliseconds). The lead is 1% of the period, at least {@link SPIN_AHEAD_MIN_LEAD_MS} and
 *   at most the configured maximum.
 * - A burst inside its window sets the next one a period later; the period moves a quarter of the
 *   way towards what was seen, by at most a quarter of the lead, following the sender's drifting
 *   timer. A burst outside it that came a period after the burst before means the sender moved
 *   its beat: the next window is a period after it. Any other burst (an unrelated frame: the
 *   kernel's IPv6 solicitations, an ARP refresh) leaves the beat alone.
 * - A window that closes without a burst moves on one period; after three such in a row the
 *   period is given up until two gaps agree again. Traffic without a steady period opens no
 *   window, so the spinning cannot run away.
 *
 * Times are `performance.now()` milliseconds passed in by the caller, so the policy is tested
 * with made-up clocks.
 * @module
 */

/** Shortest lead, ms: the jitter of the sender's timer and of our own wake-ups. */
export const SPIN_AHEAD_MIN_LEAD_MS = 0.25;
/**
 * Shortest period worth predicting, ms: below it the receiver naps in 0.1 ms pieces between
 * frames, and a vCPU that halts that briefly is woken fast (`inline_wait.ts`, rule 4).
 */
export const SPIN_AHEAD_MIN_PERIOD_MS = 2;
/** Windows in a row without a burst after which the period is given up (the sender stopped). */
const MISSED_BEATS_BEFORE_GIVING_UP = 3;
/** Fraction of the period spent spinning before the expected arrival. */
const LEAD_PER_PERIOD = 0.01;
/** How much longer than the lead a window stays open after the expected arrival. */
const LAG_PER_LEAD = 4;

/** Counters of a {@link SpinAhead}. */
export interface SpinAheadStats {
  /** Windows opened, one per burst expected on a steady period. */
  windows: number;
  /** Bursts that began inside their window. */
  hits: number;
}

/** Predicts the next burst of periodic traffic; see the module documentation. */
export class SpinAhead {
  /** Counters, updated in place. */
  readonly stats: SpinAheadStats = { windows: 0, hits: 0 };
  readonly #maxLeadMs: number;
  readonly #maxPeriodMs: number;
  /** The two latest burst starts, older first: two gaps that agree find a period. */
  #previous = -Infinity;
  #last = -Infinity;
  /** The period being followed, ms, or undefined. */
  #periodMs: number | undefined;
  /** Beats in a row that came without a burst. */
  #missedBeats = 0;
  /** The window being waited for: when its burst is due, and when it opens and closes. */
  #dueAt = Infinity;
  #from = Infinity;
  #until = -Infinity;

  /**
   * `maxLeadMs`: the longest lead of a window (its lag is four times the lead); `maxPeriodMs`:
   * the longest period followed (the receiver must still be awake then, i.e. waiting inline).
   */
  constructor(maxLeadMs: number, maxPeriodMs: number) {
    if (!(maxLeadMs >= SPIN_AHEAD_MIN_LEAD_MS)) {
      throw new RangeError(
        `Invalid spin-ahead lead ${maxLeadMs} ms: must be >= ${SPIN_AHEAD_MIN_LEAD_MS}`,
      );
    }
    this.#maxLeadMs = maxLeadMs;
    this.#maxPeriodMs = maxPeriodMs;
  }

  /** A burst began at `at` (its first frame came after quiet). */
  burstStarted(at: number): void {
    const earlierGap = this.#last - this.#previous;
    this.#previous = this.#last;
    this.#last = at;
    this.#skipMissedBeats(at);
    if (this.#periodMs !== undefined && at >= this.#from && at <= this.#until) {
      // On the beat: the next is due a period after it, and the period follows the sender's
      // drifting timer a quarter of each error at a time; a burst that came late (the sender's
      // timer was) moves it no more than an early one can.
      this.stats.hits++;
      this.#missedBeats = 0;
      const lead = this.#leadMs(this.#periodMs);
      this.#periodMs += Math.min(lead, Math.max(-lead, at - this.#dueAt)) / 4;
      if (this.#periodMs < SPIN_AHEAD_MIN_PERIOD_MS || this.#periodMs > this.#maxPeriodMs) {
        // Followed out of the range worth predicting: start again from two agreeing gaps.
        this.#giveUp();
        return;
      }
      this.#open(at + this.#periodMs);
      return;
    }
    const gap = at - this.#previous;
    if (
      this.#periodMs !== undefined && Math.abs(gap - this.#periodMs) <= this.#leadMs(this.#periodMs)
    ) {
      // Off the beat but a period after the burst before: the sender moved its beat (ping does
      // when its timer fired early or late), so follow it from here.
      this.#missedBeats = 0;
      this.#replaceWindow(at, at + this.#periodMs);
    } else if (
      gap >= SPIN_AHEAD_MIN_PERIOD_MS && gap <= this.#maxPeriodMs &&
      Math.abs(gap - earlierGap) <= this.#leadMs(gap)
    ) {
      // Two gaps in a row agree: a new period, or a followed one that changed (a sender whose
      // timer runs differently while its machine is busy).
      this.#periodMs = gap;
      this.#missedBeats = 0;
      this.#replaceWindow(at, at + gap);
    }
    // Otherwise an unrelated frame, or a stray late one: a followed beat stays.
  }

  /** The end of the window `now` is in (spin until then), or -Infinity outside any window. */
  spinUntil(now: number): number {
    this.#skipMissedBeats(now);
    return now >= this.#from && now < this.#until ? this.#until : -Infinity;
  }

  /** When the next window opens (a wait should end by then), or Infinity when none is due. */
  nextWindowAt(now: number): number {
    this.#skipMissedBeats(now);
    return this.#periodMs === undefined ? Infinity : this.#from;
  }

  #leadMs(periodMs: number): number {
    return Math.min(this.#maxLeadMs, Math.max(SPIN_AHEAD_MIN_LEAD_MS, periodMs * LEAD_PER_PERIOD));
  }

  /** Opens the window due at `dueAt` in place of the current one, which is left uncounted. */
  #replaceWindow(now: number, dueAt: number): void {
    // A window still to come was counted when it opened, and will now neither hit nor miss.
    if (now < this.#until) this.stats.windows--;
    this.#open(dueAt);
  }

  #giveUp(): void {
    this.#periodMs = undefined;
    this.#dueAt = Infinity;
    this.#from = Infinity;
    this.#until = -Infinity;
  }

  #open(dueAt: number): void {
    const lead = this.#leadMs(this.#periodMs!);
    this.#dueAt = dueAt;
    this.#from = dueAt - lead;
    this.#until = dueAt + LAG_PER_LEAD * lead;
    this.stats.windows++;
  }

  /** Moves past windows that closed without a burst; gives the period up after a few. */
  #skipMissedBeats(now: number): void {
    while (this.#periodMs !== undefined && now >= this.#until) {
      if (++this.#missedBeats >= MISSED_BEATS_BEFORE_GIVING_UP) {
        this.#giveUp();
        return;
      }
      this.#open(this.#dueAt + this.#periodMs);
    }
  }
}
