import assert from "node:assert/strict";
import { effectiveSendMss, mssForMtu, windowShiftFor } from "./options.ts";

Deno.test("options: MSS from MTU (RFC 9293 §3.7.1)", () => {
  assert.equal(mssForMtu(1500), 1460);
  assert.equal(mssForMtu(9000), 8960);
  assert.equal(mssForMtu(300), 536);
  assert.equal(mssForMtu(100_000), 65535);
});

Deno.test("options: window shift for a buffer (RFC 7323 §2.2)", () => {
  assert.equal(windowShiftFor(65535), 0);
  assert.equal(windowShiftFor(65536), 1);
  assert.equal(windowShiftFor(262_144), 3);
  assert.equal(windowShiftFor(2 ** 40), 14);
});

Deno.test("options: effective MSS subtracts per-segment options (RFC 6691)", () => {
  assert.equal(effectiveSendMss(1460, 1460, 12), 1448);
  assert.equal(effectiveSendMss(536, 1460, 0), 536);
});
