import assert from "node:assert/strict";
import {
  inWindow,
  seqAdd,
  seqDiff,
  seqGe,
  seqGt,
  seqLe,
  seqLt,
  seqMax,
  seqMin,
  seqSub,
} from "./seq.ts";

Deno.test("seq: comparisons away from the wrap point", () => {
  assert.equal(seqLt(1, 2), true);
  assert.equal(seqLt(2, 1), false);
  assert.equal(seqLe(2, 2), true);
  assert.equal(seqGt(2, 1), true);
  assert.equal(seqGe(1, 2), false);
});

Deno.test("seq: comparisons across the wrap point", () => {
  // 0xfffffff0 + 0x20 wraps to 0x10, which is therefore "after" it.
  assert.equal(seqLt(0xffff_fff0, 0x10), true);
  assert.equal(seqGt(0x10, 0xffff_fff0), true);
  assert.equal(seqLe(0xffff_ffff, 0), true);
  assert.equal(seqGe(0, 0xffff_ffff), true);
  assert.equal(seqMax(0xffff_fff0, 0x10), 0x10);
  assert.equal(seqMin(0xffff_fff0, 0x10), 0xffff_fff0);
});

Deno.test("seq: add, sub and diff wrap modulo 2^32", () => {
  assert.equal(seqAdd(0xffff_ffff, 1), 0);
  assert.equal(seqAdd(0, -1), 0xffff_ffff);
  assert.equal(seqSub(5, 0xffff_fffe), 7);
  assert.equal(seqDiff(5, 0xffff_fffe), 7);
  assert.equal(seqDiff(0xffff_fffe, 5), -7);
  // Half the space apart: the sign flips (RFC 1982 leaves it undefined; we report negative).
  assert.equal(seqDiff(0x8000_0000, 0), -0x8000_0000);
});

Deno.test("seq: inWindow is half-open and wraps", () => {
  assert.equal(inWindow(100, 100, 10), true);
  assert.equal(inWindow(109, 100, 10), true);
  assert.equal(inWindow(110, 100, 10), false);
  assert.equal(inWindow(99, 100, 10), false);
  assert.equal(inWindow(100, 100, 0), false);
  assert.equal(inWindow(3, 0xffff_fffa, 10), true);
  assert.equal(inWindow(4, 0xffff_fffa, 10), false);
});
