/**
 * Time and randomness, injected. Protocol cores never read the wall clock or `Math.random`: they
 * take `now` from a {@link Clock} and draw from a {@link Random}, so tests replay loss, timeouts and
 * retransmissions exactly with a {@link ManualClock} and a seeded {@link SeededRandom}.
 * @module
 */

/** A timer handle returned by {@link Clock.setTimer}. */
export interface TimerHandle {
  /** Cancels the timer; a no-op when it already fired. */
  cancel(): void;
}

/** A source of monotonic milliseconds and one-shot timers. */
export interface Clock {
  /** Monotonic milliseconds (fractional allowed). */
  now(): number;
  /** Calls `callback` once after `delayMs`. */
  setTimer(delayMs: number, callback: () => void): TimerHandle;
}

/** The real clock: `performance.now()` and `setTimeout`. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(delayMs, callback) {
    const id = setTimeout(callback, Math.max(0, delayMs));
    return { cancel: () => clearTimeout(id) };
  },
};

interface ManualTimer {
  at: number;
  seq: number;
  callback: () => void;
  cancelled: boolean;
}

/**
 * A clock that moves only when told to. `advance` fires due timers in deadline order, each seeing
 * `now()` equal to its own deadline, so tests observe exactly what a real run would, minus waiting.
 * @example
 * ```ts
 * const clock = new ManualClock();
 * let fired = false;
 * clock.setTimer(100, () => fired = true);
 * clock.advance(100); // fired === true
 * ```
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: ManualTimer[] = [];

  /** Starts at `startMs` (default 0). */
  constructor(startMs = 0) {
    this.#now = startMs;
  }

  /** The current manual time. */
  now(): number {
    return this.#now;
  }

  /** Schedules `callback` at `now() + delayMs`. */
  setTimer(delayMs: number, callback: () => void): TimerHandle {
    const timer: ManualTimer = {
      at: this.#now + Math.max(0, delayMs),
      seq: this.#seq++,
      callback,
      cancelled: false,
    };
    this.#timers.push(timer);
    return { cancel: () => timer.cancelled = true };
  }

  /** Number of timers still pending. */
  get pendingTimers(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time forward by `deltaMs`, firing every timer that falls due on the way. */
  advance(deltaMs: number): void {
    const target = this.#now + deltaMs;
    for (;;) {
      this.#timers = this.#timers.filter((t) => !t.cancelled);
      let next: ManualTimer | undefined;
      for (const t of this.#timers) {
        if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) {
          next = t;
        }
      }
      if (!next) break;
      next.cancelled = true;
      this.#now = Math.max(this.#now, next.at);
      next.callback();
    }
    this.#now = target;
  }
}

/** A source of random 32-bit integers. */
export interface Random {
  /** A uniformly distributed unsigned 32-bit integer. */
  nextU32(): number;
}

/** Words drawn from the system per refill: one call into the runtime per 256 values, not per value. */
const SYSTEM_RANDOM_POOL_WORDS = 256;
const systemPool = new Uint32Array(SYSTEM_RANDOM_POOL_WORDS);
let systemPoolNext = SYSTEM_RANDOM_POOL_WORDS;

/** Cryptographically strong randomness, for production (ISNs, ephemeral ports, MACs). */
export const systemRandom: Random = {
  nextU32() {
    if (systemPoolNext === SYSTEM_RANDOM_POOL_WORDS) {
      crypto.getRandomValues(systemPool);
      systemPoolNext = 0;
    }
    // Each value is handed out once; a used slot is overwritten by the next refill.
    return systemPool[systemPoolNext++];
  },
};

/**
 * A small seeded generator (mulberry32) for tests and fault injection: the same seed gives the same
 * sequence on every run.
 */
export class SeededRandom implements Random {
  #state: number;

  /** Seeds the generator; any 32-bit value works. */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** The next unsigned 32-bit value. */
  nextU32(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A float in [0, 1). */
  nextFloat(): number {
    return this.nextU32() / 0x1_0000_0000;
  }
}
