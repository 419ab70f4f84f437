/**
 * A single-producer, single-consumer ring of frames in a SharedArrayBuffer: the channel between
 * the JS thread and the TAP's transmit thread (`tx_thread.ts`). The producer copies a frame into
 * the ring and publishes it with one atomic store; the consumer takes frames in order and
 * releases each once written. The producer allocates nothing per frame.
 *
 * Layout: 64 bytes of control words (Int32), then a data region of `capacity` bytes (a power of
 * two). Records are `[int32 length][bytes]`, padded to 8 bytes. A record never wraps: when it
 * does not fit before the end, a pad marker (length -1) sends the consumer back to the start.
 * HEAD and TAIL count bytes since the start, modulo 2^32, so `HEAD - TAIL` is the bytes in use
 * and `position & (capacity - 1)` the offset.
 * @module
 */

/** Control word: bytes published by the producer (mod 2^32). */
const HEAD = 0;
/** Control word: bytes released by the consumer (mod 2^32). */
const TAIL = 1;
/** Control word: 1 while the consumer is about to sleep or sleeps (on DOORBELL). */
const SLEEPING = 2;
/** Control word: 1 once the producer closed the ring. */
const CLOSED = 3;
/** Control word: frames the consumer failed to write. */
const FAILED = 4;
/** Control word: 1 while the producer waits in `Atomics.wait` on TAIL for room. */
const PRODUCER_WAITING = 5;
/**
 * Control word the consumer sleeps on: bumped by a publish that finds it asleep and by close.
 * (Sleeping on HEAD would miss a close, which leaves HEAD as it was.)
 */
const DOORBELL = 6;
/** Control word: bytes of the frames counted in FAILED. */
const FAILED_BYTES = 7;
/** Control word: 1 while the consumer is inside a write (see {@link TxRing.beginWrite}). */
const WRITING = 8;
/** Control word: 1 once the producer forbade further writes (see {@link TxRing.abort}). */
const ABORTED = 9;
/** Control words' bytes (a cache line, so the data never shares one with them). */
const CONTROL_BYTES = 64;
/** Record header: the int32 length. */
const RECORD_HEADER = 4;
/** Length of the marker that sends the consumer back to the start of the data region. */
const PAD = -1;

/** Rounds a record of `bytes` payload up to its size in the ring. */
function recordBytes(bytes: number): number {
  return (RECORD_HEADER + bytes + 7) & ~7;
}

/**
 * One ring, seen from either side: the producer uses {@link reserve} / {@link publish}, the
 * consumer {@link next} / {@link release}. Each side wraps the same SharedArrayBuffer in its own
 * `TxRing` (one per thread).
 */
export class TxRing {
  /** The shared memory; send it to the other thread and wrap it with `new TxRing(buffer)`. */
  readonly buffer: SharedArrayBuffer;
  /** The data region; a reserved record's bytes go at the offset {@link reserve} returned. */
  readonly data: Uint8Array;
  /** Data region bytes. */
  readonly capacity: number;
  readonly #control: Int32Array;
  readonly #lengths: DataView;
  /** The producer's next position (published by {@link publish}). */
  #head: number;
  /** The consumer's position. */
  #tail: number;
  /** Ring bytes of the consumer's current record. */
  #taken = 0;
  /** Ring bytes of the record reserved last, made visible by {@link publish}. */
  #pending = 0;

