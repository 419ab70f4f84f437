import assert from "node:assert/strict";
import fc from "fast-check";
import {
  emitTcp,
  parseTcp,
  parseTcpOptions,
  tcpChecksum,
  TcpFlags,
  type TcpOptions,
  TcpSegment,
  tcpSegmentLength,
} from "./tcp.ts";
import { hex } from "../../tests/helpers/bytes.ts";

const A = 0x0a000001; // 10.0.0.1
const B = 0x0a000002; // 10.0.0.2

// A SYN as Linux sends it, 10.0.0.1:41160 -> 10.0.0.2:80: MSS 1460, SACK-permitted,
// timestamps (TSval 0x001d4f3c), NOP, window scale 7. The checksum 0x97a8 was computed
// independently with a few lines of Python implementing RFC 1071 over the pseudo-header.
const LINUX_SYN = hex(`
  a0c8 0050 6b8b4567 00000000 a002 faf0 97a8 0000
  020405b4 0402080a 001d4f3c 00000000 01030307`);

// The reply: ACK|PSH from port 80 carrying "hello\n", NOP NOP timestamps (TSval 100, TSecr
// 0x001d4f3c), window 502; checksum 0x2095 computed the same way.
const DATA_SEGMENT = hex(`
  0050 a0c8 1c2d3e4f 6b8b4568 8018 01f6 2095 0000
  0101080a 00000064 001d4f3c 68656c6c6f0a`);

Deno.test("tcp wire: deconstruct a Linux SYN", () => {
  const seg = new TcpSegment(LINUX_SYN);
  assert.equal(seg.sourcePort, 41160);
  assert.equal(seg.destinationPort, 80);
  assert.equal(seg.seq, 0x6b8b4567);
  assert.equal(seg.ack, 0);
  assert.equal(seg.dataOffset, 10);
  assert.equal(seg.headerLength, 40);
  assert.equal(seg.flags, TcpFlags.SYN);
  assert.equal(seg.has(TcpFlags.SYN), true);
  assert.equal(seg.has(TcpFlags.ACK), false);
  assert.equal(seg.window, 64240);
  assert.equal(seg.checksum, 0x97a8);
  assert.equal(seg.urgent, 0);
  assert.equal(seg.optionBytes.length, 20);
  assert.equal(seg.payload.length, 0);
  assert.equal(seg.seqLength, 1);
  assert.deepEqual(seg.options, {
    mss: 1460,
    sackPermitted: true,
    timestamps: { value: 0x001d4f3c, echo: 0 },
    windowScale: 7,
  });
});

Deno.test("tcp wire: parse checks the pseudo-header checksum", () => {
  const ok = parseTcp(LINUX_SYN, A, B);
  assert.equal(ok.ok, true);
  assert.equal(tcpChecksum(LINUX_SYN, A, B), 0x97a8);
  // Same bytes claimed from another source: the pseudo-header differs.
  assert.deepEqual(parseTcp(LINUX_SYN, 0x0a000003, B), { ok: false, reason: "bad-checksum" });
  const corrupt = LINUX_SYN.slice();
  corrupt[30] ^= 0x01;
  assert.deepEqual(parseTcp(corrupt, A, B), { ok: false, reason: "bad-checksum" });
  assert.equal(parseTcp(corrupt, A, B, { verifyChecksum: false }).ok, true);
});

Deno.test("tcp wire: parse a data segment", () => {
  const result = parseTcp(DATA_SEGMENT, B, A);
  assert.ok(result.ok);
  const seg = result.value;
  assert.equal(seg.flags, TcpFlags.ACK | TcpFlags.PSH);
  assert.equal(seg.ack, 0x6b8b4568);
  assert.equal(seg.window, 502);
  assert.deepEqual(seg.options, { timestamps: { value: 100, echo: 0x001d4f3c } });
  assert.equal(new TextDecoder().decode(seg.payload), "hello\n");
  assert.equal(seg.seqLength, 6);
});

