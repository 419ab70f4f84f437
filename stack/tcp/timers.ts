/**
 * The one timer facility TCP uses: a binary min-heap of (deadline, key) entries driven by a single
 * {@link Clock} timer armed for the earliest deadline. Connections do not own timer objects; each
 * reports its next deadline (RTO, delayed ACK, persist, keepalive, TIME-WAIT) and the queue calls
 * back when it falls due. Superseded entries are skipped lazily when popped.
 * @module
 */

import type { Clock, TimerHandle } from "../clock.ts";

interface Entry<K> {
  at: number;
  key: K;
}

/** A deadline queue keyed by owner, firing through one clock timer. */
export class TimerQueue<K> {
  readonly #clock: Clock;
  readonly #onDue: (key: K, nowMs: number) => void;
  #heap: Entry<K>[] = [];
  #current = new Map<K, number>();
  #armedAt: number | undefined;
  #handle: TimerHandle | undefined;
  #closed = false;

  /** `onDue(key, now)` runs for every key whose deadline has passed. */
  constructor(clock: Clock, onDue: (key: K, nowMs: number) => void) {
    this.#clock = clock;
    this.#onDue = onDue;
  }

  /** Number of keys with a deadline. */
  get size(): number {
    return this.#current.size;
  }

  /** The deadline currently set for `key`. */
  deadlineOf(key: K): number | undefined {
    return this.#current.get(key);
  }

  /** Sets (or with `undefined`, clears) the deadline of `key`. */
  set(key: K, at: number | undefined): void {
    if (this.#closed) return;
    const old = this.#current.get(key);
    if (old === at) return;
    if (at === undefined) {
      this.#current.delete(key);
      return;
    }
    this.#current.set(key, at);
    this.#push({ at, key });
    this.#arm();
  }

  /** Stops the clock timer and forgets every deadline. */
  close(): void {
    this.#closed = true;
    this.#handle?.cancel();
    this.#handle = undefined;
    this.#heap = [];
    this.#current.clear();
  }

  #fire(): void {
    this.#handle = undefined;
    this.#armedAt = undefined;
    const now = this.#clock.now();
    while (this.#heap.length > 0 && this.#heap[0].at <= now) {
      const entry = this.#pop();
      if (this.#current.get(entry.key) !== entry.at) continue;
      this.#current.delete(entry.key);
      this.#onDue(entry.key, now);
      if (this.#closed) return;
    }
    this.#arm();
  }

  #arm(): void {
    // Drop stale heads so the clock timer tracks a live deadline.
    while (this.#heap.length > 0 && this.#current.get(this.#heap[0].key) !== this.#heap[0].at) {
      this.#pop();
    }
    if (this.#heap.length === 0) {
      this.#handle?.cancel();
      this.#handle = undefined;
      this.#armedAt = undefined;
      return;
    }
    const at = this.#heap[0].at;
    if (this.#armedAt !== undefined && this.#armedAt <= at) return;
    this.#handle?.cancel();
    this.#armedAt = at;
    this.#handle = this.#clock.setTimer(Math.max(0, at - this.#clock.now()), () => this.#fire());
  }

  #push(entry: Entry<K>): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent].at <= entry.at) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = entry;
  }

  #pop(): Entry<K> {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        let mAt = last.at;
        if (l < heap.length && heap[l].at < mAt) {
          m = l;
          mAt = heap[l].at;
        }
        if (r < heap.length && heap[r].at < mAt) m = r;
        if (m === i) break;
        heap[i] = heap[m];
        i = m;
      }
      heap[i] = last;
    }
    return top;
  }
}
