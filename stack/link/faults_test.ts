import assert from "node:assert/strict";
import { type Random, SeededRandom } from "../clock.ts";
import { type FaultOptions, FaultyLink, validateFaultOptions } from "./faults.ts";
import type { LinkDevice } from "./link.ts";
import { createMemoryLinkPair } from "./memory.ts";

/** A Random that returns exactly the given values, so each fault decision is chosen by the test. */
class ScriptedRandom implements Random {
  readonly #values: number[];
  constructor(values: number[]) {
    this.#values = [...values];
  }
  nextU32(): number {
    const v = this.#values.shift();
    if (v === undefined) throw new Error("ScriptedRandom: more draws than scripted");
    return v;
  }
  get remaining(): number {
    return this.#values.length;
  }
}

// A draw of 0 is below any p > 0 (the fault happens); the largest u32 is above any p < 1.
const YES = 0;
const NO = 0xffff_ffff;

/** Every frame `link` yields until its receive iteration ends, batches flattened. */
async function collect(link: LinkDevice): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = [];
  for await (const batch of link.receive()) frames.push(...batch);
  return frames;
}

/** Writes one-byte frames with the given values through `link`; returns write's results. */
function writeAll(link: LinkDevice, values: number[]): boolean[] {
  return values.map((v) => link.write(Uint8Array.of(v)));
}

const firstBytes = (frames: Uint8Array[]) => frames.map((f) => f[0]);

Deno.test("faults: validateFaultOptions accepts probabilities from 0 to 1", () => {
  validateFaultOptions({});
  validateFaultOptions({ drop: 0, duplicate: 1, reorder: 0.5, corrupt: undefined });
});

Deno.test("faults: validateFaultOptions rejects anything else, naming the option", () => {
  const bad: [FaultOptions, RegExp][] = [
    [{ drop: 1.5 }, /drop.*1\.5/],
    [{ duplicate: -0.1 }, /duplicate.*-0\.1/],
    [{ reorder: Number.NaN }, /reorder.*NaN/],
    [{ corrupt: Infinity }, /corrupt.*Infinity/],
    [{ drop: "0.5" as unknown as number }, /drop/],
  ];
  for (const [options, message] of bad) {
    assert.throws(() => validateFaultOptions(options), (e: unknown) => {
      assert.ok(e instanceof RangeError);
      assert.match(e.message, message);
      return true;
    });
  }
  const [a] = createMemoryLinkPair();
  assert.throws(() => new FaultyLink(a, { drop: 2 }, new SeededRandom(1)), RangeError);
});

Deno.test("faults: name, mtu and stats are the wrapped device's", () => {
  const [a] = createMemoryLinkPair({ mtu: 1400 });
  const faulty = new FaultyLink(a, {}, new SeededRandom(1));
  assert.equal(faulty.name, a.name);
  assert.equal(faulty.mtu, 1400);
  assert.equal(faulty.stats, a.stats);
});

Deno.test("faults: no faults configured passes frames through and draws no randomness", async () => {
  const [a, b] = createMemoryLinkPair();
  const random = new ScriptedRandom([]);
  const faulty = new FaultyLink(a, { drop: 0, duplicate: 0 }, random);
  assert.deepEqual(writeAll(faulty, [1, 2, 3]), [true, true, true]);
  await b.close();
  assert.deepEqual(firstBytes(await collect(b)), [1, 2, 3]);
  assert.deepEqual(faulty.faults, { dropped: 0, duplicated: 0, reordered: 0, corrupted: 0 });
});

Deno.test("faults: drop loses exactly the frames whose draw falls below p", async () => {
  const [a, b] = createMemoryLinkPair();
  const random = new ScriptedRandom([YES, NO, YES, NO]);
  const faulty = new FaultyLink(a, { drop: 0.5 }, random);
  // Injected loss looks like loss on the wire: write still reports success.
  assert.deepEqual(writeAll(faulty, [1, 2, 3, 4]), [true, true, true, true]);
  assert.equal(random.remaining, 0);
  assert.equal(faulty.faults.dropped, 2);
  assert.equal(a.stats.txFrames, 2);
  await b.close();
  assert.deepEqual(firstBytes(await collect(b)), [2, 4]);
});

Deno.test("faults: the threshold compares draw / 2^32 with p", async () => {
  const [a, b] = createMemoryLinkPair();
  // p = 0.25: 0x3fffffff / 2^32 is just below 0.25 (drop), 0x40000000 / 2^32 is exactly 0.25 (keep).
  const random = new ScriptedRandom([0x3fff_ffff, 0x4000_0000]);
  const faulty = new FaultyLink(a, { drop: 0.25 }, random);
  writeAll(faulty, [1, 2]);
  await b.close();
  assert.deepEqual(firstBytes(await collect(b)), [2]);
});