Deno.test("tcp wire: emit reproduces the Linux SYN byte for byte", () => {
  const fields = {
    sourcePort: 41160,
    destinationPort: 80,
    seq: 0x6b8b4567,
    ack: 0,
    flags: TcpFlags.SYN,
    window: 64240,
    options: {
      mss: 1460,
      sackPermitted: true,
      timestamps: { value: 0x001d4f3c, echo: 0 },
      windowScale: 7,
    },
  };
  assert.equal(tcpSegmentLength(fields, 0), 40);
  const buffer = new Uint8Array(64).fill(0xee);
  const n = emitTcp(buffer, fields, new Uint8Array(0), A, B);
  assert.equal(n, 40);
  assert.deepEqual(buffer.subarray(0, n), LINUX_SYN);
});

Deno.test("tcp wire: emit a data segment with NOP-padded timestamps", () => {
  const fields = {
    sourcePort: 80,
    destinationPort: 41160,
    seq: 0x1c2d3e4f,
    ack: 0x6b8b4568,
    flags: TcpFlags.ACK | TcpFlags.PSH,
    window: 502,
    options: { timestamps: { value: 100, echo: 0x001d4f3c } },
  };
  const payload = new TextEncoder().encode("hello\n");
  const buffer = new Uint8Array(tcpSegmentLength(fields, payload.length));
  emitTcp(buffer, fields, payload, B, A);
  assert.deepEqual(buffer, DATA_SEGMENT);
});

Deno.test("tcp wire: SACK blocks round-trip", () => {
  const options = {
    timestamps: { value: 1, echo: 2 },
    sackBlocks: [{ start: 1000, end: 2000 }, { start: 0xffff_fff0, end: 16 }],
  };
  const fields = {
    sourcePort: 1,
    destinationPort: 2,
    seq: 3,
    ack: 4,
    flags: TcpFlags.ACK,
    window: 5,
    options,
  };
  const buffer = new Uint8Array(tcpSegmentLength(fields, 0));
  assert.equal(buffer.length, 20 + 12 + 4 + 16);
  emitTcp(buffer, fields, new Uint8Array(0), A, B);
  // NOP NOP SACK len=18 after the 12 timestamp bytes.
  assert.deepEqual([...buffer.subarray(32, 36)], [1, 1, 5, 18]);
  const parsed = parseTcp(buffer, A, B);
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.value.options, options);
});

Deno.test("tcp wire: too many options is a programmer error", () => {
  const blocks = [1, 2, 3, 4].map((i) => ({ start: i, end: i + 1 }));
  const fields = {
    sourcePort: 1,
    destinationPort: 2,
    seq: 0,
    ack: 0,
    flags: TcpFlags.ACK,
    window: 0,
    options: { timestamps: { value: 0, echo: 0 }, sackBlocks: blocks },
  };
  assert.throws(() => emitTcp(new Uint8Array(100), fields, new Uint8Array(0), A, B), RangeError);
  assert.throws(
    () => emitTcp(new Uint8Array(10), { ...fields, options: {} }, new Uint8Array(0), A, B),
    RangeError,
  );
});

Deno.test("tcp wire: options table", () => {
  const cases: [string, number[], unknown][] = [
    ["empty", [], { ok: true, value: {} }],
    ["EOL stops parsing", [0, 2, 4], { ok: true, value: {} }],
    ["NOPs", [1, 1, 1, 1], { ok: true, value: {} }],
    ["unknown kind skipped by length", [30, 4, 9, 9, 2, 4, 1, 0], {
      ok: true,
      value: { mss: 256 },
    }],
    ["zero length", [30, 0, 1, 1], { ok: false, reason: "option-bad-length" }],
    ["length one", [2, 1], { ok: false, reason: "option-bad-length" }],
    ["length past end", [2, 4, 5], { ok: false, reason: "option-truncated" }],
    ["kind without length", [1, 2], { ok: false, reason: "option-truncated" }],
    ["MSS length 3", [2, 3, 5, 1], { ok: false, reason: "option-bad-mss-length" }],
    ["WS length 4", [3, 4, 1, 1], { ok: false, reason: "option-bad-window-scale-length" }],
    ["SACK-perm length 3", [4, 3, 0, 1], {
      ok: false,
      reason: "option-bad-sack-permitted-length",
    }],
    ["SACK without blocks", [5, 2, 1, 1], { ok: false, reason: "option-bad-sack-length" }],
    ["SACK odd length", [5, 6, 0, 0, 0, 0], { ok: false, reason: "option-bad-sack-length" }],
    ["TS length 8", [8, 8, 0, 0, 0, 0, 0, 0], {
      ok: false,
      reason: "option-bad-timestamps-length",
    }],
  ];
  for (const [name, bytes, expected] of cases) {
    assert.deepEqual(parseTcpOptions(new Uint8Array(bytes)), expected, name);
  }
});

