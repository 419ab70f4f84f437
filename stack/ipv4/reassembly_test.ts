import assert from "node:assert/strict";
import { internetChecksum } from "../wire/checksum.ts";
import { emitIpv4Header, Ipv4Packet, parseIpv4 } from "../wire/ipv4.ts";
import {
  fragmentChargeBytes,
  Reassembly,
  REASSEMBLY_FRAGMENT_OVERHEAD_BYTES,
} from "./reassembly.ts";
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

// The three fragments of a real Linux `ping -s 3000` (see fragmenter_test.ts for the capture).
const ICMP_3008 = concat(
  hex("0800 6c01 0ee0 0001 034d076b00000000 92b7000000000000"),
  Uint8Array.from({ length: 2984 }, (_, i) => (i + 16) & 0xff),
);
const LINUX_FRAGMENTS = [
  concat(hex("4500 05dc 4b80 2000 4001 f40e 0ac8 0001 0ac8 0002"), ICMP_3008.subarray(0, 1480)),
  concat(hex("4500 05dc 4b80 20b9 4001 f355 0ac8 0001 0ac8 0002"), ICMP_3008.subarray(1480, 2960)),
  concat(hex("4500 0044 4b80 0172 4001 1835 0ac8 0001 0ac8 0002"), ICMP_3008.subarray(2960)),
];
// The datagram they rebuild: total length 3028 = 0x0bd4, no flags, offset 0. Checksum by hand:
// 4500+0bd4+4b80+4001+0ac8+0001+0ac8+0002 = 0xf1e8, complement 0x0e17.
const LINUX_DATAGRAM = concat(hex("4500 0bd4 4b80 0000 4001 0e17 0ac8 0001 0ac8 0002"), ICMP_3008);

const ORDERS = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];

/** A fragment of protocol 17 from 10.0.0.1 to 10.0.0.2, id 1, with `data` at `offset`. */
function fragment(offset: number, data: Uint8Array, more: boolean, headerBytes = 20): Ipv4Packet {
  const bytes = new Uint8Array(headerBytes + data.length);
  emitIpv4Header({
    source: 0x0a00_0001,
    destination: 0x0a00_0002,
    protocol: 17,
    ttl: 64,
    payloadLength: data.length,
    identification: 1,
    fragmentOffset: offset,
    moreFragments: more,
  }, bytes);
  if (headerBytes > 20) {
    // Move the data behind NOP options (RFC 791 option type 1) and fix IHL, length, checksum.
    const packet = new Ipv4Packet(bytes);
    bytes.fill(1, 20, headerBytes);
    packet.headerLength = headerBytes;
    packet.totalLength = bytes.length;
    packet.fillChecksum();
  }
  bytes.set(data, headerBytes);
  return new Ipv4Packet(bytes);
}

const bytesOf = (length: number, seed: number) =>
  Uint8Array.from({ length }, (_, i) => (i * 7 + seed) & 0xff);

Deno.test("reassembly: Linux's fragments in every order rebuild the datagram", () => {
  for (const order of ORDERS) {
    const reassembly = new Reassembly();
    const results = order.map((i) => reassembly.add(new Ipv4Packet(LINUX_FRAGMENTS[i])));
    assert.deepEqual(results, ["incomplete", "incomplete", "complete"], `order ${order}`);
    assert.equal(reassembly.complete, true);
    const datagram = reassembly.assemble();
    assert.deepEqual(datagram, LINUX_DATAGRAM, `order ${order}`);
    const parsed = parseIpv4(datagram);
    assert.ok(parsed.ok);
    assert.equal(internetChecksum(parsed.value.payload), 0, "Linux's ICMP checksum still holds");
  }
});

