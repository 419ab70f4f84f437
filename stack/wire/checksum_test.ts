import assert from "node:assert/strict";
import { hex } from "../../tests/helpers/bytes.ts";
import {
  finishChecksum,
  internetChecksum,
  pseudoHeaderSum,
  sumWords,
  updateChecksum,
  WORD_LOOP_MIN_BYTES,
} from "./checksum.ts";

Deno.test("checksum: the RFC 1071 §3 example", () => {
  // Bytes 00 01 f2 03 f4 f5 f6 f7: the words sum to 0x2ddf0, which folds to 0xddf2.
  const data = Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
  assert.equal(sumWords(data), 0x2ddf0);
  assert.equal(finishChecksum(sumWords(data)), 0x220d);
  assert.equal(internetChecksum(data), 0x220d);
});

Deno.test("checksum: odd lengths pad the last byte with zero (RFC 1071 §4.1)", () => {
  assert.equal(internetChecksum(new Uint8Array(0)), 0xffff);
  assert.equal(internetChecksum(Uint8Array.of(0x01)), 0xfeff); // ~0x0100
  assert.equal(internetChecksum(Uint8Array.of(0x00, 0x01, 0xf2)), 0x0dfe); // ~(0x0001 + 0xf200)
  // 0001 + f203 + f400 = 0x1e604 -> 0xe605 -> 0x19fa
  assert.equal(internetChecksum(Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4)), 0x19fa);
  // 0001 + f203 + f4f5 + f600 = 0x2dcf9 -> 0xdcfb -> 0x2304
  assert.equal(internetChecksum(Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6)), 0x2304);
});

Deno.test("checksum: every length and byte offset agrees with a plain 16-bit sum", () => {
  // Lengths on both sides of the switch to 32-bit loads, at every offset within a word.
  const data = Uint8Array.from(
    { length: 2 * WORD_LOOP_MIN_BYTES + 8 },
    (_, i) => (i * 37 + 11) & 0xff,
  );
  for (let offset = 0; offset < 4; offset++) {
    for (let length = 0; length + offset <= data.length; length++) {
      const bytes = data.subarray(offset, offset + length);
      let reference = 0;
      for (let i = 0; i < length; i += 2) {
        reference += (bytes[i] << 8) | (i + 1 < length ? bytes[i + 1] : 0);
      }
      assert.equal(sumWords(bytes), reference, `offset ${offset} length ${length}`);
    }
  }
});

Deno.test("checksum: subarrays at odd byte offsets are read correctly", () => {
  const backing = Uint8Array.of(0xaa, 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7, 0xbb);
  assert.equal(internetChecksum(backing.subarray(1, 9)), 0x220d);
});

Deno.test("checksum: a header containing its checksum sums to zero", () => {
  const header = hex("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7");
  assert.equal(internetChecksum(header), 0);
});

Deno.test("checksum: the initial value is added in", () => {
  assert.equal(sumWords(Uint8Array.of(0x12, 0x34), 0x1_0000), 0x1_1234);
  // Carries fold back in: 0x2fffd -> 0xfffd + 2 = 0xffff -> 0; 0x10000 -> 0x0001 -> 0xfffe.
  assert.equal(finishChecksum(0x2fffd), 0);
  assert.equal(finishChecksum(0x1_0000), 0xfffe);
  // A fold that carries again: 0x1fffe -> 0xfffe + 1 = 0xffff -> 0.
  assert.equal(finishChecksum(0x1fffe), 0);
});

Deno.test("checksum: the pseudo-header sum (RFC 768)", () => {
  // 10.200.0.1 -> 10.200.0.2, UDP, length 37: 0ac8+0001+0ac8+0002+0011+0025 = 0x15c9.
  assert.equal(pseudoHeaderSum(0x0ac8_0001, 0x0ac8_0002, 17, 37), 0x15c9);
  // 255.255.255.255 twice: 4 * 0xffff + 6 + 20, left unfolded for the caller.
  assert.equal(pseudoHeaderSum(0xffff_ffff, 0xffff_ffff, 6, 20), 4 * 0xffff + 26);
});

Deno.test("checksum: RFC 1624 incremental update, -0 instead of +0", () => {
  // RFC 1624 §4: HC 0xdd2f, m 0x5555 -> m' 0x3285 gives 0x0000 by eqn. 3; we send -0 (§5).
  assert.equal(updateChecksum(0xdd2f, 0x5555, 0x3285), 0xffff);
  // An echo request captured from Linux ping, turned into the reply Linux sent (type 8 -> 0).
  assert.equal(updateChecksum(0x890c, 0x0800, 0x0000), 0x910c);
  // Agrees with recomputing from scratch.
  const data = Uint8Array.of(0x08, 0x00, 0x00, 0x00, 0x12, 0x34, 0xab, 0xcd);
  const before = internetChecksum(data);
  data[0] = 0x00;
  assert.equal(updateChecksum(before, 0x0800, 0x0000), internetChecksum(data));
});
