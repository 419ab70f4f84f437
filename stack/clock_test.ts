import assert from "node:assert/strict";
import { ManualClock, SeededRandom, systemClock, systemRandom } from "./clock.ts";

Deno.test("ManualClock: starts at the given time and moves only on advance", () => {
  assert.equal(new ManualClock().now(), 0);
  const clock = new ManualClock(5000);
  assert.equal(clock.now(), 5000);
  assert.equal(clock.now(), 5000);
  clock.advance(250);
  assert.equal(clock.now(), 5250);
  clock.advance(0.5);
  assert.equal(clock.now(), 5250.5);
});

Deno.test("ManualClock: fires timers in deadline order, now() equal to each deadline", () => {
  const clock = new ManualClock(1000);
  const fired: [string, number][] = [];
  // Scheduled out of deadline order on purpose.
  clock.setTimer(30, () => fired.push(["c", clock.now()]));
  clock.setTimer(10, () => fired.push(["a", clock.now()]));
  clock.setTimer(20, () => fired.push(["b", clock.now()]));
  assert.equal(clock.pendingTimers, 3);
  clock.advance(50);
  assert.deepEqual(fired, [["a", 1010], ["b", 1020], ["c", 1030]]);
  assert.equal(clock.now(), 1050);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("ManualClock: equal deadlines fire in the order they were set", () => {
  const clock = new ManualClock();
  const fired: number[] = [];
  for (let i = 0; i < 5; i++) clock.setTimer(7, () => fired.push(i));
  clock.advance(7);
  assert.deepEqual(fired, [0, 1, 2, 3, 4]);
});

Deno.test("ManualClock: a deadline is inclusive; later timers wait for later advances", () => {
  const clock = new ManualClock();
  const fired: [number, number][] = [];
  clock.setTimer(100, () => fired.push([100, clock.now()]));
  clock.setTimer(250, () => fired.push([250, clock.now()]));
  clock.advance(99);
  assert.deepEqual(fired, []);
  clock.advance(1);
  assert.deepEqual(fired, [[100, 100]]);
  clock.advance(149);
  assert.deepEqual(fired, [[100, 100]]);
  assert.equal(clock.pendingTimers, 1);
  clock.advance(1);
  assert.deepEqual(fired, [[100, 100], [250, 250]]);
});

Deno.test("ManualClock: one advance past several deadlines fires each once", () => {
  const clock = new ManualClock();
  let count = 0;
  const times: number[] = [];
  for (const d of [5, 15, 25, 35]) {
    clock.setTimer(d, () => {
      count++;
      times.push(clock.now());
    });
  }
  clock.advance(1000);
  assert.equal(count, 4);
  assert.deepEqual(times, [5, 15, 25, 35]);
  clock.advance(1000);
  assert.equal(count, 4, "fired timers are one-shot");
});

Deno.test("ManualClock: cancel stops a timer; cancelling a fired timer is a no-op", () => {
  const clock = new ManualClock();
  const fired: string[] = [];
  const a = clock.setTimer(10, () => fired.push("a"));
  const b = clock.setTimer(20, () => fired.push("b"));
  clock.setTimer(30, () => fired.push("c"));
  b.cancel();
  assert.equal(clock.pendingTimers, 2);
  clock.advance(15);
  assert.deepEqual(fired, ["a"]);
  a.cancel(); // already fired
  b.cancel(); // twice
  clock.advance(100);
  assert.deepEqual(fired, ["a", "c"]);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("ManualClock: a callback may cancel a later timer in the same advance", () => {
  const clock = new ManualClock();
  const fired: string[] = [];
  const later = clock.setTimer(20, () => fired.push("later"));
  clock.setTimer(10, () => {
    fired.push("first");
    later.cancel();
  });
  clock.advance(30);
  assert.deepEqual(fired, ["first"]);
});

Deno.test("ManualClock: timers set from a callback fire in the same advance when due", () => {
  const clock = new ManualClock();
  const fired: [string, number][] = [];
  clock.setTimer(10, () => {
    fired.push(["outer", clock.now()]);
    clock.setTimer(5, () => fired.push(["inner", clock.now()]));
    clock.setTimer(0, () => fired.push(["immediate", clock.now()]));
    clock.setTimer(100, () => fired.push(["beyond", clock.now()]));
  });
  clock.setTimer(12, () => fired.push(["twelve", clock.now()]));
  clock.advance(20);
  assert.deepEqual(fired, [["outer", 10], ["immediate", 10], ["twelve", 12], ["inner", 15]]);
  assert.equal(clock.now(), 20);
  assert.equal(clock.pendingTimers, 1);
  clock.advance(90);
  assert.deepEqual(fired.at(-1), ["beyond", 110]);
});

Deno.test("ManualClock: a negative delay fires at the current time", () => {
  const clock = new ManualClock(40);
  const at: number[] = [];
  clock.setTimer(-5, () => at.push(clock.now()));
  clock.advance(0);
  assert.deepEqual(at, [40]);
});

Deno.test("systemClock: now() is monotonic and setTimer(0) fires", async () => {
  const t0 = systemClock.now();
  await new Promise<void>((resolve) => systemClock.setTimer(0, resolve));
  assert.ok(systemClock.now() >= t0);
});

Deno.test("systemRandom: yields unsigned 32-bit integers, fresh across pool refills", () => {
  const seen = new Set<number>();
  // 600 draws span at least two refills of the 256-word pool.
  for (let i = 0; i < 600; i++) {
    const v = systemRandom.nextU32();
    assert.ok(Number.isInteger(v) && v >= 0 && v <= 0xffff_ffff, `${v}`);
    seen.add(v);
  }
  // Two collisions among 600 uniform 32-bit values have odds of about 1e-9; a pool handed out
  // twice would repeat 256 of them.
  assert.ok(seen.size >= 599, `${seen.size} distinct of 600`);
});

// Expected values worked out from the mulberry32 definition with exact (arbitrary-precision)
// integer arithmetic, independently of clock.ts: state += 0x6d2b79f5; t = state;
// t = (t ^ t>>15) * (t|1); t ^= t + (t ^ t>>7) * (t|61); out = t ^ t>>14, all mod 2^32.
// (Seed 0's first output as a float, / 2^32, is 0.26642920868471265.)
const MULBERRY32_VECTORS: [number, number[]][] = [
  [0, [1144304738, 1416247, 958946056, 627933444]],
  [1, [2693262067, 11749833, 2265367787, 4213581821]],
  [42, [2581720956, 1925393290, 3661312704, 2876485805]],
  [0xffff_ffff, [3850105811, 813802916, 3073704848, 4054706436]],
];

Deno.test("SeededRandom: first outputs match the mulberry32 definition", () => {
  for (const [seed, expected] of MULBERRY32_VECTORS) {
    const r = new SeededRandom(seed);
    assert.deepEqual([r.nextU32(), r.nextU32(), r.nextU32(), r.nextU32()], expected, `${seed}`);
  }
});

Deno.test("SeededRandom: the seed is taken modulo 2^32", () => {
  const a = new SeededRandom(-1);
  const b = new SeededRandom(0xffff_ffff);
  const c = new SeededRandom(2 ** 32 + 42);
  const d = new SeededRandom(42);
  for (let i = 0; i < 10; i++) {
    assert.equal(a.nextU32(), b.nextU32());
    assert.equal(c.nextU32(), d.nextU32());
  }
});

Deno.test("SeededRandom: same seed gives the same sequence, different seeds differ", () => {
  const a = new SeededRandom(1234);
  const b = new SeededRandom(1234);
  const c = new SeededRandom(1235);
  const seqA: number[] = [];
  const seqC: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const x = a.nextU32();
    assert.equal(x, b.nextU32());
    seqA.push(x);
    seqC.push(c.nextU32());
  }
  assert.notDeepEqual(seqA, seqC);
  // A 32-bit generator with 1000 draws should essentially never repeat a value.
  assert.ok(new Set(seqA).size >= 999);
});

Deno.test("SeededRandom: nextFloat is nextU32 / 2^32, in [0, 1)", () => {
  const a = new SeededRandom(0);
  // 1144304738 / 4294967296, the first seed-0 value above.
  assert.equal(a.nextFloat(), 1144304738 / 4294967296);
  const b = new SeededRandom(9);
  const c = new SeededRandom(9);
  for (let i = 0; i < 10_000; i++) {
    const f = b.nextFloat();
    assert.ok(f >= 0 && f < 1);
    assert.equal(f, c.nextU32() / 2 ** 32);
  }
});

Deno.test("SeededRandom: output is roughly uniform (buckets, mean, bit balance)", () => {
  const r = new SeededRandom(7);
  const n = 100_000;
  const buckets = new Array<number>(16).fill(0);
  const bitCounts = new Array<number>(32).fill(0);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const u = r.nextU32();
    buckets[u >>> 28]++;
    for (let bit = 0; bit < 32; bit++) if ((u >>> bit) & 1) bitCounts[bit]++;
    sum += u / 2 ** 32;
  }
  // Expected 6250 per bucket, standard deviation ~76: allow ±5% (about 4 sigma).
  for (const b of buckets) assert.ok(Math.abs(b - n / 16) < 0.05 * (n / 16), `bucket ${b}`);
  // Mean of U(0,1) is 0.5 with standard error ~0.0009.
  assert.ok(Math.abs(sum / n - 0.5) < 0.005, `mean ${sum / n}`);
  // Each bit set half the time, standard deviation ~158: allow ±1000.
  for (const c of bitCounts) assert.ok(Math.abs(c - n / 2) < 1000, `bit count ${c}`);
});
