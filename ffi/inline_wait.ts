/**
 * Waiting for one fd on the JS thread itself without starving the event loop: the policy behind
 * the TAP's inline waiting (`TapOptions.inlineWaitMs` in `tap.ts`).
 *
 * A `poll(2)` on Deno's thread pool costs a second thread wake-up when it returns (~0.25 ms on
 * this kind of VM); a `poll` on the JS thread does not, but blocks everything else the thread
 * does. Three rules keep that block harmless:
 *
 * 1. **The event loop's epoll fds are in the set** (`event_loop_fds.ts`): sockets, pipes and
 *    signals make them readable and end the wait. Completions on Deno's thread pool (file system,
 *    `nonblocking` FFI calls) do not: Deno wakes its loop for them only when it sleeps in its own
 *    epoll, so like timers they wait for the end of the wait (rule 3).
 * 2. **Block only after the event loop has been seen quiet.** Deno collects epoll events some
 *    turns later and handles them on a turn after that; a wait that blocks in between holds up
 *    what was just collected (measured: 1 socket round trip in 20 took a whole wait). So after the
 *    epoll fds were found ready, waits do not block until {@link QUIET_CHECKS_BEFORE_BLOCKING}
 *    consecutive turns found them quiet.
 * 3. **Waits are short while the thread is in use.** Timers, other macrotasks and thread-pool
 *    completions are not fds, so a wait delays them by up to its length: each wait lasts a quarter of the time since the
 *    thread last had work (a frame, or a turn that ran other work for longer than
 *    {@link BUSY_TURN_MS}), from {@link INLINE_WAIT_MIN_SLICE_MS} to
 *    {@link INLINE_WAIT_MAX_SLICE_MS}. A timer is late by at most a quarter of the quiet time
 *    before it and never by more than a 250 Hz kernel's tick; an idle waiter turns the event loop
 *    250 times a second (under 1% of a core here).
 * 4. **Sleeps are short while a peer may answer soon.** How fast a sleeping CPU wakes depends on
 *    how long it expects to sleep: a KVM host polls a halted vCPU for up to 200 us before it
 *    deschedules it (`halt_poll_ns`), and bare metal picks a shallow C-state for a short sleep.
 *    Measured here, a vCPU that halts for 4 ms takes 20-60 us longer to answer a frame than one
 *    that halts for 0.1 ms. So for {@link NAP_WINDOW_MS} after the caller's last frame a wait
 *    sleeps in naps of at most `napMs` (the wait's length and what ends it stay the same): a lone
 *    ping's round trip drops by about a fifth, for ~10% of a core while it lasts.
 *
 * Only the one fd is watched: two inline-waiting devices on one thread would hold up each other's
 * frames by up to a wait.
 * @module
 */

import { poll, POLLERR, POLLFD_BYTES, POLLIN, POLLNVAL } from "./libc.ts";
import { Errno, ErrnoError, lastErrno } from "./errno.ts";
import { eventLoopPollFds } from "./event_loop_fds.ts";

/** Longest single wait, ms: bounds how late a timer fires after long quiet. */
export const INLINE_WAIT_MAX_SLICE_MS = 4;
/** Shortest single blocking wait, ms. */
export const INLINE_WAIT_MIN_SLICE_MS = 0.25;
/**
 * An event-loop turn longer than this ran other work (timers, immediates, I/O callbacks): the
 * thread is in use, so waits start short again. A quiet turn takes a few microseconds.
 */
export const BUSY_TURN_MS = 0.2;
/** How long after the caller's last frame waits sleep in naps (rule 4), ms: `ping`'s interval. */
export const NAP_WINDOW_MS = 1000;
/** Turns that must find the event loop's fds quiet before a wait may block (rule 2). */
export const QUIET_CHECKS_BEFORE_BLOCKING = 2;
/**
 * Consecutive waits ended by an event-loop fd after which the fd set is found again: Deno
 * collects its events within a few dozen turns, so readiness that never clears means one of our
 * fd numbers now belongs to something else (a closed Worker's epoll fd reused by a file).
 */
const STUCK_READY_WAITS = 4096;

/** What ended an {@link InlineWaiter.wait}. */
export type InlineWaitResult = "fd" | "event-loop" | "timeout";

/** Counters of an {@link InlineWaiter}. */
export interface InlineWaitStats {
  /** Waits that blocked (the others only checked). */
  blockingWaits: number;
  /** Waits ended by the event loop's fds. */
  loopWakeups: number;
  /** Times the event loop's fds were looked up again. */
  fdRefreshes: number;
  /** Naps slept by blocking waits (rule 4). */
  naps: number;
}

/**
 * Waits for `fd` to become readable on the calling thread, following the module's rules.
 * @example
 * ```ts
 * const waiter = new InlineWaiter(fd);
 * const turnStartedAt = performance.now();
 * await new Promise((resolve) => setImmediate(resolve));
 * if (waiter.wait(turnStartedAt, lastFrameAt) === "fd") readFrames();
 * ```
 */
export class InlineWaiter {
  /** Counters, updated in place. */
  readonly stats: InlineWaitStats = {
    blockingWaits: 0,
    loopWakeups: 0,
    fdRefreshes: 0,
    naps: 0,
  };
  readonly #fd: number;
  /** `struct pollfd`s: the fd, then the event loop's epoll fds. */
  #fds: Uint8Array | undefined;
  #lastBusyTurnAt = -Infinity;
  #quietChecks = 0;
  #readyStreak = 0;

