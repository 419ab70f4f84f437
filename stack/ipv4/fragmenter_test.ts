import assert from "node:assert/strict";
import { SeededRandom } from "../clock.ts";
import { internetChecksum } from "../wire/checksum.ts";
import { emitIpv4Header, parseIpv4 } from "../wire/ipv4.ts";
import { fragmentIpv4, MIN_FRAGMENTABLE_MTU } from "./fragmenter.ts";
import { Reassembly } from "./reassembly.ts";
import { Ipv4Packet } from "../wire/ipv4.ts";
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

// Linux `ping -c 1 -s 3000 10.200.0.2` from 10.200.0.1 over a 1500-byte MTU veth: a 3008-byte ICMP
// echo request (header, 16-byte timeval, then bytes counting up from 0x10) sent as three
// fragments. The payload bytes were checked against the capture; the headers are literal.
const ICMP_3008 = concat(
  hex("0800 6c01 0ee0 0001 034d076b00000000 92b7000000000000"),
  Uint8Array.from({ length: 2984 }, (_, i) => (i + 16) & 0xff),
);
const LINUX_FRAGMENTS = [
  concat(hex("4500 05dc 4b80 2000 4001 f40e 0ac8 0001 0ac8 0002"), ICMP_3008.subarray(0, 1480)),
  concat(hex("4500 05dc 4b80 20b9 4001 f355 0ac8 0001 0ac8 0002"), ICMP_3008.subarray(1480, 2960)),
  concat(hex("4500 0044 4b80 0172 4001 1835 0ac8 0001 0ac8 0002"), ICMP_3008.subarray(2960)),
];
const PING_REPR = {
  source: 0x0ac8_0001,
  destination: 0x0ac8_0002,
  protocol: 1,
  ttl: 64,
  payloadLength: 3008,
  identification: 0x4b80,
};

Deno.test("fragmenter: reproduces Linux's fragments byte for byte", () => {
  assert.equal(internetChecksum(ICMP_3008), 0, "the capture's ICMP checksum holds");
  const fragments = fragmentIpv4(PING_REPR, ICMP_3008, 1500);
  assert.equal(fragments.length, 3);
  for (let i = 0; i < 3; i++) assert.deepEqual(fragments[i], LINUX_FRAGMENTS[i], `fragment ${i}`);
});

Deno.test("fragmenter: a datagram that fits is one packet with the caller's flags", () => {
  const payload = Uint8Array.from({ length: 1480 }, (_, i) => i & 0xff);
  const repr = { ...PING_REPR, payloadLength: 1480, dontFragment: true };
  const [only, ...rest] = fragmentIpv4(repr, payload, 1500);
  assert.equal(rest.length, 0);
  const header = new Uint8Array(20);
  emitIpv4Header(repr, header);
  assert.deepEqual(only, concat(header, payload));
  assert.equal(new Ipv4Packet(only).dontFragment, true);
  assert.equal(new Ipv4Packet(only).moreFragments, false);
  assert.deepEqual(fragmentIpv4({ ...repr, payloadLength: 0 }, new Uint8Array(0), 68).length, 1);
});

Deno.test("fragmenter: the minimum IPv4 MTU of 68 gives 48-byte pieces (RFC 791)", () => {
  const payload = new Uint8Array(100).fill(7);
  const fragments = fragmentIpv4({ ...PING_REPR, payloadLength: 100 }, payload, 68);
  assert.deepEqual(fragments.map((f) => f.length), [68, 68, 24]);
  assert.deepEqual(fragments.map((f) => new Ipv4Packet(f).fragmentOffset), [0, 48, 96]);
  // 28 bytes is the least that carries one 8-byte block.
  const tiny = fragmentIpv4({ ...PING_REPR, payloadLength: 20 }, new Uint8Array(20), 28);
  assert.deepEqual(tiny.map((f) => new Ipv4Packet(f).payload.length), [8, 8, 4]);
  // An MTU of 1499 still cuts at 1472, the largest multiple of 8 within 1479.
  const odd = fragmentIpv4({ ...PING_REPR, payloadLength: 3008 }, ICMP_3008, 1499);
  assert.deepEqual(odd.map((f) => f.length), [1492, 1492, 84]);
});