  /**
   * Wraps `buffer`, or allocates a ring with a data region of `capacity` bytes.
   * @throws {RangeError} if `capacity` is not a power of two of at least 4 KiB.
   */
  constructor(source: SharedArrayBuffer | { capacity: number }) {
    if (source instanceof SharedArrayBuffer) {
      this.buffer = source;
      this.capacity = source.byteLength - CONTROL_BYTES;
    } else {
      const { capacity } = source;
      if (!(Number.isInteger(capacity) && capacity >= 4096 && (capacity & (capacity - 1)) === 0)) {
        throw new RangeError(`Invalid ring capacity ${capacity}: must be a power of two >= 4096`);
      }
      this.buffer = new SharedArrayBuffer(CONTROL_BYTES + capacity);
      this.capacity = capacity;
    }
    this.#control = new Int32Array(this.buffer, 0, CONTROL_BYTES / 4);
    this.data = new Uint8Array(this.buffer, CONTROL_BYTES, this.capacity);
    this.#lengths = new DataView(this.buffer, CONTROL_BYTES, this.capacity);
    this.#head = Atomics.load(this.#control, HEAD) >>> 0;
    this.#tail = Atomics.load(this.#control, TAIL) >>> 0;
  }

  /** Largest payload one record can hold. */
  get maxRecord(): number {
    return this.capacity / 2 - RECORD_HEADER;
  }

  // --------------------------------------------------------------- producer

