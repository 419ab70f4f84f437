import assert from "node:assert/strict";
import {
  emitIpv4Header,
  IPV4_MIN_HEADER_BYTES,
  Ipv4Packet,
  type Ipv4Repr,
  parseIpv4,
} from "./ipv4.ts";
import { hex } from "../../tests/helpers/bytes.ts";

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// The classic worked example (192.168.0.1 -> 192.168.0.199, UDP, DF, total length 115). Checksum
// by hand: 4500+0073+0000+4000+4011+c0a8+0001+c0a8+00c7 = 0x2479c, folded 0x479e, complement
// 0xb861.
const CLASSIC_HEADER = hex("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7");
const CLASSIC_PACKET = concat(CLASSIC_HEADER, new Uint8Array(0x73 - 20));

// A real ICMP echo request from Linux `ping -c 1 -p 0102 10.200.0.2`, source 10.200.0.1, DF set.
const ECHO_PACKET = hex(`
  4500 0054 4b2a 4000 4001 d9ec 0ac8 0001 0ac8 0002
  0800 890c 0ea2 0001 024d076b00000000 3970090000000000
  ${"0102".repeat(20)}`);

// Headers of the 2nd and 3rd fragments of a real Linux `ping -s 3000` over a 1500-byte MTU.
const MIDDLE_FRAGMENT_HEADER = hex("4500 05dc 4b80 20b9 4001 f355 0ac8 0001 0ac8 0002");
const LAST_FRAGMENT_HEADER = hex("4500 0044 4b80 0172 4001 1835 0ac8 0001 0ac8 0002");

// A header with one word of options (four NOPs, RFC 791 option type 1) and no data. Checksum by
// hand: 4600+0018+4001+0ac8+0001+0ac8+0002+0101+0101 = 0x9dae, complement 0x6251.
const OPTIONS_PACKET = hex("4600 0018 0000 0000 4001 6251 0ac8 0001 0ac8 0002 0101 0101");

Deno.test("ipv4: deconstruct a captured echo request", () => {
  const packet = new Ipv4Packet(ECHO_PACKET);
  assert.equal(packet.version, 4);
  assert.equal(packet.headerLength, 20);
  assert.equal(packet.tos, 0);
  assert.equal(packet.totalLength, 84);
  assert.equal(packet.identification, 0x4b2a);
  assert.equal(packet.reservedFlag, false);
  assert.equal(packet.dontFragment, true);
  assert.equal(packet.moreFragments, false);
  assert.equal(packet.fragmentOffset, 0);
  assert.equal(packet.isFragment, false);
  assert.equal(packet.ttl, 64);
  assert.equal(packet.protocol, 1);
  assert.equal(packet.checksum, 0xd9ec);
  assert.equal(packet.source, 0x0ac8_0001);
  assert.equal(packet.destination, 0x0ac8_0002);
  assert.equal(packet.header.length, 20);
  assert.equal(packet.options.length, 0);
  assert.equal(packet.payload.length, 64);
  assert.deepEqual(packet.payload.subarray(0, 4), hex("0800 890c"));
  assert.equal(packet.verifyChecksum(), true);
});

Deno.test("ipv4: deconstruct captured fragment headers (offset in bytes)", () => {
  const middle = new Ipv4Packet(MIDDLE_FRAGMENT_HEADER);
  assert.equal(middle.dontFragment, false);
  assert.equal(middle.moreFragments, true);
  assert.equal(middle.fragmentOffset, 0xb9 * 8); // 1480
  assert.equal(middle.isFragment, true);
  assert.equal(middle.totalLength, 1500);
  const last = new Ipv4Packet(LAST_FRAGMENT_HEADER);
  assert.equal(last.moreFragments, false);
  assert.equal(last.fragmentOffset, 0x172 * 8); // 2960
  assert.equal(last.isFragment, true);
  assert.equal(last.totalLength, 68);
  assert.equal(last.verifyChecksum(), true);
});

