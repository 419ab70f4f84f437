/**
 * Work deferred to the end of the current turn: after the batch a link handed up and everything
 * it set off (dealers, connection tasks, the application's reactions) has run, and before the link
 * looks for the next batch.
 *
 * TCP uses it to cork small writes (`Endpoint` in `tcp/endpoint.ts`): a response written and then
 * closed in the same turn leaves as one segment carrying the data and the FIN, and two small
 * writes of one turn share a segment, as Linux's `tcp_autocorking` joins writes while the device
 * is busy. A turn ends at whichever comes first:
 *
 * 1. the link's next turn: a device whose receive loop spins or blocks the thread (the TAP's busy
 *    polling and inline waiting) calls {@link TurnEnd.run} before it does, through
 *    `LinkDevice.setTurnHook`, so deferred work never waits behind the spin or the wait;
 * 2. the scheduler given to the constructor (`setImmediate` by default): the next macrotask, for
 *    links that do not spin (the sleeping TAP, the in-memory link) and for work deferred outside a
 *    link's turn (an application writing from a timer).
 *
 * No JavaScript hook runs when the microtask queue drains, so "the end of the turn" has to be one
 * of these two; tests inject a scheduler to run deferred work exactly when they choose.
 * @module
 */

/** Runs a callback later; the default is `setImmediate`. */
export type TurnScheduler = (callback: () => void) => void;

/** The default {@link TurnScheduler}: the next macrotask. */
export const nextMacrotask: TurnScheduler = (callback) => {
  setImmediate(callback);
};

/**
 * A queue of tasks run together at the end of the turn (see the module doc).
 * @example
 * ```ts
 * const turnEnd = new TurnEnd();
 * turnEnd.defer(() => console.log("after this turn's microtasks"));
 * ```
 */
export class TurnEnd {
  readonly #schedule: TurnScheduler;
  #tasks: (() => void)[] = [];
  /** Whether the scheduler holds a pending {@link run}. */
  #scheduled = false;
  readonly #scheduledRun = () => {
    this.#scheduled = false;
    this.run();
  };

  /** A queue whose fallback run is scheduled with `schedule`. */
  constructor(schedule: TurnScheduler = nextMacrotask) {
    this.#schedule = schedule;
  }

  /** Tasks waiting for the end of the turn. */
  get pending(): number {
    return this.#tasks.length;
  }

  /** Queues `task` for the end of the turn; the first task of a turn schedules the fallback run. */
  defer(task: () => void): void {
    this.#tasks.push(task);
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.#schedule(this.#scheduledRun);
    }
  }

  /**
   * Runs the queued tasks, in order. Tasks they defer wait for the next run. A throwing task does
   * not keep the others from running; the first error is rethrown after them.
   */
  run(): void {
    if (this.#tasks.length === 0) return;
    const tasks = this.#tasks;
    this.#tasks = [];
    let failure: unknown;
    let failed = false;
    for (const task of tasks) {
      try {
        task();
      } catch (error) {
        if (!failed) failure = error;
        failed = true;
      }
    }
    if (failed) throw failure;
  }
}
