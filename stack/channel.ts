/**
 * The CSP channel every dealer reads from: a bounded FIFO queue that is async-iterable.
 *
 * Full-channel policy, chosen by the sender:
 * - {@link Channel.trySend} never waits: when the queue is full (or closed) the item is dropped and
 *   counted in {@link Channel.drops}. Ingress from the wire uses it, like a NIC ring that overflows.
 * - {@link Channel.send} waits for room: user requests use it, so a fast producer is slowed down
 *   (backpressure) instead of losing data.
 *
 * A receiver takes one item per `await` with `for await (const x of ch)`, or everything queued at
 * once with `for await (const batch of ch.batches())`, which amortises the cost of a wakeup over
 * all the packets that arrived meanwhile. Dealers use the loop form of the latter,
 * `for (let b = await ch.receiveBatch(); b; b = await ch.receiveBatch())`: a sender that finds the receiver waiting hands its
 * item straight to the receiver's promise, one promise resolution per hop and no generator. On a
 * path that has been idle for a few milliseconds (a lone ping), that hop costs ~6 us against ~20
 * for a generator over a queue (cold caches: each builtin touched costs microseconds; measured on
 * this kind of VM). A channel has one receiver, its dealer (as in CSP); senders may be many.
 * @module
 */

/** Thrown by {@link Channel.send} on a closed channel. */
export class ChannelClosedError extends Error {
  /** Creates the error naming the channel. */
  constructor(name: string) {
    super(`Cannot send: channel ${name} is closed`);
    this.name = "ChannelClosedError";
  }
}

/**
 * A bounded, closable, async-iterable FIFO channel.
 * @example
 * ```ts
 * const ch = new Channel<number>(16, "numbers");
 * ch.trySend(1);
 * ch.close();
 * for await (const n of ch) console.log(n); // 1
 * ```
 */
export class Channel<T> implements AsyncIterable<T> {
  /** Name used in errors and counters. */
  readonly name: string;
  /** Maximum number of queued items. */
  readonly capacity: number;
  #items: T[] = [];
  #head = 0;
  #closed = false;
  #drops = 0;
  #receiver: (() => void) | undefined;
  /** A {@link receiveBatch} waiting on an empty queue: the next item goes straight to it. */
  #batchReceiver: ((items: T[] | undefined) => void) | undefined;
  /** Senders waiting for room; allocated when the first one waits (most channels never fill). */
  #senders: (() => void)[] | undefined;

  /** Creates a channel holding at most `capacity` items. */
  constructor(capacity: number, name = "channel") {
    if (!(capacity >= 1)) throw new RangeError(`Channel capacity must be >= 1, got ${capacity}`);
    this.capacity = capacity;
    this.name = name;
  }

  /** Items currently queued. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Items refused by {@link trySend} because the channel was full or closed. */
  get drops(): number {
    return this.#drops;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Queues `item` if there is room; otherwise drops it, counts the drop and returns false. */
  trySend(item: T): boolean {
    if (this.#closed || this.length >= this.capacity) {
      this.#drops++;
      return false;
    }
    if (this.#handOff(item)) return true;
    this.#items.push(item);
    this.#wakeReceiver();
    return true;
  }

  /** Queues `item`, waiting while the channel is full. Throws {@link ChannelClosedError} if closed. */
  async send(item: T): Promise<void> {
    while (!this.#closed && this.length >= this.capacity) {
      await new Promise<void>((resolve) => (this.#senders ??= []).push(resolve));
    }
    if (this.#closed) throw new ChannelClosedError(this.name);
    if (this.#handOff(item)) return;
    this.#items.push(item);
    this.#wakeReceiver();
  }

  /** Takes every queued item without waiting (possibly none). */
  drain(): T[] {
    if (this.length === 0) return [];
    const out = this.#head === 0 ? this.#items : this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    this.#wakeSenders();
    return out;
  }

  /** Waits for at least one item and returns it, or `undefined` once closed and empty. */
  async receive(): Promise<T | undefined> {
    while (this.length === 0) {
      if (this.#closed) return undefined;
      await this.#waitForItems();
    }
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined as T;
    this.#head++;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    this.#wakeSenders();
    return item;
  }

  /**
   * Waits for at least one item and takes everything queued, or resolves `undefined` once closed
   * and empty. The loop form of {@link batches}, and the dealers' way of reading their inbox: it
   * keeps no suspended function of its own while waiting, and a sender finding it waiting resolves
   * it directly with its item (so the items sent in the same turn after that one come in the next
   * batch, at once).
   */
  receiveBatch(): Promise<T[] | undefined> {
    if (this.length > 0) return Promise.resolve(this.drain());
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#batchReceiver = resolve);
  }

  /** Yields everything queued at each wakeup as one array, until closed and empty. */
  async *batches(): AsyncGenerator<T[]> {
    for (;;) {
      while (this.length === 0) {
        if (this.#closed) return;
        await this.#waitForItems();
      }
      yield this.drain();
    }
  }

  /** Yields items one by one until closed and empty. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      const item = await this.receive();
      if (item === undefined && this.#closed && this.length === 0) return;
      yield item as T;
    }
  }

  /** Closes the channel: queued items can still be received, new sends fail. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const batchReceiver = this.#batchReceiver;
    this.#batchReceiver = undefined;
    batchReceiver?.(undefined);
    this.#wakeReceiver();
    this.#wakeSenders();
  }

  /** Gives `item` to a waiting {@link receiveBatch} (the queue is then empty); whether one was. */
  #handOff(item: T): boolean {
    const receiver = this.#batchReceiver;
    if (receiver === undefined) return false;
    this.#batchReceiver = undefined;
    receiver([item]);
    return true;
  }

  #waitForItems(): Promise<void> {
    return new Promise<void>((resolve) => this.#receiver = resolve);
  }

  #wakeReceiver(): void {
    const wake = this.#receiver;
    if (wake) {
      this.#receiver = undefined;
      wake();
    }
  }

  #wakeSenders(): void {
    const senders = this.#senders;
    if (senders === undefined) return;
    this.#senders = undefined;
    for (const wake of senders) wake();
  }
}