Deno.test("faults: duplicate delivers a second, separate copy right after the frame", async () => {
  const [a, b] = createMemoryLinkPair();
  const random = new ScriptedRandom([YES, NO]);
  const faulty = new FaultyLink(b, { duplicate: 0.5 }, random);
  a.write(Uint8Array.of(1));
  a.write(Uint8Array.of(2));
  await faulty.close();
  const frames = await collect(faulty);
  assert.deepEqual(firstBytes(frames), [1, 1, 2]);
  assert.notEqual(frames[0], frames[1], "the copy must not share the original's buffer");
  frames[0][0] = 0xff;
  assert.equal(frames[1][0], 1);
  assert.equal(faulty.faults.duplicated, 1);
});

Deno.test("faults: reorder holds a frame back and delivers it after the next one", async () => {
  const [a, b] = createMemoryLinkPair();
  const faulty = new FaultyLink(b, { reorder: 1 }, new SeededRandom(3));
  for (let i = 1; i <= 5; i++) a.write(Uint8Array.of(i));
  await faulty.close();
  // 1 held, 2 passes it; 3 held, 4 passes it; 5 held until the stream ends.
  assert.deepEqual(firstBytes(await collect(faulty)), [2, 1, 4, 3, 5]);
  assert.equal(faulty.faults.reordered, 3);
});

Deno.test("faults: reorder on transmit swaps consecutive writes", async () => {
  const [a, b] = createMemoryLinkPair();
  const faulty = new FaultyLink(a, { reorder: 1 }, new SeededRandom(3));
  assert.deepEqual(writeAll(faulty, [1, 2, 3, 4]), [true, true, true, true]);
  await b.close();
  assert.deepEqual(firstBytes(await collect(b)), [2, 1, 4, 3]);
  assert.equal(faulty.faults.reordered, 2);
});

Deno.test("faults: corrupt flips one byte, at the drawn position, by a non-zero mask", async () => {
  const [a, b] = createMemoryLinkPair();
  // Frame 1: corrupt yes, position 13 % 10 = 3, mask 1 + (254 % 255) = 0xff. Frame 2: no.
  const random = new ScriptedRandom([YES, 13, 254, NO]);
  const faulty = new FaultyLink(a, { corrupt: 0.5 }, random);
  const original = Uint8Array.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
  faulty.write(original);
  faulty.write(original);
  assert.deepEqual(original, Uint8Array.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), "caller's buffer intact");
  await b.close();
  const frames = await collect(b);
  assert.deepEqual(frames, [
    Uint8Array.of(0, 1, 2, 0xfc, 4, 5, 6, 7, 8, 9),
    Uint8Array.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
  ]);
  assert.equal(faulty.faults.corrupted, 1);
});

Deno.test("faults: corrupting an empty frame is a no-op and not counted", async () => {
  const [a, b] = createMemoryLinkPair();
  const random = new ScriptedRandom([YES]);
  const faulty = new FaultyLink(a, { corrupt: 1 }, random);
  faulty.write(new Uint8Array(0));
  await b.close();
  assert.deepEqual(await collect(b), [new Uint8Array(0)]);
  assert.equal(faulty.faults.corrupted, 0);
});

Deno.test("faults: combined faults are decided drop, corrupt, reorder, duplicate", async () => {
  const [a, b] = createMemoryLinkPair();
  const random = new ScriptedRandom([
    // 0xa0: kept, not corrupted, held back.
    NO,
    NO,
    YES,
    // 0xb0: kept, corrupted at 0 with mask 1 (no reorder draw while one is held), duplicated.
    NO,
    YES,
    0,
    0,
    YES,
    // 0xc0: dropped (no further draws).
    YES,
    // 0xd0: passes untouched.
    NO,
    NO,
    NO,
    NO,
  ]);
  const faulty = new FaultyLink(
    b,
    { drop: 0.5, duplicate: 0.5, reorder: 0.5, corrupt: 0.5 },
    random,
  );
  for (const v of [0xa0, 0xb0, 0xc0, 0xd0]) a.write(Uint8Array.of(v));
  await faulty.close();
  assert.deepEqual(firstBytes(await collect(faulty)), [0xb1, 0xb1, 0xa0, 0xd0]);
  assert.equal(random.remaining, 0);
  assert.deepEqual(faulty.faults, { dropped: 1, duplicated: 1, reordered: 1, corrupted: 1 });
});