Deno.test("tcp wire: truncation and bad data offsets are refused", () => {
  assert.deepEqual(parseTcp(LINUX_SYN.subarray(0, 19), A, B), { ok: false, reason: "truncated" });
  assert.deepEqual(parseTcp(LINUX_SYN.subarray(0, 39), A, B, { verifyChecksum: false }), {
    ok: false,
    reason: "truncated-header",
  });
  const small = LINUX_SYN.slice();
  small[12] = 0x40; // 4 words < 5
  assert.deepEqual(parseTcp(small, A, B, { verifyChecksum: false }), {
    ok: false,
    reason: "bad-data-offset",
  });
  const badOption = LINUX_SYN.slice();
  badOption[21] = 0; // MSS option length 0
  assert.deepEqual(parseTcp(badOption, A, B, { verifyChecksum: false }), {
    ok: false,
    reason: "option-bad-length",
  });
});

Deno.test("tcp wire: parse never throws on arbitrary bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), fc.boolean(), (bytes, verify) => {
      const result = parseTcp(bytes, A, B, { verifyChecksum: verify });
      if (result.ok) {
        const seg = result.value;
        assert.ok(seg.headerLength >= 20 && seg.headerLength <= bytes.length);
        assert.equal(seg.payload.length, bytes.length - seg.headerLength);
      } else {
        assert.equal(typeof result.reason, "string");
      }
    }),
    { seed: 42, numRuns: 2000 },
  );
});

Deno.test("tcp wire: emit then parse round-trips fields and options", () => {
  const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
  const u16 = fc.integer({ min: 0, max: 0xffff });
  const block = fc.record({ start: u32, end: u32 });
  const options = fc.record({
    mss: fc.option(u16, { nil: undefined }),
    windowScale: fc.option(fc.integer({ min: 0, max: 14 }), { nil: undefined }),
    sackPermitted: fc.option(fc.constant(true), { nil: undefined }),
    timestamps: fc.option(fc.record({ value: u32, echo: u32 }), { nil: undefined }),
    sackBlocks: fc.option(fc.array(block, { minLength: 1, maxLength: 2 }), { nil: undefined }),
  });
  fc.assert(
    fc.property(
      u16,
      u16,
      u32,
      u32,
      fc.integer({ min: 0, max: 255 }),
      u16,
      options,
      fc.uint8Array({ maxLength: 64 }),
      (sourcePort, destinationPort, seq, ack, flags, window, opts, payload) => {
        // Plain objects without the undefined fields (fast-check builds null-prototype ones).
        const clean: TcpOptions = JSON.parse(JSON.stringify(opts));
        const fields = { sourcePort, destinationPort, seq, ack, flags, window, options: clean };
        const buffer = new Uint8Array(tcpSegmentLength(fields, payload.length));
        emitTcp(buffer, fields, payload, A, B);
        const parsed = parseTcp(buffer, A, B);
        assert.ok(parsed.ok);
        const seg = parsed.value;
        assert.deepEqual(
          [seg.sourcePort, seg.destinationPort, seg.seq, seg.ack, seg.flags, seg.window],
          [sourcePort, destinationPort, seq, ack, flags, window],
        );
        assert.deepEqual(seg.options, clean);
        assert.deepEqual(seg.payload, payload);
      },
    ),
    { seed: 7, numRuns: 500 },
  );
});

Deno.test("emitTcp partial checksum: the folded pseudo-header sum, for the device to finish (TSO)", () => {
  const fields = {
    sourcePort: 1,
    destinationPort: 2,
    seq: 0,
    ack: 0,
    flags: TcpFlags.ACK,
    window: 0,
  };
  const buffer = new Uint8Array(40);
  emitTcp(buffer, fields, new Uint8Array(20), 0x0a000001, 0x0a000002, "partial");
  // 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + protocol 6 + TCP length 40 = 0x1431, worked by hand.
  assert.deepEqual([buffer[16], buffer[17]], [0x14, 0x31]);
});
