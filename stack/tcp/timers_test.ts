import assert from "node:assert/strict";
import { ManualClock } from "../clock.ts";
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
