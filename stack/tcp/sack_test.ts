import assert from "node:assert/strict";
import { SackScoreboard } from "./sack.ts";

const MSS = 100;

Deno.test("sack: merges blocks and ignores invalid ones (RFC 2018 §5)", () => {
  const sb = new SackScoreboard();
  sb.update([{ start: 300, end: 400 }, { start: 100, end: 200 }], 0, 1000);
  sb.update([{ start: 200, end: 300 }], 0, 1000); // bridges both
  sb.update([{ start: 900, end: 1100 }], 0, 1000); // beyond SND.MAX: ignored
  sb.update([{ start: 50, end: 40 }], 0, 1000); // inverted: ignored
  assert.deepEqual(sb.blocks, [{ start: 100, end: 400 }]);
  assert.equal(sb.sackedBytes(), 300);
  sb.advance(150);
  assert.deepEqual(sb.blocks, [{ start: 150, end: 400 }]);
  sb.clear();
  assert.equal(sb.sackedBytes(), 0);
});

Deno.test("sack: IsLost and NextSeg (RFC 6675 §4)", () => {
  const sb = new SackScoreboard();
  // Segments of 100 bytes from 0; 0 and 200 lost, 100 and 300..600 SACKed.
  sb.update([{ start: 100, end: 200 }], 0, 600);
  assert.equal(sb.lossDetected(0, 3, MSS), false); // 100 bytes SACKed above: not enough
  sb.update([{ start: 300, end: 600 }], 0, 600);
  // Above 0: 400 bytes SACKed > 2*MSS -> lost. Above 200: 300 > 200 -> lost.
  assert.equal(sb.lossDetected(0, 3, MSS), true);
  assert.deepEqual(sb.nextHole(0, 0, 3, MSS), { start: 0, end: 100 });
  assert.deepEqual(sb.nextHole(100, 0, 3, MSS), { start: 200, end: 300 });
  assert.equal(sb.nextHole(300, 0, 3, MSS), undefined);
  assert.equal(sb.lostBytes(0, 3, MSS), 200);
});

Deno.test("sack: works across the sequence wrap", () => {
  const sb = new SackScoreboard();
  const una = 0xffff_ff00;
  sb.update([{ start: 0x10, end: 0x200 }], una, 0x400);
  assert.equal(sb.sackedAbove(una), 0x1f0);
  assert.deepEqual(sb.nextHole(una, una, 3, MSS), { start: una, end: 0x10 });
});
