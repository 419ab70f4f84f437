import assert from "node:assert/strict";
import { SendBuffer } from "./send_buffer.ts";

Deno.test("send buffer: write, read, consume across the wrap", () => {
  const buf = new SendBuffer(8);
  assert.equal(buf.write(new Uint8Array([1, 2, 3, 4, 5, 6])), 6);
  assert.equal(buf.free, 2);
  buf.consume(4);
  assert.equal(buf.length, 2);
  // Only 6 fit: 2 held + 6 = 8.
  assert.equal(buf.write(new Uint8Array([7, 8, 9, 10, 11, 12, 13])), 6);
  assert.deepEqual([...buf.read(0, 8)], [5, 6, 7, 8, 9, 10, 11, 12]);
  assert.deepEqual([...buf.read(3, 3)], [8, 9, 10]);
  assert.throws(() => buf.read(6, 3), RangeError);
  buf.consume(100);
  assert.equal(buf.length, 0);
  assert.equal(buf.free, 8);
});

Deno.test("send buffer: peek returns a view when contiguous, a copy across the wrap", () => {
  const buf = new SendBuffer(8);
  buf.write(new Uint8Array([1, 2, 3, 4, 5, 6]));
  buf.consume(5);
  buf.write(new Uint8Array([7, 8, 9, 10]));
  // Ring: [9, 10, _, _, _, 6, 7, 8]; held: 6 7 8 9 10.
  const view = buf.peek(0, 3);
  assert.deepEqual([...view], [6, 7, 8]);
  assert.equal(view.buffer.byteLength, 8, "a view of the ring");
  const copy = buf.peek(1, 4);
  assert.deepEqual([...copy], [7, 8, 9, 10]);
  assert.equal(copy.buffer.byteLength, 4, "a copy");
});

Deno.test("send buffer: grows on demand up to its capacity, keeping order across the wrap", () => {
  const buf = new SendBuffer(100, 8);
  assert.equal(buf.allocatedBytes, 0, "nothing until data arrives");
  buf.write(new Uint8Array([1, 2, 3, 4, 5, 6]));
  assert.equal(buf.allocatedBytes, 8);
  buf.consume(4); // start moves to 4: the next write wraps
  buf.write(new Uint8Array([7, 8, 9, 10, 11]));
  assert.equal(buf.allocatedBytes, 8);
  assert.deepEqual([...buf.read(0, 7)], [5, 6, 7, 8, 9, 10, 11]);
  // 7 held + 20 more needs 27: 8 -> 16 -> 32.
  assert.equal(buf.write(new Uint8Array(20).fill(12)), 20);
  assert.equal(buf.allocatedBytes, 32);
  assert.deepEqual([...buf.read(0, 8)], [5, 6, 7, 8, 9, 10, 11, 12]);
  // Never beyond the capacity.
  assert.equal(buf.write(new Uint8Array(200)), 73);
  assert.equal(buf.allocatedBytes, 100);
  assert.equal(buf.free, 0);
  assert.deepEqual([...buf.read(0, 3)], [5, 6, 7]);
});

Deno.test("send buffer: releases its memory once everything is acknowledged", () => {
  const buf = new SendBuffer(100, 8);
  buf.write(new Uint8Array(30));
  assert.equal(buf.allocatedBytes, 32);
  buf.consume(10);
  assert.equal(buf.allocatedBytes, 32, "still holding 20 bytes");
  buf.consume(20);
  assert.equal(buf.length, 0);
  assert.equal(buf.allocatedBytes, 0);
  buf.write(new Uint8Array([1, 2, 3]));
  assert.deepEqual([...buf.read(0, 3)], [1, 2, 3]);
});

Deno.test("send buffer: a small first write takes a small ring by default", () => {
  const buf = new SendBuffer(256 * 1024);
  buf.write(new Uint8Array(32).fill(1));
  assert.equal(buf.allocatedBytes, 64);
  // A large first write takes the power of two that holds it, in one allocation.
  const bulk = new SendBuffer(256 * 1024);
  bulk.write(new Uint8Array(65536));
  assert.equal(bulk.allocatedBytes, 65536);
});