Deno.test("fragmenter: fragmenting a fragment keeps its offset and its MF", () => {
  // The middle Linux fragment (offset 1480, MF) forwarded over a 576-byte link.
  const middle = new Ipv4Packet(LINUX_FRAGMENTS[1]);
  const pieces = fragmentIpv4(
    { ...PING_REPR, payloadLength: 1480, fragmentOffset: 1480, moreFragments: true },
    middle.payload,
    576,
  );
  const views = pieces.map((p) => new Ipv4Packet(p));
  assert.deepEqual(views.map((v) => v.fragmentOffset), [1480, 2032, 2584]);
  assert.deepEqual(views.map((v) => v.moreFragments), [true, true, true]);
  assert.deepEqual(views.map((v) => v.payload.length), [552, 552, 376]);
});

Deno.test("fragmenter: random sizes and MTUs obey the rules and reassemble", () => {
  const random = new SeededRandom(0x5eed);
  for (let round = 0; round < 300; round++) {
    const size = random.nextU32() % 65516; // up to the largest payload, 65515
    const mtu = MIN_FRAGMENTABLE_MTU + (random.nextU32() % (9000 - MIN_FRAGMENTABLE_MTU + 1));
    const identification = random.nextU32() & 0xffff;
    const payload = Uint8Array.from({ length: size }, () => random.nextU32() & 0xff);
    const repr = { ...PING_REPR, payloadLength: size, identification, protocol: 17 };
    const fragments = fragmentIpv4(repr, payload, mtu);
    const maxData = Math.floor((mtu - 20) / 8) * 8;
    let expectedOffset = 0;
    fragments.forEach((bytes, i) => {
      const parsed = parseIpv4(bytes);
      assert.ok(parsed.ok, `round ${round}: fragment ${i} parses with a valid checksum`);
      const f = parsed.value;
      const isLast = i === fragments.length - 1;
      assert.ok(bytes.length <= mtu, "fits the MTU");
      assert.equal(f.fragmentOffset % 8, 0, "offset is a multiple of 8");
      assert.equal(f.fragmentOffset, expectedOffset, "offsets are contiguous");
      assert.equal(f.moreFragments, !isLast, "MF on all but the last");
      assert.equal(f.identification, identification);
      assert.equal(f.totalLength, bytes.length);
      if (!isLast) assert.equal(f.payload.length, maxData, "full pieces are as large as fits");
      expectedOffset += f.payload.length;
    });
    assert.equal(expectedOffset, size);

    // Shuffle and reassemble.
    const order = fragments.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = random.nextU32() % (i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    const reassembly = new Reassembly();
    const results = order.map((i) => reassembly.add(new Ipv4Packet(fragments[i])));
    assert.equal(results.pop(), "complete", `round ${round}`);
    assert.ok(results.every((r) => r === "incomplete"));
    const datagram = reassembly.assemble();
    const header = new Uint8Array(20);
    emitIpv4Header(repr, header);
    assert.deepEqual(datagram, concat(header, payload), `round ${round} size ${size} mtu ${mtu}`);
  }
});

Deno.test("fragmenter: impossible requests are programmer errors", () => {
  assert.throws(() => fragmentIpv4(PING_REPR, ICMP_3008, 27), RangeError);
  assert.throws(() => fragmentIpv4(PING_REPR, new Uint8Array(65516), 1500), RangeError);
  assert.equal(fragmentIpv4(PING_REPR, new Uint8Array(65515), 1500).length, 45);
  // Data that would end past the 13-bit offset range.
  assert.throws(
    () => fragmentIpv4({ ...PING_REPR, fragmentOffset: 65520 }, new Uint8Array(3000), 1500),
    RangeError,
  );
});
