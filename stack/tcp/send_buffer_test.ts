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
