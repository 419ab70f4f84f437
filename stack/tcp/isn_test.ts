import assert from "node:assert/strict";
import { SeededRandom } from "../clock.ts";
import { seqSub } from "../wire/seq.ts";
import { IsnGenerator } from "./isn.ts";

Deno.test("isn: same tuple advances with the 4 µs clock (RFC 6528 §3)", () => {
  const gen = new IsnGenerator(new SeededRandom(1));
  const a = gen.isn(0, 1, 1000, 2, 80);
  const b = gen.isn(1000, 1, 1000, 2, 80);
  assert.equal(seqSub(b, a), 250_000);
});

Deno.test("isn: depends on every tuple field and on the key", () => {
  const gen = new IsnGenerator(new SeededRandom(1));
  const base = gen.hash(1, 1000, 2, 80);
  const variants = [
    gen.hash(3, 1000, 2, 80),
    gen.hash(1, 1001, 2, 80),
    gen.hash(1, 1000, 4, 80),
    gen.hash(1, 1000, 2, 81),
    new IsnGenerator(new SeededRandom(2)).hash(1, 1000, 2, 80),
  ];
  for (const v of variants) assert.notEqual(v, base);
  assert.equal(new Set(variants).size, variants.length);
  // Deterministic for a given key.
  assert.equal(new IsnGenerator(new SeededRandom(1)).hash(1, 1000, 2, 80), base);
});
