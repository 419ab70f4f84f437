/**
 * Receive arenas that are used again instead of thrown away.
 *
 * A link reads frames into a large arena and hands them up as `subarray` views, so a frame costs
 * no copy and no allocation. Throwing each full arena away (1 MiB per MiB received, with
 * offloads) made V8 count every byte received as new external memory: at 5-10 Gbit/s it started
 * a full mark-compact every ~64 MB, whose marking steps and pauses held the JS thread for 2-8 ms,
 * and in those milliseconds nothing was read or acknowledged (a capture of 10 x 1 MB rounds
 * showed 25 ms of idle link in a 47 ms round, against none in a 16 ms one).
 *
 * An arena comes back when nothing can still point into it:
 * - **In flight.** Dealers never wait with ingress in hand (full channels drop, see
 *   ARCHITECTURE.md), so a batch and everything it sets off run on microtasks, and the link only
 *   reads again on a later macrotask. The link calls {@link ArenaPool.beginTurn} before each read;
 *   an arena left during turn T is reusable from turn T + 1 on.
 * - **Kept.** Whoever keeps received bytes past its turn either copies them (UDP sockets,
 *   fragments, out-of-order TCP data, frames parked for ARP) or retains them with
 *   {@link retainBytes} and lets go with {@link releaseBytes} (TCP's in-order receive queue, the
 *   bulk path, which keeps every byte until the application reads it).
 *
 * A missed release only keeps an arena out of use; the pool then forgets it after
 * {@link ArenaPoolOptions.maxRetired} newer ones, and the garbage collector takes it as before.
 * @module
 */

/** What the pool knows about one arena it made. */
interface ArenaRecord {
  /** Views retained with {@link retainBytes} and not yet released. */
  retains: number;
  /** The turn in which the link last left this arena (read only while it is retired). */
  retiredAtTurn: number;
}

/** Every pool's arenas, by backing buffer: views from anywhere else are not tracked. */
const records = new WeakMap<ArrayBufferLike, ArenaRecord>();

/**
 * Marks `view` as kept past its turn: its arena is not reused until {@link releaseBytes}. Costs
 * a `WeakMap` lookup; a view of anything but a pool's arena is ignored.
 */
export function retainBytes(view: Uint8Array): void {
  const record = records.get(view.buffer);
  if (record !== undefined) record.retains++;
}

/** Lets go of a view retained with {@link retainBytes}; call it once per retain. */
export function releaseBytes(view: Uint8Array): void {
  const record = records.get(view.buffer);
  if (record !== undefined && record.retains > 0) record.retains--;
}

/** Options of {@link ArenaPool}. */
export interface ArenaPoolOptions {
  /** Left arenas waiting for their views to be released; older ones are forgotten. */
  maxRetired?: number;
  /** Free arenas kept for reuse; more are forgotten. */
  maxFree?: number;
  /**
   * Fill an arena with 0xEE before reusing it, so a view kept without {@link retainBytes} reads
   * garbage in tests instead of plausible data. Costs a fill per reuse.
   */
  poison?: boolean;
}

/** Counters of an {@link ArenaPool}. */
export interface ArenaPoolStats {
  /** Arenas allocated. */
  allocated: number;
  /** Arenas handed out again. */
  reused: number;
  /** Arenas forgotten while views still pointed into them (left to the garbage collector). */
  forgotten: number;
  /** Free arenas given back to the garbage collector by {@link ArenaPool.trim}. */
  trimmed: number;
}

/**
 * Arenas of one size for one reader.
 * @example
 * ```ts
 * const pool = new ArenaPool(1 << 20);
 * pool.beginTurn();
 * const first = pool.take();
 * const second = pool.exchange(first); // first is full: it waits for a later turn
 * pool.beginTurn();
 * pool.exchange(second) === first; // true: nothing retained a view of it
 * ```
 */
export class ArenaPool {
  /** Bytes per arena. */
  readonly arenaBytes: number;
  /** Counters, updated in place. */
  readonly stats: ArenaPoolStats = { allocated: 0, reused: 0, forgotten: 0, trimmed: 0 };
  readonly #maxRetired: number;
  readonly #maxFree: number;
  readonly #poison: boolean;
  #turn = 0;
  #retired: Uint8Array[] = [];
  #free: Uint8Array[] = [];

  /** Creates an empty pool of `arenaBytes`-byte arenas. */
  constructor(arenaBytes: number, options: ArenaPoolOptions = {}) {
    this.arenaBytes = arenaBytes;
    this.#maxRetired = options.maxRetired ?? 64;
    this.#maxFree = options.maxFree ?? 16;
    this.#poison = options.poison ?? false;
  }

  /** Marks the start of a read turn: everything handed up before it has been dealt with. */
  beginTurn(): void {
    this.#turn++;
  }

  /** An arena to read into: a reusable one, or a new one. */
  take(): Uint8Array {
    this.#collect();
    const arena = this.#free.pop();
    if (arena === undefined) {
      const fresh = new Uint8Array(this.arenaBytes);
      records.set(fresh.buffer, { retains: 0, retiredAtTurn: 0 });
      this.stats.allocated++;
      return fresh;
    }
    if (this.#poison) arena.fill(0xee);
    this.stats.reused++;
    return arena;
  }

  /** Leaves `arena` (the reader has filled it) and returns the next one to read into. */
  exchange(arena: Uint8Array): Uint8Array {
    // Every arena handed out is tracked until it is retired, so the record is there.
    records.get(arena.buffer)!.retiredAtTurn = this.#turn;
    this.#retired.push(arena);
    if (this.#retired.length > this.#maxRetired) this.#forget(this.#retired.shift()!);
    return this.take();
  }

  /**
   * Gives the free arenas back to the garbage collector (a reader going idle for long calls it),
   * so a burst does not keep its memory for good. Retired arenas stay: views still point there.
   */
  trim(): void {
    this.#collect();
    for (const arena of this.#free) records.delete(arena.buffer);
    this.stats.trimmed += this.#free.length;
    this.#free = [];
  }

  /** Moves arenas left in an earlier turn with nothing retained to the free list. */
  #collect(): void {
    let kept = 0;
    for (const arena of this.#retired) {
      const record = records.get(arena.buffer)!;
      if (record.retains === 0 && record.retiredAtTurn < this.#turn) {
        if (this.#free.length < this.#maxFree) this.#free.push(arena);
        else records.delete(arena.buffer);
      } else {
        this.#retired[kept++] = arena;
      }
    }
    this.#retired.length = kept;
  }

  #forget(arena: Uint8Array): void {
    records.delete(arena.buffer);
    this.stats.forgotten++;
  }
}
