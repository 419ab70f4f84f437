/**
 * The send buffer: bytes the user wrote that are not yet acknowledged, in sequence order (RFC 9293
 * §3.3.1 send sequence space, from SND.UNA on). A fixed-capacity ring, so writes and reads copy at
 * most twice and never allocate per segment beyond the copy handed to the wire.
 * @module
 */

/** A fixed-capacity byte ring holding unacknowledged and unsent data. */
export class SendBuffer {
  /** Maximum number of bytes held. */
  readonly capacity: number;
  #ring: Uint8Array;
  #start = 0;
  #length = 0;

  /** Creates a buffer of `capacity` bytes. */
  constructor(capacity: number) {
    if (!(capacity >= 1)) {
      throw new RangeError(`Send buffer capacity must be >= 1, got ${capacity}`);
    }
    this.capacity = capacity;
    this.#ring = new Uint8Array(capacity);
  }

  /** Bytes held (sent-unacknowledged plus unsent). */
  get length(): number {
    return this.#length;
  }

  /** Room left for {@link write}. */
  get free(): number {
    return this.capacity - this.#length;
  }

  /** Copies as much of `data` as fits and returns how many bytes were taken. */
  write(data: Uint8Array): number {
    const n = Math.min(data.length, this.free);
    let end = (this.#start + this.#length) % this.capacity;
    let done = 0;
    while (done < n) {
      const chunk = Math.min(n - done, this.capacity - end);
      this.#ring.set(data.subarray(done, done + chunk), end);
      done += chunk;
      end = (end + chunk) % this.capacity;
    }
    this.#length += n;
    return n;
  }

  /** A fresh copy of `length` bytes starting `offset` bytes after the first held byte. */
  read(offset: number, length: number): Uint8Array {
    if (offset < 0 || length < 0 || offset + length > this.#length) {
      throw new RangeError(`Cannot read [${offset}, ${offset + length}) of ${this.#length} bytes`);
    }
    const out = new Uint8Array(length);
    let from = (this.#start + offset) % this.capacity;
    let done = 0;
    while (done < length) {
      const chunk = Math.min(length - done, this.capacity - from);
      out.set(this.#ring.subarray(from, from + chunk), done);
      done += chunk;
      from = (from + chunk) % this.capacity;
    }
    return out;
  }

  /** Drops the first `n` bytes (they were acknowledged). */
  consume(n: number): void {
    const k = Math.min(n, this.#length);
    this.#start = (this.#start + k) % this.capacity;
    this.#length -= k;
  }
}
