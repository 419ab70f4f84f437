import assert from "node:assert/strict";
import { readU16, readU32, writeU16, writeU32 } from "./bytes.ts";
import { hex } from "../../tests/helpers/bytes.ts";

// An IPv4 header (a UDP datagram from 192.168.0.1 to 192.168.0.199), the worked example of the
// Internet checksum that is widely quoted.
const HEADER = hex("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7");

Deno.test("bytes: reads network-order fields of a real IPv4 header", () => {
  assert.equal(readU16(HEADER, 2), 0x0073); // total length 115
  assert.equal(readU16(HEADER, 6), 0x4000); // DF
  assert.equal(readU16(HEADER, 10), 0xb861); // checksum
  assert.equal(readU32(HEADER, 12), 0xc0a80001); // 192.168.0.1, unsigned
  assert.equal(readU32(HEADER, 16), 0xc0a800c7);
});

Deno.test("bytes: writes reproduce the header, taking values modulo the field size", () => {
  const out = new Uint8Array(20);
  out[0] = 0x45;
  writeU16(out, 2, 0x0073);
  writeU16(out, 6, 0x4000);
  out[8] = 0x40;
  out[9] = 0x11;
  writeU16(out, 10, 0xb861);
  writeU32(out, 12, 0xc0a80001);
  writeU32(out, 16, 0xc0a800c7);
  assert.deepEqual(out, HEADER);
  writeU16(out, 0, 0x1_0203); // modulo 2^16, as DataView.setUint16
  assert.deepEqual([out[0], out[1]], [0x02, 0x03]);
  writeU16(out, 0, -1);
  assert.equal(readU16(out, 0), 0xffff);
  writeU32(out, 0, 2 ** 32 + 5);
  assert.equal(readU32(out, 0), 5);
});

Deno.test("bytes: agrees with DataView at every offset", () => {
  const bytes = Uint8Array.from({ length: 64 }, (_, i) => (i * 97 + 13) & 0xff);
  const view = new DataView(bytes.buffer);
  for (let offset = 0; offset + 4 <= bytes.length; offset++) {
    assert.equal(readU16(bytes, offset), view.getUint16(offset));
    assert.equal(readU32(bytes, offset), view.getUint32(offset));
  }
});