Deno.test("faults: write reports failure when the wrapped device refuses the frame", async () => {
  const [a, b] = createMemoryLinkPair();
  const faulty = new FaultyLink(a, { duplicate: 1 }, new SeededRandom(1));
  await b.close();
  assert.equal(faulty.write(Uint8Array.of(1)), false);
  assert.equal(a.stats.txDrops, 2, "the frame and its duplicate");
});

const STAT_FRAMES = 20_000;
const STAT_OPTIONS = { drop: 0.1, duplicate: 0.05, reorder: 0.05, corrupt: 0.02 };

/** Frame `id`: the id three times (bytes 0-11), then 4 bytes derived from it. */
function makeFrame(id: number): Uint8Array {
  const frame = new Uint8Array(16);
  const view = new DataView(frame.buffer);
  for (const at of [0, 4, 8]) view.setUint32(at, id);
  for (let i = 12; i < 16; i++) frame[i] = (id * 7 + i) & 0xff;
  return frame;
}

/** The id of a frame with at most one corrupted byte: two of the three copies still agree. */
function frameId(frame: Uint8Array): number {
  const view = new DataView(frame.buffer, frame.byteOffset);
  const [x, y, z] = [view.getUint32(0), view.getUint32(4), view.getUint32(8)];
  return x === y || x === z ? x : y;
}

async function runSeeded(seed: number): Promise<{ frames: Uint8Array[]; faulty: FaultyLink }> {
  const [a, b] = createMemoryLinkPair({ queueFrames: STAT_FRAMES + 1 });
  const faulty = new FaultyLink(b, STAT_OPTIONS, new SeededRandom(seed));
  for (let id = 0; id < STAT_FRAMES; id++) assert.equal(a.write(makeFrame(id)), true);
  await faulty.close();
  return { frames: await collect(faulty), faulty };
}

Deno.test("faults: seeded run delivers exactly what the counters say, at about the set rates", async () => {
  const { frames, faulty } = await runSeeded(42);
  const { dropped, duplicated, reordered, corrupted } = faulty.faults;

  const seen = new Set<number>();
  const corruptedIds = new Set<number>();
  let late = 0;
  let highest = -1;
  for (const frame of frames) {
    assert.equal(frame.length, 16);
    const id = frameId(frame);
    assert.ok(id >= 0 && id < STAT_FRAMES, `id ${id}`);
    const expected = makeFrame(id);
    let diff = 0;
    for (let i = 0; i < 16; i++) if (frame[i] !== expected[i]) diff++;
    assert.ok(diff <= 1, `frame ${id} differs in ${diff} bytes`);
    if (diff === 1) corruptedIds.add(id);
    if (!seen.has(id) && id < highest) late++;
    seen.add(id);
    highest = Math.max(highest, id);
  }

  // Conservation: every count is reflected exactly in what came out.
  assert.equal(seen.size, STAT_FRAMES - dropped, "distinct frames = sent - dropped");
  assert.equal(frames.length, STAT_FRAMES - dropped + duplicated, "copies = distinct + dups");
  assert.equal(corruptedIds.size, corrupted, "frames with one flipped byte");
  assert.equal(late, reordered, "frames first seen after a later one");

  // Rates: each fault applies to the frames still eligible for it.
  const kept = STAT_FRAMES - dropped;
  const within = (x: number, lo: number, hi: number, what: string) =>
    assert.ok(x >= lo && x <= hi, `${what} rate ${x} not in [${lo}, ${hi}]`);
  within(dropped / STAT_FRAMES, 0.09, 0.11, "drop");
  within(corrupted / kept, 0.015, 0.025, "corrupt");
  within(reordered / kept, 0.04, 0.06, "reorder"); // slightly under 5%: none while one is held
  within(duplicated / (kept - reordered), 0.04, 0.06, "duplicate");
});

Deno.test("faults: the same seed injects the same faults; another seed does not", async () => {
  const first = await runSeeded(7);
  const again = await runSeeded(7);
  const other = await runSeeded(8);
  assert.deepEqual(again.faulty.faults, first.faulty.faults);
  assert.deepEqual(again.frames, first.frames);
  assert.notDeepEqual(other.frames, first.frames);
});

Deno.test({
  name: "faults: a frame held back on transmit is delivered or counted at close",
  async fn() {
    const [a, b] = createMemoryLinkPair();
    const faulty = new FaultyLink(a, { reorder: 1 }, new SeededRandom(1));
    faulty.write(Uint8Array.of(1));
    await faulty.close();
    await b.close();
    const delivered = (await collect(b)).length;
    assert.equal(delivered + faulty.faults.dropped, 1);
  },
});
