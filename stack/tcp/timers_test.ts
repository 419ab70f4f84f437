import assert from "node:assert/strict";
import { ManualClock, SeededRandom } from "../clock.ts";
import { TimerQueue } from "./timers.ts";

Deno.test("timers: fire in deadline order through one clock timer", () => {
  const clock = new ManualClock();
  const fired: [string, number][] = [];
  const q = new TimerQueue<string>(clock, (key, now) => fired.push([key, now]));
  q.set("c", 300);
  q.set("a", 100);
  q.set("b", 200);
  assert.equal(clock.pendingTimers, 1);
  clock.advance(250);
  assert.deepEqual(fired, [["a", 100], ["b", 200]]);
  clock.advance(100);
  assert.deepEqual(fired, [["a", 100], ["b", 200], ["c", 300]]);
  assert.equal(q.size, 0);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("timers: rescheduling and clearing supersede old entries", () => {
  const clock = new ManualClock();
  const fired: [string, number][] = [];
  const q = new TimerQueue<string>(clock, (key, now) => fired.push([key, now]));
  q.set("a", 100);
  q.set("a", 500);
  q.set("b", 50);
  q.set("b", undefined);
  clock.advance(400);
  assert.deepEqual(fired, []);
  assert.equal(q.deadlineOf("a"), 500);
  clock.advance(100);
  assert.deepEqual(fired, [["a", 500]]);
});

Deno.test("timers: a callback may set new deadlines, including past ones", () => {
  const clock = new ManualClock();
  const fired: number[] = [];
  const q = new TimerQueue<string>(clock, (_key, now) => {
    fired.push(now);
    if (fired.length < 3) q.set("a", now + 10);
  });
  q.set("a", 10);
  clock.advance(100);
  assert.deepEqual(fired, [10, 20, 30]);
  q.close();
  q.set("a", 200);
  clock.advance(200);
  assert.deepEqual(fired, [10, 20, 30]);
});

Deno.test("timers: cleared and moved deadlines leave no entries behind", () => {
  const clock = new ManualClock();
  const fired: number[] = [];
  const q = new TimerQueue<number>(clock, (key) => fired.push(key));
  // As a busy server's recycled TIME-WAIT connections do: far deadlines, then cleared.
  for (let key = 0; key < 10_000; key++) q.set(key, 60_000 + key);
  for (let key = 0; key < 10_000; key++) q.set(key, key % 2 === 0 ? undefined : 30_000 - key);
  assert.equal(q.size, 5_000);
  for (let key = 1; key < 10_000; key += 2) q.set(key, undefined);
  assert.equal(q.size, 0);
  q.set(-1, 10);
  assert.equal(q.size, 1);
  clock.advance(100_000);
  assert.deepEqual(fired, [-1]);
  assert.equal(q.size, 0);
});

Deno.test("timers property: random sets and clears fire like a sorted list of deadlines", () => {
  const random = new SeededRandom(7);
  for (let run = 0; run < 50; run++) {
    const clock = new ManualClock();
    const fired: [number, number][] = [];
    const q = new TimerQueue<number>(clock, (key, now) => fired.push([key, now]));
    // The model: the deadline each key should fire at.
    const model = new Map<number, number>();
    for (let op = 0; op < 300; op++) {
      const key = random.nextU32() % 40;
      if (random.nextU32() % 4 === 0) {
        q.set(key, undefined);
        model.delete(key);
      } else {
        const at = 1 + (random.nextU32() % 1000);
        q.set(key, at);
        model.set(key, at);
      }
      assert.equal(q.size, model.size);
      assert.equal(q.deadlineOf(key), model.get(key));
    }
    clock.advance(2000);
    // Distinct deadlines fire in order; equal ones in any order, so compare (at, key) pairs sorted.
    const expected = [...model].map(([key, at]) => [at, key]).sort((a, b) =>
      a[0] - b[0] || a[1] - b[1]
    );
    const actual = fired.map(([key, now]) => [model.get(key)!, key, now]);
    assert.ok(actual.every(([at, , now]) => now >= at), "nothing fires before its deadline");
    const firedAt = actual.map(([at]) => at);
    assert.deepEqual(firedAt, [...firedAt].sort((a, b) => a - b), "deadline order");
    assert.deepEqual(
      actual.map(([at, key]) => [at, key]).sort((a, b) => a[0] - b[0] || a[1] - b[1]),
      expected,
    );
    assert.equal(q.size, 0);
  }
});
