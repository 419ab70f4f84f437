import assert from "node:assert/strict";
import { ArenaPool, releaseBytes, retainBytes } from "./arena_pool.ts";

Deno.test("an arena left in a turn comes back only from a later turn on", () => {
  const pool = new ArenaPool(64);
  pool.beginTurn();
  const first = pool.take();
  const second = pool.exchange(first);
  assert.notEqual(second, first);
  // Same turn: frames of `first` may still be on their way up.
  const third = pool.exchange(second);
  assert.notEqual(third, first);
  assert.notEqual(third, second);
  pool.beginTurn();
  // Both left in the earlier turn: either may come back; `third`, left just now, may not.
  assert.ok([first, second].includes(pool.exchange(third)));
  assert.deepEqual(pool.stats, { allocated: 3, reused: 1, forgotten: 0, trimmed: 0 });
});

Deno.test("a retained view keeps its arena out of use until released", () => {
  const pool = new ArenaPool(64);
  pool.beginTurn();
  const first = pool.take();
  const frame = first.subarray(10, 20);
  retainBytes(frame);
  retainBytes(frame.subarray(2, 4));
  let current = pool.exchange(first);
  for (let turn = 0; turn < 3; turn++) {
    pool.beginTurn();
    current = pool.exchange(current);
    assert.notEqual(current, first);
  }
  releaseBytes(frame);
  pool.beginTurn();
  assert.notEqual(pool.exchange(current), first, "one retain is still held");
  releaseBytes(frame);
  pool.beginTurn();
  // The free list hands back the most recently freed arena first; first is among them.
  const seen = new Set<Uint8Array>();
  let next = pool.take();
  for (let i = 0; i < 4; i++) {
    seen.add(next);
    next = pool.take();
  }
  assert.ok(seen.has(first));
});

Deno.test("views of other memory are ignored; extra releases do not go below zero", () => {
  const pool = new ArenaPool(64);
  const stray = new Uint8Array(8);
  retainBytes(stray);
  releaseBytes(stray);
  pool.beginTurn();
  const first = pool.take();
  releaseBytes(first); // never retained
  retainBytes(first);
  const second = pool.exchange(first);
  pool.beginTurn();
  assert.notEqual(pool.exchange(second), first, "the retain still counts");
});

Deno.test("arenas whose views are never released are forgotten after maxRetired newer ones", () => {
  const pool = new ArenaPool(64, { maxRetired: 2 });
  pool.beginTurn();
  let arena = pool.take();
  for (let i = 0; i < 5; i++) {
    retainBytes(arena);
    pool.beginTurn();
    arena = pool.exchange(arena);
  }
  assert.deepEqual(pool.stats, { allocated: 6, reused: 0, forgotten: 3, trimmed: 0 });
});

Deno.test("with poison, a reused arena reads 0xEE until written", () => {
  const pool = new ArenaPool(16, { poison: true });
  pool.beginTurn();
  const first = pool.take();
  first.fill(7);
  const second = pool.exchange(first);
  pool.beginTurn();
  const again = pool.exchange(second);
  assert.equal(again, first);
  assert.deepEqual([...again], new Array(16).fill(0xee));
});

Deno.test("trim gives free arenas back and keeps the retained ones", () => {
  const pool = new ArenaPool(64);
  pool.beginTurn();
  const first = pool.take();
  const second = pool.exchange(first);
  retainBytes(second.subarray(0, 1));
  const third = pool.exchange(second);
  pool.beginTurn();
  pool.trim(); // first is free: given back; second is retained: kept
  assert.equal(pool.stats.trimmed, 1);
  releaseBytes(second.subarray(0, 1));
  const next = pool.exchange(third);
  assert.equal(next, second, "the retained arena, released, comes back; the trimmed one does not");
  assert.equal(pool.take() === first, false);
});
