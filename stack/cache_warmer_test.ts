import assert from "node:assert/strict";
import { CacheWarmer } from "./cache_warmer.ts";
import { ManualClock } from "./clock.ts";
import { createStackPair, settle } from "../tests/helpers/memory_stacks.ts";

/** A warmer over a manual clock and a traffic counter the test moves by hand. */
function startWarmer(): { warmer: CacheWarmer; clock: ManualClock; traffic: { frames: number } } {
  const clock = new ManualClock(1_000);
  const traffic = { frames: 0 };
  const warmer = CacheWarmer.start({
    intervalMs: 5,
    idleAfterMs: 100,
    idleCheckMs: 1000,
    activity: () => traffic.frames,
    clock,
  });
  return { warmer, clock, traffic };
}

/** Advances the clock one step at a time, letting each rehearsal echo complete. */
async function run(clock: ManualClock, stepMs: number, steps: number): Promise<void> {
  for (let i = 0; i < steps; i++) {
    clock.advance(stepMs);
    await settle();
  }
}

Deno.test("cache warmer: no traffic, no rehearsal", async () => {
  const { warmer, clock } = startWarmer();
  await run(clock, 1000, 10);
  assert.equal(warmer.warming, false);
  assert.deepEqual(warmer.stats, { echoes: 0, failures: 0 });
  await warmer.close();
});

Deno.test("cache warmer: after traffic, one echo per interval through the twins until idle", async () => {
  const { warmer, clock, traffic } = startWarmer();
  traffic.frames = 1;
  await run(clock, 1000, 1); // the idle check sees the frame
  assert.equal(warmer.warming, true);
  await run(clock, 5, 10); // ten ticks, each answered by the twin
  assert.deepEqual(warmer.stats, { echoes: 10, failures: 0 });
  await run(clock, 5, 40); // 250 ms after the frame: idle for longer than idleAfterMs
  assert.equal(warmer.warming, false);
  const echoes = warmer.stats.echoes;
  assert.equal(echoes, 100 / 5 - 1); // ticks 5..95 ms after the frame; the one at 100 is idle
  await run(clock, 5, 40);
  assert.equal(warmer.stats.echoes, echoes);
  await warmer.close();
});

Deno.test("cache warmer: steady real traffic needs no rehearsal", async () => {
  const { warmer, clock, traffic } = startWarmer();
  traffic.frames = 1;
  await run(clock, 1000, 1);
  for (let i = 0; i < 50; i++) {
    traffic.frames++;
    await run(clock, 5, 1);
  }
  assert.equal(warmer.warming, true);
  assert.equal(warmer.stats.echoes, 0);
  await warmer.close();
});

Deno.test("cache warmer: close stops the ticks and the twins", async () => {
  const { warmer, clock, traffic } = startWarmer();
  traffic.frames = 1;
  await run(clock, 1000, 1);
  await run(clock, 5, 3);
  await warmer.close();
  await warmer.close(); // idempotent
  const echoes = warmer.stats.echoes;
  await run(clock, 5, 10);
  assert.equal(warmer.stats.echoes, echoes);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("cache warmer: rejects a non-positive interval", () => {
  assert.throws(
    () =>
      CacheWarmer.start({
        intervalMs: 0,
        idleAfterMs: 1,
        activity: () => 0,
        clock: new ManualClock(),
      }),
    RangeError,
  );
});

Deno.test("cache warmer: closing during an echo counts no failure and leaves no timer", async () => {
  const { warmer, clock, traffic } = startWarmer();
  traffic.frames = 1;
  await run(clock, 1000, 1);
  clock.advance(5); // starts an echo; its reply needs a few microtasks
  const closing = warmer.close();
  await settle();
  await closing;
  assert.equal(warmer.stats.failures, 0);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("cache warmer: the watched stack's counters do not move", async () => {
  await using pair = createStackPair();
  const clock = new ManualClock(1_000);
  let frames = 0;
  const warmer = CacheWarmer.start({
    intervalMs: 5,
    idleAfterMs: 100,
    activity: () => frames,
    clock,
  });
  frames = 1;
  await run(clock, 1000, 1);
  const before = JSON.stringify([pair.a.stats(), pair.b.stats()]);
  await run(clock, 5, 10);
  assert.equal(warmer.stats.echoes, 10);
  assert.equal(JSON.stringify([pair.a.stats(), pair.b.stats()]), before);
  await warmer.close();
});
