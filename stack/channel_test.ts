import assert from "node:assert/strict";
import { Channel, ChannelClosedError } from "./channel.ts";

/**
 * Lets every queued microtask and the current macrotask finish, so a promise that is still pending
 * afterwards is waiting on something that has not happened (not on scheduling).
 */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Tracks whether `promise` settled, without awaiting it. */
function track<T>(promise: Promise<T>): { done: boolean; error: unknown } {
  const state = { done: false, error: undefined as unknown };
  promise.then(() => state.done = true, (e) => {
    state.done = true;
    state.error = e;
  });
  return state;
}

Deno.test("channel: capacity must be at least 1", () => {
  assert.throws(() => new Channel(0), RangeError);
  assert.throws(() => new Channel(Number.NaN), RangeError);
  assert.throws(() => new Channel(-3), RangeError);
  assert.equal(new Channel(1).capacity, 1);
});

Deno.test("channel: trySend queues up to capacity, then drops and counts", () => {
  const ch = new Channel<number>(2, "rx");
  assert.equal(ch.trySend(1), true);
  assert.equal(ch.trySend(2), true);
  assert.equal(ch.trySend(3), false);
  assert.equal(ch.trySend(4), false);
  assert.equal(ch.length, 2);
  assert.equal(ch.drops, 2);
  assert.deepEqual(ch.drain(), [1, 2]);
  // Room again: accepted, and the drop counter is cumulative.
  assert.equal(ch.trySend(5), true);
  assert.equal(ch.drops, 2);
});

Deno.test("channel: trySend on a closed channel drops and counts", () => {
  const ch = new Channel<number>(4);
  ch.close();
  assert.equal(ch.closed, true);
  assert.equal(ch.trySend(1), false);
  assert.equal(ch.trySend(2), false);
  assert.equal(ch.drops, 2);
  assert.equal(ch.length, 0);
});

Deno.test("channel: receive returns items in FIFO order", async () => {
  const ch = new Channel<string>(8);
  for (const s of ["a", "b", "c"]) ch.trySend(s);
  assert.equal(await ch.receive(), "a");
  ch.trySend("d");
  assert.equal(await ch.receive(), "b");
  assert.equal(await ch.receive(), "c");
  assert.equal(await ch.receive(), "d");
  assert.equal(ch.length, 0);
});

Deno.test("channel: receive waits for an item sent later", async () => {
  const ch = new Channel<number>(1);
  const pending = ch.receive();
  const state = track(pending);
  await settle();
  assert.equal(state.done, false);
  ch.trySend(0);
  assert.equal(await pending, 0);
});

Deno.test("channel: falsy items (0, empty string, null) are delivered, not taken for the end", async () => {
  const ch = new Channel<number | string | null>(4);
  ch.trySend(0);
  ch.trySend("");
  ch.trySend(null);
  ch.close();
  const got: (number | string | null)[] = [];
  for await (const x of ch) got.push(x);
  assert.deepEqual(got, [0, "", null]);
});

Deno.test("channel: send waits while full and completes once receive makes room", async () => {
  const ch = new Channel<number>(1);
  await ch.send(1); // room: resolves at once
  const second = ch.send(2);
  const state = track(second);
  await settle();
  assert.equal(state.done, false, "send must wait while the channel is full");
  assert.equal(ch.length, 1);
  assert.equal(ch.drops, 0, "send never drops");

  assert.equal(await ch.receive(), 1);
  await second;
  assert.equal(ch.length, 1);
  assert.equal(await ch.receive(), 2);
});

Deno.test("channel: drain also wakes blocked senders", async () => {
  const ch = new Channel<number>(2);
  ch.trySend(1);
  ch.trySend(2);
  const blocked = ch.send(3);
  const state = track(blocked);
  await settle();
  assert.equal(state.done, false);
  assert.deepEqual(ch.drain(), [1, 2]);
  await blocked;
  assert.deepEqual(ch.drain(), [3]);
});

Deno.test("channel: several blocked senders get in one at a time, in the order they waited", async () => {
  const ch = new Channel<string>(1);
  ch.trySend("first");
  const sends = [ch.send("a"), ch.send("b"), ch.send("c")];
  const got: string[] = [];
  for (let i = 0; i < 4; i++) {
    const item = await ch.receive();
    assert.ok(item !== undefined);
    got.push(item);
    assert.ok(ch.length <= ch.capacity);
  }
  await Promise.all(sends);
  assert.deepEqual(got, ["first", "a", "b", "c"]);
});

Deno.test("channel: drain takes everything queued without waiting", async () => {
  const ch = new Channel<number>(8);
  assert.deepEqual(ch.drain(), []);
  for (let i = 1; i <= 5; i++) ch.trySend(i);
  assert.equal(await ch.receive(), 1); // head moves: drain must return only the rest
  assert.deepEqual(ch.drain(), [2, 3, 4, 5]);
  assert.equal(ch.length, 0);
  assert.deepEqual(ch.drain(), []);
  ch.trySend(6);
  assert.deepEqual(ch.drain(), [6]);
});

