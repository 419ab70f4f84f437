/**
 * The one timer facility TCP uses: a binary min-heap of deadlines, one entry per key, driven by a
 * single {@link Clock} timer armed for the earliest deadline. Connections do not own timer objects;
 * each reports its next deadline (RTO, delayed ACK, persist, keepalive, TIME-WAIT) and the queue
 * calls back when it falls due.
 *
 * Every entry knows its place in the heap, so a new deadline moves the key's entry in place and a
 * cleared one is removed at once: the heap holds only live deadlines. (Skipping superseded entries
 * lazily, as this queue once did, left each recycled TIME-WAIT connection's 60 s entry behind: 87k
 * entries for 14k connections after 86k connections at 10k/s.)
 * @module
 */

import type { Clock, TimerHandle } from "../clock.ts";

interface Entry<K> {
  at: number;
  readonly key: K;
  /** Position in the heap array. */
  index: number;
}

/** A deadline queue keyed by owner, firing through one clock timer. */
export class TimerQueue<K> {
  readonly #clock: Clock;
  readonly #onDue: (key: K, nowMs: number) => void;
  #heap: Entry<K>[] = [];
  readonly #entries = new Map<K, Entry<K>>();
  #armedAt: number | undefined;
  #handle: TimerHandle | undefined;
  #closed = false;

  /** `onDue(key, now)` runs for every key whose deadline has passed. */
  constructor(clock: Clock, onDue: (key: K, nowMs: number) => void) {
    this.#clock = clock;
    this.#onDue = onDue;
  }

  /** Number of keys with a deadline, which is also the number of entries held. */
  get size(): number {
    return this.#heap.length;
  }

  /** The deadline currently set for `key`. */
  deadlineOf(key: K): number | undefined {
    return this.#entries.get(key)?.at;
  }

  /** Sets (or with `undefined`, clears) the deadline of `key`. */
  set(key: K, at: number | undefined): void {
    if (this.#closed) return;
    const entry = this.#entries.get(key);
    if (at === undefined) {
      if (entry === undefined) return;
      this.#entries.delete(key);
      this.#remove(entry.index);
      // The clock timer may stay armed for the cleared deadline: it then finds nothing due and
      // re-arms for the head, which costs less than re-arming on every clear.
      return;
    }
    if (entry === undefined) {
      const fresh: Entry<K> = { at, key, index: this.#heap.length };
      this.#entries.set(key, fresh);
      this.#heap.push(fresh);
      this.#siftUp(fresh.index);
    } else {
      if (entry.at === at) return;
      const earlier = at < entry.at;
      entry.at = at;
      if (earlier) this.#siftUp(entry.index);
      else this.#siftDown(entry.index);
    }
    this.#arm();
  }

  /** Stops the clock timer and forgets every deadline. */
  close(): void {
    this.#closed = true;
    this.#handle?.cancel();
    this.#handle = undefined;
    this.#heap = [];
    this.#entries.clear();
  }

  #fire(): void {
    this.#handle = undefined;
    this.#armedAt = undefined;
    const now = this.#clock.now();
    while (this.#heap.length > 0 && this.#heap[0].at <= now) {
      const entry = this.#heap[0];
      this.#remove(0);
      this.#entries.delete(entry.key);
      this.#onDue(entry.key, now);
      if (this.#closed) return;
    }
    this.#arm();
  }

  #arm(): void {
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

  /** Removes the entry at `index`, filling its place with the last entry. */
  #remove(index: number): void {
    const heap = this.#heap;
    const last = heap.pop()!;
    if (index === heap.length) return;
    heap[index] = last;
    last.index = index;
    if (index > 0 && last.at < heap[(index - 1) >> 1].at) this.#siftUp(index);
    else this.#siftDown(index);
  }

  #siftUp(index: number): void {
    const heap = this.#heap;
    const entry = heap[index];
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent].at <= entry.at) break;
      heap[i] = heap[parent];
      heap[i].index = i;
      i = parent;
    }
    heap[i] = entry;
    entry.index = i;
  }

  #siftDown(index: number): void {
    const heap = this.#heap;
    const entry = heap[index];
    const n = heap.length;
    let i = index;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && heap[right].at < heap[left].at ? right : left;
      if (heap[child].at >= entry.at) break;
      heap[i] = heap[child];
      heap[i].index = i;
      i = child;
    }
    heap[i] = entry;
    entry.index = i;
  }
}