Deno.test("ipv4: construct through setters", () => {
  const bytes = new Uint8Array(84);
  const packet = new Ipv4Packet(bytes);
  packet.version = 4;
  packet.headerLength = 20;
  packet.tos = 0;
  packet.totalLength = 84;
  packet.identification = 0x4b2a;
  packet.dontFragment = true;
  packet.moreFragments = true;
  packet.moreFragments = false;
  packet.fragmentOffset = 0;
  packet.ttl = 64;
  packet.protocol = 1;
  packet.source = 0x0ac8_0001;
  packet.destination = 0x0ac8_0002;
  packet.payload.set(ECHO_PACKET.subarray(20));
  packet.fillChecksum();
  assert.deepEqual(bytes, ECHO_PACKET);
});

Deno.test("ipv4: setters leave neighbouring bits alone", () => {
  const packet = new Ipv4Packet(MIDDLE_FRAGMENT_HEADER.slice());
  packet.dontFragment = true;
  assert.equal(packet.moreFragments, true);
  assert.equal(packet.fragmentOffset, 1480);
  packet.fragmentOffset = 2960;
  assert.equal(packet.moreFragments, true);
  assert.equal(packet.dontFragment, true);
  packet.headerLength = 24;
  assert.equal(packet.version, 4);
  packet.version = 6;
  assert.equal(packet.headerLength, 24);
});

Deno.test("ipv4: parse", () => {
  const classic = parseIpv4(CLASSIC_PACKET);
  assert.ok(classic.ok);
  assert.equal(classic.value.protocol, 17);
  assert.equal(classic.value.source, 0xc0a8_0001);
  assert.equal(classic.value.destination, 0xc0a8_00c7);
  assert.equal(classic.value.payload.length, 95);
  const echo = parseIpv4(ECHO_PACKET);
  assert.ok(echo.ok);
  assert.deepEqual(echo.value.payload, ECHO_PACKET.subarray(20));
});

Deno.test("ipv4: parse a header with options", () => {
  const result = parseIpv4(OPTIONS_PACKET);
  assert.ok(result.ok);
  assert.equal(result.value.headerLength, 24);
  assert.deepEqual(result.value.options, hex("0101 0101"));
  assert.equal(result.value.header.length, 24);
  assert.equal(result.value.payload.length, 0);
});

Deno.test("ipv4: emit", () => {
  const buf = new Uint8Array(20);
  const classic: Ipv4Repr = {
    source: 0xc0a8_0001,
    destination: 0xc0a8_00c7,
    protocol: 17,
    ttl: 64,
    payloadLength: 95,
    dontFragment: true,
  };
  assert.equal(emitIpv4Header(classic, buf), 20);
  assert.deepEqual(buf, CLASSIC_HEADER);

  emitIpv4Header({
    source: 0x0ac8_0001,
    destination: 0x0ac8_0002,
    protocol: 1,
    ttl: 64,
    payloadLength: 1480,
    identification: 0x4b80,
    moreFragments: true,
    fragmentOffset: 1480,
  }, buf);
  assert.deepEqual(buf, MIDDLE_FRAGMENT_HEADER);

  emitIpv4Header({
    source: 0x0ac8_0001,
    destination: 0x0ac8_0002,
    protocol: 1,
    ttl: 64,
    payloadLength: 48,
    identification: 0x4b80,
    fragmentOffset: 2960,
    tos: 0,
  }, buf);
  assert.deepEqual(buf, LAST_FRAGMENT_HEADER);
});

Deno.test("ipv4: emit writes only the header, honouring byteOffset", () => {
  const backing = new Uint8Array(14 + 84).fill(0xaa);
  const n = emitIpv4Header({
    source: 0x0ac8_0001,
    destination: 0x0ac8_0002,
    protocol: 1,
    ttl: 64,
    payloadLength: 64,
    identification: 0x4b2a,
    dontFragment: true,
  }, backing.subarray(14));
  assert.equal(n, 20);
  assert.deepEqual(backing.subarray(14, 34), ECHO_PACKET.subarray(0, 20));
  assert.deepEqual(backing.subarray(0, 14), new Uint8Array(14).fill(0xaa));
  assert.deepEqual(backing.subarray(34), new Uint8Array(64).fill(0xaa));
});

Deno.test("ipv4: Ethernet padding after the total length is excluded from the payload", () => {
  // The classic packet followed by 5 bytes of link padding.
  const padded = concat(CLASSIC_PACKET, hex("0000000000"));
  const result = parseIpv4(padded);
  assert.ok(result.ok);
  assert.equal(result.value.payload.length, 95);
  assert.equal(result.value.totalLength, 115);
});