  /** Epoll fds that are not this thread's event loop (a Worker's), left out of the set. */
  readonly #foreignFds: () => readonly number[];
  /** Longest nap within a blocking wait near the last frame, ms; 0 sleeps once per wait. */
  readonly #napMs: number;

  /**
   * Watches `fd` (which must stay open while this waiter is used). `foreignFds` names epoll fds
   * to leave out: those of a Worker that blocks its own event loop (the TAP's transmit thread)
   * read as ready for good and would end every wait at once. `napMs` is the longest sleep of a
   * wait within {@link NAP_WINDOW_MS} of the last frame (rule 4); 0 sleeps once per wait.
   */
  constructor(fd: number, foreignFds: () => readonly number[] = () => [], napMs = 0) {
    if (!(napMs >= 0)) throw new RangeError(`Invalid napMs ${napMs}: must be >= 0`);
    this.#fd = fd;
    this.#foreignFds = foreignFds;
    this.#napMs = napMs;
  }

  /** `revents` of the watched fd after the last wait. */
  get fdEvents(): number {
    return this.#fds === undefined ? 0 : this.#fds[6] | (this.#fds[7] << 8);
  }

  /** Looks the event loop's fds up again on the next wait (they may change over time). */
  refresh(): void {
    this.#fds = undefined;
  }

  /**
   * One wait, right after an event-loop turn that began at `turnStartedAt`; `lastActivityAt` is
   * when the caller last had work of its own (its last frame); a blocking wait ends by `wakeBy`
   * at the latest (when the caller means to spin, see `spin_ahead.ts`). All are
   * `performance.now()` times.
   * @throws {ErrnoError} if `ppoll` fails for a reason other than a signal.
   */
  wait(turnStartedAt: number, lastActivityAt: number, wakeBy = Infinity): InlineWaitResult {
    const now = performance.now();
    if (now - turnStartedAt > BUSY_TURN_MS) this.#lastBusyTurnAt = now;
    const blocking = this.#quietChecks >= QUIET_CHECKS_BEFORE_BLOCKING;
    const quietMs = now - Math.max(lastActivityAt, this.#lastBusyTurnAt);
    const quarterMs = Math.min(
      INLINE_WAIT_MAX_SLICE_MS,
      Math.max(INLINE_WAIT_MIN_SLICE_MS, quietMs / 4),
    );
    const sliceMs = blocking ? Math.max(0, Math.min(quarterMs, wakeBy - now)) : 0;
    if (blocking) this.stats.blockingWaits++;
    const fds = this.#fds ??= this.#newPollFds();
    const count = fds.length / POLLFD_BYTES;
    let ready: number;
    if (sliceMs > this.#napMs && this.#napMs > 0 && now - lastActivityAt < NAP_WINDOW_MS) {
      const wakeAt = now + sliceMs;
      let napMs = this.#napMs;
      do {
        this.stats.naps++;
        ready = poll(fds, count, napMs * 1000);
        // The last nap ends with the wait: by `wakeBy`, when the caller means to spin then.
        napMs = Math.min(this.#napMs, wakeAt - performance.now());
      } while (ready === 0 && napMs > 0);
    } else {
      ready = poll(fds, count, sliceMs * 1000);
    }
    if (ready < 0) {
      const errno = lastErrno();
      if (errno !== Errno.EINTR) throw new ErrnoError("ppoll", errno);
      // A signal: the event loop has its own way of seeing it, and handles it next turn.
      return this.#loopWasReady();
    }
    if (ready === 0) {
      this.#readyStreak = 0;
      if (!blocking) this.#quietChecks++;
      return "timeout";
    }
    const fdEvents = this.fdEvents;
    if (ready > (fdEvents === 0 ? 0 : 1)) {
      if (this.#loopFdsBroken(fds)) this.refresh();
      this.#loopWasReady();
    } else {
      this.#readyStreak = 0;
    }
    return fdEvents === 0 ? "event-loop" : "fd";
  }

  #loopWasReady(): "event-loop" {
    this.#quietChecks = 0;
    this.stats.loopWakeups++;
    if (++this.#readyStreak >= STUCK_READY_WAITS) {
      this.#readyStreak = 0;
      this.refresh();
    }
    return "event-loop";
  }

  /** Whether an event-loop fd reported an error: it was closed (or replaced) under us. */
  #loopFdsBroken(fds: Uint8Array): boolean {
    const view = new DataView(fds.buffer);
    for (let offset = POLLFD_BYTES; offset < fds.length; offset += POLLFD_BYTES) {
      if ((view.getInt16(offset + 6, true) & (POLLNVAL | POLLERR)) !== 0) return true;
    }
    return false;
  }

  #newPollFds(): Uint8Array {
    this.stats.fdRefreshes++;
    const foreign = this.#foreignFds();
    const all = [this.#fd, ...eventLoopPollFds().filter((fd) => !foreign.includes(fd))];
    const fds = new Uint8Array(all.length * POLLFD_BYTES);
    const view = new DataView(fds.buffer);
    all.forEach((fd, i) => {
      view.setInt32(i * POLLFD_BYTES, fd, true);
      view.setInt16(i * POLLFD_BYTES + 4, POLLIN, true);
    });
    return fds;
  }
}
