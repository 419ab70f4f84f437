import assert from "node:assert/strict";
import { RecvBuffer } from "./recv_buffer.ts";
import { ArenaPool } from "../arena_pool.ts";

const bytes = (...v: number[]) => new Uint8Array(v);

Deno.test("recv buffer: in-order reads in pieces", () => {
  const buf = new RecvBuffer(100);
  buf.pushReady(bytes(1, 2, 3));
  buf.pushReady(bytes(4, 5));
  const out = new Uint8Array(4);
  assert.equal(buf.read(out), 4);
  assert.deepEqual([...out], [1, 2, 3, 4]);
  assert.equal(buf.readyBytes, 1);
  assert.equal(buf.read(out), 1);
  assert.equal(out[0], 5);
  assert.equal(buf.read(out), 0);
});

Deno.test("recv buffer: reassembles out-of-order and overlapping segments", () => {
  const buf = new RecvBuffer(100);
  // rcvNxt = 10; hold [13,15) then [12,14) (overlaps) then [10,12).
  assert.equal(buf.hold(13, bytes(13, 14)), true);
  assert.equal(buf.hold(12, bytes(12, 13)), true);
  assert.equal(buf.heldBytes, 3);
  assert.deepEqual(buf.sackBlocks(4), [{ start: 12, end: 15 }]);
  assert.equal(buf.advance(10), 10);
  buf.pushReady(bytes(10, 11));
  assert.equal(buf.advance(12), 15);
  const out = new Uint8Array(10);
  assert.equal(buf.read(out), 5);
  assert.deepEqual([...out.subarray(0, 5)], [10, 11, 12, 13, 14]);
  assert.equal(buf.heldBytes, 0);
});

Deno.test("recv buffer: SACK blocks put the latest first (RFC 2018 §4)", () => {
  const buf = new RecvBuffer(100);
  buf.hold(20, bytes(0, 0));
  buf.hold(30, bytes(0, 0));
  buf.hold(40, bytes(0));
  buf.hold(31, bytes(0, 0)); // extends [30,32) to [30,33)
  assert.deepEqual(buf.sackBlocks(3), [
    { start: 30, end: 33 },
    { start: 20, end: 22 },
    { start: 40, end: 41 },
  ]);
  assert.deepEqual(buf.sackBlocks(1), [{ start: 30, end: 33 }]);
});

Deno.test("recv buffer: wraps around 2^32 and enforces the cap", () => {
  const buf = new RecvBuffer(4);
  assert.equal(buf.hold(0xffff_fffe, bytes(1, 2, 3)), true); // covers ...fe, ...ff, 0
  assert.equal(buf.hold(5, bytes(1, 2)), false);
  assert.equal(buf.droppedSegments, 1);
  assert.equal(buf.advance(0xffff_fffd), 0xffff_fffd);
  buf.pushReady(bytes(9));
  assert.equal(buf.advance(0xffff_fffe), 1);
  assert.equal(buf.readyBytes, 4);
});

Deno.test("recv buffer: in-order data keeps its arena retained until read; held data is copied", () => {
  const pool = new ArenaPool(64);
  pool.beginTurn();
  const arena = pool.take();
  arena.set([1, 2, 3, 4, 5, 6, 7, 8], 0);
  const buffer = new RecvBuffer(1024);
  buffer.pushReady(arena.subarray(0, 4));
  // Out of order: copied, so the arena's bytes may change without changing what is held.
  assert.equal(buffer.hold(104, arena.subarray(4, 8)), true);
  arena.fill(0, 4, 8);
  let current = pool.exchange(arena);
  pool.beginTurn();
  current = pool.exchange(current);
  assert.notEqual(current, arena, "unread in-order data retains the arena");
  const out = new Uint8Array(2);
  assert.equal(buffer.read(out), 2);
  pool.beginTurn();
  current = pool.exchange(current);
  assert.notEqual(current, arena, "half read: still retained");
  assert.equal(buffer.read(out), 2);
  assert.deepEqual([...out], [3, 4]);
  assert.equal(buffer.advance(104), 108);
  const rest = new Uint8Array(4);
  assert.equal(buffer.read(rest), 4);
  assert.deepEqual([...rest], [5, 6, 7, 8]);
  pool.beginTurn();
  const seen = [pool.exchange(current), pool.take(), pool.take()];
  assert.ok(seen.includes(arena), "read out, the arena is used again");
});