Deno.test("ipv4: truncated at every length", () => {
  for (let length = 0; length < ECHO_PACKET.length; length++) {
    const reason = length < IPV4_MIN_HEADER_BYTES ? "truncated" : "bad-total-length";
    assert.deepEqual(
      parseIpv4(ECHO_PACKET.subarray(0, length)),
      { ok: false, reason },
      `length ${length}`,
    );
  }
  // Options announced but not present: the header itself is cut short.
  for (let length = 20; length < 24; length++) {
    assert.deepEqual(parseIpv4(OPTIONS_PACKET.subarray(0, length)), {
      ok: false,
      reason: "truncated",
    });
  }
});

Deno.test("ipv4: versions other than 4 are refused", () => {
  for (const first of [0x05, 0x35, 0x65, 0xf5]) {
    const bytes = ECHO_PACKET.slice();
    bytes[0] = first;
    assert.deepEqual(parseIpv4(bytes), { ok: false, reason: "bad-version" });
  }
});

Deno.test("ipv4: IHL below 5 is a bad header length", () => {
  for (let ihl = 0; ihl < 5; ihl++) {
    const bytes = ECHO_PACKET.slice();
    bytes[0] = 0x40 | ihl;
    assert.deepEqual(parseIpv4(bytes), { ok: false, reason: "bad-header-length" });
  }
});

Deno.test("ipv4: total length below the header or beyond the bytes is refused", () => {
  const cases: [Uint8Array, number][] = [
    [ECHO_PACKET, 0],
    [ECHO_PACKET, 19],
    [ECHO_PACKET, 85],
    [ECHO_PACKET, 0xffff],
    [OPTIONS_PACKET, 20], // covers the fixed header but not the options
    [OPTIONS_PACKET, 23],
  ];
  for (const [packet, total] of cases) {
    const bytes = packet.slice();
    bytes[2] = total >>> 8;
    bytes[3] = total & 0xff;
    assert.deepEqual(
      parseIpv4(bytes, { verifyChecksum: false }),
      { ok: false, reason: "bad-total-length" },
      `total ${total}`,
    );
  }
});

Deno.test("ipv4: any single-bit error in the checked fields is a bad checksum", () => {
  // Bytes 1..19: byte 0 is checked first as version/IHL, bytes 2..3 as the total length.
  for (let byte = 1; byte < 20; byte++) {
    if (byte === 2 || byte === 3) continue;
    for (let bit = 0; bit < 8; bit++) {
      const bytes = ECHO_PACKET.slice();
      bytes[byte] ^= 1 << bit;
      assert.deepEqual(parseIpv4(bytes), { ok: false, reason: "bad-checksum" }, `${byte}.${bit}`);
    }
  }
  const bytes = ECHO_PACKET.slice();
  bytes[10] ^= 0xff;
  const unchecked = parseIpv4(bytes, { verifyChecksum: false });
  assert.ok(unchecked.ok);
  assert.equal(unchecked.value.verifyChecksum(), false);
});

Deno.test("ipv4: the payload is not covered by the header checksum", () => {
  const bytes = ECHO_PACKET.slice();
  bytes[40] ^= 0xff;
  assert.ok(parseIpv4(bytes).ok);
});

Deno.test("ipv4: emit refuses impossible headers", () => {
  const repr: Ipv4Repr = { source: 1, destination: 2, protocol: 17, ttl: 64, payloadLength: 0 };
  assert.throws(() => emitIpv4Header(repr, new Uint8Array(19)), RangeError);
  assert.throws(
    () => emitIpv4Header({ ...repr, payloadLength: 65516 }, new Uint8Array(20)),
    RangeError,
  );
  assert.throws(
    () => emitIpv4Header({ ...repr, fragmentOffset: 12 }, new Uint8Array(20)),
    RangeError,
  );
  assert.throws(
    () => emitIpv4Header({ ...repr, fragmentOffset: 65536 }, new Uint8Array(20)),
    RangeError,
  );
  assert.equal(emitIpv4Header({ ...repr, payloadLength: 65515 }, new Uint8Array(20)), 20);
});