Deno.test("reassembly: the first fragment and the held bytes are tracked", () => {
  const reassembly = new Reassembly();
  assert.equal(reassembly.firstFragment, undefined);
  assert.equal(reassembly.heldBytes, 0);
  const last = new Ipv4Packet(LINUX_FRAGMENTS[2]);
  reassembly.add(last);
  assert.equal(reassembly.firstFragment, undefined);
  assert.equal(reassembly.heldBytes, 68 + REASSEMBLY_FRAGMENT_OVERHEAD_BYTES);
  const first = new Ipv4Packet(LINUX_FRAGMENTS[0]);
  reassembly.add(first);
  assert.equal(reassembly.firstFragment, first);
  assert.equal(reassembly.heldBytes, 68 + 1500 + 2 * REASSEMBLY_FRAGMENT_OVERHEAD_BYTES);
  assert.equal(fragmentChargeBytes(first), 1500 + REASSEMBLY_FRAGMENT_OVERHEAD_BYTES);
  assert.equal(reassembly.fragmentCount, 2);
  assert.equal(reassembly.complete, false);
  assert.throws(() => reassembly.assemble(), /not complete/);
});

Deno.test("reassembly: exact duplicates are ignored", () => {
  const reassembly = new Reassembly();
  assert.equal(reassembly.add(new Ipv4Packet(LINUX_FRAGMENTS[1])), "incomplete");
  const held = reassembly.heldBytes;
  assert.equal(reassembly.add(new Ipv4Packet(LINUX_FRAGMENTS[1].slice())), "duplicate");
  assert.equal(reassembly.heldBytes, held);
  assert.equal(reassembly.add(new Ipv4Packet(LINUX_FRAGMENTS[0])), "incomplete");
  assert.equal(reassembly.add(new Ipv4Packet(LINUX_FRAGMENTS[0])), "duplicate");
  assert.equal(reassembly.add(new Ipv4Packet(LINUX_FRAGMENTS[2])), "complete");
  assert.equal(reassembly.add(new Ipv4Packet(LINUX_FRAGMENTS[2])), "duplicate");
  assert.deepEqual(reassembly.assemble(), LINUX_DATAGRAM);
});

Deno.test("reassembly: a teardrop overlap drops the datagram", () => {
  // The classic teardrop: 0..36 with MF, then a last fragment at 24..28 inside it.
  const reassembly = new Reassembly();
  assert.equal(reassembly.add(fragment(0, bytesOf(40, 1), true)), "incomplete");
  assert.equal(reassembly.add(fragment(24, bytesOf(4, 2), false)), "overlap");
  assert.equal(reassembly.heldBytes, 0);
  assert.equal(reassembly.fragmentCount, 0);
  // The datagram stays dead: even the missing piece cannot revive it.
  assert.equal(reassembly.add(fragment(40, bytesOf(8, 3), false)), "overlap");
  assert.equal(reassembly.complete, false);
});

Deno.test("reassembly: every kind of overlap is refused", () => {
  const cases: [string, [number, number, boolean][]][] = [
    ["same place, different bytes", [[8, 16, true], [8, 16, true]]],
    ["starts inside the previous one", [[0, 16, true], [8, 16, true]]],
    ["ends inside the next one", [[16, 16, true], [8, 16, true]]],
    ["covers a held one", [[8, 8, true], [0, 24, true]]],
    ["inside a held one", [[0, 24, true], [8, 8, true]]],
    ["same place, MF differs", [[8, 8, true], [8, 8, false]]],
  ];
  for (const [name, pieces] of cases) {
    const reassembly = new Reassembly();
    const results = pieces.map(([offset, length, more], i) =>
      reassembly.add(fragment(offset, bytesOf(length, i + 1), more))
    );
    assert.deepEqual(results, ["incomplete", "overlap"], name);
  }
  // Touching is not overlapping.
  const reassembly = new Reassembly();
  assert.equal(reassembly.add(fragment(8, bytesOf(8, 1), true)), "incomplete");
  assert.equal(reassembly.add(fragment(16, bytesOf(8, 2), false)), "incomplete");
  assert.equal(reassembly.add(fragment(0, bytesOf(8, 3), true)), "complete");
});

