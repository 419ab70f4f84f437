import assert from "node:assert/strict";
import { TurnEnd } from "./turn_end.ts";

/** A scheduler the test runs by hand. */
function manualScheduler() {
  const scheduled: (() => void)[] = [];
  return {
    scheduled,
    schedule: (callback: () => void) => void scheduled.push(callback),
    fire: () => scheduled.splice(0).forEach((callback) => callback()),
  };
}

Deno.test("turn end: tasks of one turn run together, in order, at one scheduled run", () => {
  const scheduler = manualScheduler();
  const turnEnd = new TurnEnd(scheduler.schedule);
  const order: string[] = [];
  turnEnd.defer(() => order.push("a"));
  turnEnd.defer(() => order.push("b"));
  assert.equal(scheduler.scheduled.length, 1, "the first task of the turn schedules the run");
  assert.deepEqual(order, [], "nothing runs before the turn ends");
  assert.equal(turnEnd.pending, 2);
  scheduler.fire();
  assert.deepEqual(order, ["a", "b"]);
  assert.equal(turnEnd.pending, 0);
});

Deno.test("turn end: a run by the link comes first; the scheduled run then finds nothing", () => {
  const scheduler = manualScheduler();
  const turnEnd = new TurnEnd(scheduler.schedule);
  let runs = 0;
  turnEnd.defer(() => runs++);
  turnEnd.run(); // the link's hook, before it spins or waits
  assert.equal(runs, 1);
  // Work deferred after the early run still has the pending scheduled run: no second schedule.
  turnEnd.defer(() => runs++);
  assert.equal(scheduler.scheduled.length, 1);
  scheduler.fire();
  assert.equal(runs, 2);
  scheduler.fire();
  assert.equal(runs, 2, "each task runs once");
  // The next turn schedules again.
  turnEnd.defer(() => runs++);
  assert.equal(scheduler.scheduled.length, 1);
});

Deno.test("turn end: tasks deferred while running wait for the next run", () => {
  const scheduler = manualScheduler();
  const turnEnd = new TurnEnd(scheduler.schedule);
  const order: string[] = [];
  turnEnd.defer(() => {
    order.push("first");
    turnEnd.defer(() => order.push("later"));
  });
  turnEnd.run();
  assert.deepEqual(order, ["first"]);
  turnEnd.run();
  assert.deepEqual(order, ["first", "later"]);
});

Deno.test("turn end: a throwing task does not keep the others from running", () => {
  const turnEnd = new TurnEnd(() => {});
  const ran: string[] = [];
  turnEnd.defer(() => {
    throw new Error("first");
  });
  turnEnd.defer(() => ran.push("second"));
  turnEnd.defer(() => {
    throw new Error("third");
  });
  assert.throws(() => turnEnd.run(), { message: "first" });
  assert.deepEqual(ran, ["second"]);
  assert.equal(turnEnd.pending, 0);
});

Deno.test("turn end: the default scheduler runs the tasks at the next macrotask", async () => {
  const turnEnd = new TurnEnd();
  let ran = false;
  turnEnd.defer(() => ran = true);
  await Promise.resolve();
  assert.equal(ran, false, "not at a microtask");
  await new Promise((resolve) => setImmediate(resolve)); // queued after it
  assert.equal(ran, true);
});