  /** True when every published record has been released (nothing waits or is being written). */
  get drained(): boolean {
    return (Atomics.load(this.#control, TAIL) >>> 0) === this.#head;
  }

  /**
   * Room for a record of `bytes`: returns the offset in {@link data} where its bytes go, or -1
   * when the ring is full (or the record is larger than {@link maxRecord}). Nothing is visible to
   * the consumer until {@link publish}.
   */
  reserve(bytes: number): number {
    if (bytes > this.maxRecord) return -1;
    const size = recordBytes(bytes);
    const used = (this.#head - (Atomics.load(this.#control, TAIL) >>> 0)) >>> 0;
    const offset = this.#head & (this.capacity - 1);
    const toEnd = this.capacity - offset;
    // A record that does not fit before the end starts over at offset 0, behind a pad marker.
    const needed = size <= toEnd ? size : toEnd + size;
    if (used + needed > this.capacity) return -1;
    if (size > toEnd) {
      this.#lengths.setInt32(offset, PAD, true);
      this.#head = (this.#head + toEnd) >>> 0;
      return this.#reserveAt(0, bytes);
    }
    return this.#reserveAt(offset, bytes);
  }

  #reserveAt(offset: number, bytes: number): number {
    this.#lengths.setInt32(offset, bytes, true);
    this.#pending = recordBytes(bytes);
    return offset + RECORD_HEADER;
  }

  /**
   * Makes the record reserved last visible to the consumer, waking it when it sleeps. Returns
   * true when it had to be woken (a system call).
   */
  publish(): boolean {
    this.#head = (this.#head + this.#pending) >>> 0;
    this.#pending = 0;
    Atomics.store(this.#control, HEAD, this.#head | 0);
    // Seen SLEEPING clear here means the consumer will see this HEAD before it sleeps.
    if (Atomics.load(this.#control, SLEEPING) === 0) return false;
    this.#ring();
    return true;
  }

  /**
   * Like {@link reserve}, but when the ring is full, waits (blocking the thread) for the
   * consumer to make room, for at most `timeoutMs`: the backpressure a synchronous write gave.
   */
  reserveWaiting(bytes: number, timeoutMs: number): number {
    const at = this.reserve(bytes);
    if (at >= 0 || bytes > this.maxRecord) return at;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0) return -1;
      Atomics.store(this.#control, PRODUCER_WAITING, 1);
      const tail = Atomics.load(this.#control, TAIL);
      const retry = this.reserve(bytes);
      if (retry >= 0) {
        Atomics.store(this.#control, PRODUCER_WAITING, 0);
        return retry;
      }
      Atomics.wait(this.#control, TAIL, tail, left);
      Atomics.store(this.#control, PRODUCER_WAITING, 0);
    }
  }

  /** Frames the consumer reported as failed so far. */
  get failed(): number {
    return Atomics.load(this.#control, FAILED);
  }

  /** Bytes of the frames in {@link failed}. */
  get failedBytes(): number {
    return Atomics.load(this.#control, FAILED_BYTES);
  }

  /** Asks the consumer to stop once the ring is empty, waking it. */
  close(): void {
    Atomics.store(this.#control, CLOSED, 1);
    this.#ring();
  }

  /**
   * Forbids the consumer any further write and waits (blocking, at most `timeoutMs`) until it is
   * out of the one it may be in; returns whether it is. After `true`, the consumer never touches
   * its fd again, so the fd may be closed.
   */
  abort(timeoutMs: number): boolean {
    Atomics.store(this.#control, ABORTED, 1);
    // The consumer marks WRITING before it looks at ABORTED (beginWrite), so seeing it clear
    // after setting ABORTED means no write is under way and none will start.
    if (Atomics.load(this.#control, WRITING) === 1) {
      Atomics.wait(this.#control, WRITING, 1, timeoutMs);
    }
    return Atomics.load(this.#control, WRITING) === 0;
  }

  /** Rings the consumer's doorbell. */
  #ring(): void {
    Atomics.add(this.#control, DOORBELL, 1);
    Atomics.notify(this.#control, DOORBELL, 1);
  }

  // --------------------------------------------------------------- consumer

  /** True once the producer has closed the ring. */
  get closed(): boolean {
    return Atomics.load(this.#control, CLOSED) === 1;
  }

  /**
   * The next record: its payload's offset in {@link data}, with its length in
   * {@link recordLength}; -1 when none is published. Call {@link release} when done with it.
   */
  next(): number {
    for (;;) {
      if (this.#tail === Atomics.load(this.#control, HEAD) >>> 0) return -1;
      const offset = this.#tail & (this.capacity - 1);
      const length = this.#lengths.getInt32(offset, true);
      if (length === PAD) {
        this.#tail = (this.#tail + this.capacity - offset) >>> 0;
        continue;
      }
      this.#taken = recordBytes(length);
      this.recordLength = length;
      return offset + RECORD_HEADER;
    }
  }

  /** Payload bytes of the record {@link next} returned. */
  recordLength = 0;

  /** Gives the record {@link next} returned back to the producer. */
  release(): void {
    this.#tail = (this.#tail + this.#taken) >>> 0;
    this.#taken = 0;
    Atomics.store(this.#control, TAIL, this.#tail | 0);
    if (Atomics.load(this.#control, PRODUCER_WAITING) === 1) Atomics.notify(this.#control, TAIL);
  }

  /** Counts a frame of `bytes` the consumer could not write. */
  countFailure(bytes: number): void {
    Atomics.add(this.#control, FAILED_BYTES, bytes);
    Atomics.add(this.#control, FAILED, 1);
  }

  /**
   * Call before each write; false means the producer has aborted and nothing may be written.
   * Pair every `true` with {@link endWrite}.
   */
  beginWrite(): boolean {
    Atomics.store(this.#control, WRITING, 1);
    if (Atomics.load(this.#control, ABORTED) === 0) return true;
    this.endWrite();
    return false;
  }

  /** Call after each write that {@link beginWrite} allowed. */
  endWrite(): void {
    Atomics.store(this.#control, WRITING, 0);
    Atomics.notify(this.#control, WRITING);
  }

  /**
   * Sleeps until a record is published or the ring is closed, or `timeoutMs` passes. Returns at
   * once if either already happened.
   */
  waitForRecord(timeoutMs: number): void {
    Atomics.store(this.#control, SLEEPING, 1);
    // Read the doorbell first: a publish or close after the checks below rings it, and the
    // wait then returns at once because the value it expects is gone.
    const bell = Atomics.load(this.#control, DOORBELL);
    if ((Atomics.load(this.#control, HEAD) >>> 0) === this.#tail && !this.closed) {
      Atomics.wait(this.#control, DOORBELL, bell, timeoutMs);
    }
    Atomics.store(this.#control, SLEEPING, 0);
  }
}