Deno.test("reassembly: a datagram beyond 65535 bytes is dropped (ping of death)", () => {
  // The classic ping of death: a last fragment at offset 65528 (the highest, field 0x1fff) with
  // more data than the 7 bytes left under 65535 - 20.
  const reassembly = new Reassembly();
  assert.equal(reassembly.add(fragment(0, bytesOf(1480, 1), true)), "incomplete");
  assert.equal(reassembly.add(fragment(65528, bytesOf(100, 2), false)), "too-big");
  assert.equal(reassembly.heldBytes, 0);

  // Exactly 65535 is fine: data up to 65515.
  const edge = new Reassembly();
  assert.equal(edge.add(fragment(65512, bytesOf(3, 1), false)), "incomplete");
  assert.equal(new Reassembly().add(fragment(65512, bytesOf(4, 1), false)), "too-big");

  // A first fragment with options raises the header size after the fact.
  assert.equal(edge.add(fragment(0, bytesOf(8, 2), true, 24)), "too-big");

  // A smaller limit for this reassembly.
  const small = new Reassembly(1000);
  assert.equal(small.add(fragment(976, bytesOf(8, 1), false)), "too-big");
});

Deno.test("reassembly: inconsistent fragments are malformed", () => {
  const cases: [string, [number, number, boolean][]][] = [
    ["MF with a length that is not a multiple of 8", [[0, 8, true], [8, 7, true]]],
    ["MF with no data", [[0, 8, true], [8, 0, true]]],
    ["two different ends", [[0, 8, true], [16, 8, false], [32, 8, false]]],
    ["data past the announced end", [[16, 8, false], [24, 8, true]]],
    ["an end before data already held", [[16, 8, true], [0, 8, false]]],
  ];
  for (const [name, pieces] of cases) {
    const reassembly = new Reassembly();
    const results = pieces.map(([offset, length, more], i) =>
      reassembly.add(fragment(offset, bytesOf(length, i + 1), more))
    );
    assert.equal(results.at(-1), "malformed", name);
    assert.ok(results.slice(0, -1).every((r) => r === "incomplete"), name);
    assert.equal(reassembly.heldBytes, 0, name);
  }
});

Deno.test("reassembly: the first fragment's options survive, MF and offset are cleared", () => {
  const data = bytesOf(24, 9);
  const reassembly = new Reassembly();
  assert.equal(reassembly.add(fragment(16, data.subarray(16), false)), "incomplete");
  assert.equal(reassembly.add(fragment(0, data.subarray(0, 8), true, 28)), "incomplete");
  assert.equal(reassembly.firstFragment?.headerLength, 28);
  assert.equal(reassembly.add(fragment(8, data.subarray(8, 16), true)), "complete");
  const datagram = reassembly.assemble();
  const parsed = parseIpv4(datagram);
  assert.ok(parsed.ok, "checksum recomputed");
  const packet = parsed.value;
  assert.equal(packet.headerLength, 28);
  assert.deepEqual(packet.options, new Uint8Array(8).fill(1));
  assert.equal(packet.totalLength, 28 + 24);
  assert.equal(packet.moreFragments, false);
  assert.equal(packet.fragmentOffset, 0);
  assert.deepEqual(packet.payload, data);
});

Deno.test("reassembly: eight-byte fragments in reverse order", () => {
  const data = bytesOf(8 * 200 + 5, 3);
  const reassembly = new Reassembly();
  const results: string[] = [];
  for (let offset = 8 * 200; offset >= 0; offset -= 8) {
    const end = Math.min(offset + 8, data.length);
    results.push(reassembly.add(fragment(offset, data.subarray(offset, end), end < data.length)));
  }
  assert.equal(results.pop(), "complete");
  assert.ok(results.every((r) => r === "incomplete"));
  assert.deepEqual(new Ipv4Packet(reassembly.assemble()).payload, data);
});