Deno.test("channel: order survives many receives (queue compaction)", async () => {
  const ch = new Channel<number>(10_000);
  let next = 0;
  let expected = 0;
  for (; next < 3000; next++) ch.trySend(next);
  for (let i = 0; i < 2000; i++) assert.equal(await ch.receive(), expected++);
  for (; next < 4000; next++) ch.trySend(next);
  for (let i = 0; i < 1500; i++) assert.equal(await ch.receive(), expected++);
  const rest = ch.drain();
  assert.equal(rest.length, 4000 - 3500);
  assert.deepEqual(rest, Array.from({ length: 500 }, (_, i) => 3500 + i));
});

Deno.test("channel: batches() yields everything queued at each wakeup", async () => {
  const ch = new Channel<number>(16);
  const it = ch.batches()[Symbol.asyncIterator]();
  ch.trySend(1);
  ch.trySend(2);
  ch.trySend(3);
  assert.deepEqual(await it.next(), { done: false, value: [1, 2, 3] });

  // Nothing queued: the next batch waits for the next send.
  const pending = it.next();
  const state = track(pending);
  await settle();
  assert.equal(state.done, false);
  ch.trySend(4);
  assert.deepEqual(await pending, { done: false, value: [4] });

  // Items sent before the consumer comes back all arrive in one batch.
  ch.trySend(5);
  ch.trySend(6);
  assert.deepEqual(await it.next(), { done: false, value: [5, 6] });

  ch.trySend(7);
  ch.close();
  assert.deepEqual(await it.next(), { done: false, value: [7] });
  assert.deepEqual(await it.next(), { done: true, value: undefined });
});

Deno.test("channel: batches() on a channel closed while waiting ends", async () => {
  const ch = new Channel<number>(4);
  const it = ch.batches()[Symbol.asyncIterator]();
  const pending = it.next();
  ch.close();
  assert.deepEqual(await pending, { done: true, value: undefined });
});

Deno.test("channel: close keeps queued items receivable, then iteration ends", async () => {
  const ch = new Channel<number>(4);
  ch.trySend(1);
  ch.trySend(2);
  ch.close();
  ch.close(); // idempotent
  assert.equal(ch.length, 2);
  const got: number[] = [];
  for await (const x of ch) got.push(x);
  assert.deepEqual(got, [1, 2]);
  assert.equal(await ch.receive(), undefined);
});

Deno.test("channel: close wakes a waiting receiver with undefined", async () => {
  const ch = new Channel<number>(4);
  const pending = ch.receive();
  ch.close();
  assert.equal(await pending, undefined);
});

Deno.test("channel: for-await consumer sees items sent while it runs, then the end", async () => {
  const ch = new Channel<number>(2);
  const consumer = (async () => {
    const got: number[] = [];
    for await (const x of ch) got.push(x);
    return got;
  })();
  for (let i = 0; i < 10; i++) await ch.send(i); // capacity 2: exercises backpressure too
  ch.close();
  assert.deepEqual(await consumer, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

Deno.test("channel: send on a closed channel rejects with ChannelClosedError", async () => {
  const ch = new Channel<number>(4, "udp.rx");
  ch.close();
  await assert.rejects(ch.send(1), (e: unknown) => {
    assert.ok(e instanceof ChannelClosedError);
    assert.equal(e.name, "ChannelClosedError");
    assert.equal(e.message, "Cannot send: channel udp.rx is closed");
    return true;
  });
  assert.equal(ch.length, 0);
  assert.equal(ch.drops, 0, "a rejected send is not a counted drop");
});

Deno.test("channel: a sender blocked on a full channel rejects when the channel closes", async () => {
  const ch = new Channel<number>(1, "tx");
  ch.trySend(1);
  const blocked = ch.send(2);
  ch.close();
  await assert.rejects(blocked, ChannelClosedError);
  // The item queued before close is still there; the blocked one never got in.
  assert.deepEqual(ch.drain(), [1]);
});

Deno.test("channel: receiveBatch takes everything queued, waits when empty, ends after close", async () => {
  const ch = new Channel<number>(8, "batch");
  ch.trySend(1);
  ch.trySend(2);
  assert.deepEqual(await ch.receiveBatch(), [1, 2]);
  const waiting = ch.receiveBatch();
  ch.trySend(3);
  assert.deepEqual(await waiting, [3]);
  ch.trySend(4);
  ch.close();
  assert.deepEqual(await ch.receiveBatch(), [4], "queued items survive close");
  assert.equal(await ch.receiveBatch(), undefined);
});

Deno.test("channel: a waiting receiveBatch gets the first item at once, the rest of the turn next", async () => {
  const ch = new Channel<number>(8, "handoff");
  const waiting = ch.receiveBatch();
  ch.trySend(1); // straight to the waiting receiver
  ch.trySend(2);
  await ch.send(3);
  assert.equal(ch.length, 2, "only the items after the hand-off are queued");
  assert.deepEqual(await waiting, [1]);
  assert.deepEqual(await ch.receiveBatch(), [2, 3], "in order, in one batch");
  const closed = ch.receiveBatch();
  ch.close();
  assert.equal(await closed, undefined, "close ends a waiting receiveBatch");
  assert.equal(ch.trySend(4), false);
});
