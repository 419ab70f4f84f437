import assert from "node:assert/strict";
import {
  ARP_PACKET_BYTES,
  ArpOperation,
  ArpPacket,
  type ArpRepr,
  emitArp,
  parseArp,
} from "./arp.ts";
import { hex } from "../../tests/helpers/bytes.ts";

// Captured on a Linux veth pair: 10.200.0.1 (52:54:00:12:34:56) asks who has 10.200.0.2, and
// 52:54:00:ab:cd:ef answers. Ethernet headers removed.
const REQUEST = hex(`
  0001 0800 06 04 0001
  525400123456 0ac80001
  000000000000 0ac80002`);
const REPLY = hex(`
  0001 0800 06 04 0002
  525400abcdef 0ac80002
  525400123456 0ac80001`);

const REQUEST_REPR: ArpRepr = {
  operation: ArpOperation.Request,
  senderMac: 0x5254_0012_3456,
  senderIp: 0x0ac8_0001,
  targetMac: 0,
  targetIp: 0x0ac8_0002,
};
const REPLY_REPR: ArpRepr = {
  operation: ArpOperation.Reply,
  senderMac: 0x5254_00ab_cdef,
  senderIp: 0x0ac8_0002,
  targetMac: 0x5254_0012_3456,
  targetIp: 0x0ac8_0001,
};

Deno.test("arp: deconstruct a captured request", () => {
  const packet = new ArpPacket(REQUEST);
  assert.equal(packet.hardwareType, 1);
  assert.equal(packet.protocolType, 0x0800);
  assert.equal(packet.hardwareLength, 6);
  assert.equal(packet.protocolLength, 4);
  assert.equal(packet.operation, 1);
  assert.equal(packet.senderMac, 0x5254_0012_3456);
  assert.equal(packet.senderIp, 0x0ac8_0001);
  assert.equal(packet.targetMac, 0);
  assert.equal(packet.targetIp, 0x0ac8_0002);
});

Deno.test("arp: construct a reply through setters", () => {
  const bytes = new Uint8Array(28);
  const packet = new ArpPacket(bytes);
  packet.hardwareType = 1;
  packet.protocolType = 0x0800;
  packet.hardwareLength = 6;
  packet.protocolLength = 4;
  packet.operation = 2;
  packet.senderMac = 0x5254_00ab_cdef;
  packet.senderIp = 0x0ac8_0002;
  packet.targetMac = 0x5254_0012_3456;
  packet.targetIp = 0x0ac8_0001;
  assert.deepEqual(bytes, REPLY);
});

Deno.test("arp: parse a captured request and reply", () => {
  assert.deepEqual(parseArp(REQUEST), { ok: true, value: REQUEST_REPR });
  assert.deepEqual(parseArp(REPLY), { ok: true, value: REPLY_REPR });
});

Deno.test("arp: emit a request and a reply", () => {
  const buf = new Uint8Array(28);
  emitArp(REQUEST_REPR, buf);
  assert.deepEqual(buf, REQUEST);
  emitArp(REPLY_REPR, buf);
  assert.deepEqual(buf, REPLY);
});

Deno.test("arp: Ethernet minimum-frame padding after the packet is ignored", () => {
  const padded = new Uint8Array(46);
  padded.set(REQUEST);
  assert.deepEqual(parseArp(padded), { ok: true, value: REQUEST_REPR });
});

Deno.test("arp: every length below 28 is truncated", () => {
  for (let length = 0; length < ARP_PACKET_BYTES; length++) {
    assert.deepEqual(parseArp(REQUEST.subarray(0, length)), { ok: false, reason: "truncated" });
  }
});

Deno.test("arp: other hardware and protocol types are refused", () => {
  const cases: [string, string][] = [
    ["0006 0800 06 04", "unsupported-hardware"], // IEEE 802 hardware
    ["0001 0800 08 04", "unsupported-hardware"], // Ethernet with a wrong address length
    ["0001 86dd 06 10", "unsupported-protocol"], // IPv6 protocol addresses
    ["0001 0800 06 10", "unsupported-protocol"], // IPv4 with a wrong address length
  ];
  for (const [fields, reason] of cases) {
    const bytes = REQUEST.slice();
    bytes.set(hex(fields));
    assert.deepEqual(parseArp(bytes), { ok: false, reason }, fields);
  }
});

Deno.test("arp: unknown operations are returned, not refused", () => {
  const bytes = REQUEST.slice();
  bytes[7] = 3; // RARP request (RFC 903)
  const result = parseArp(bytes);
  assert.ok(result.ok);
  assert.equal(result.value.operation, 3);
});

Deno.test("arp: the view honours byteOffset", () => {
  const backing = new Uint8Array(14 + 28);
  backing.set(REPLY, 14);
  const packet = new ArpPacket(backing.subarray(14));
  assert.equal(packet.operation, 2);
  assert.equal(packet.senderIp, 0x0ac8_0002);
  emitArp(REQUEST_REPR, backing.subarray(14));
  assert.deepEqual(backing.subarray(14), REQUEST);
  assert.deepEqual(backing.subarray(0, 14), new Uint8Array(14));
});

Deno.test("arp: emitting into a short buffer is a programmer error", () => {
  assert.throws(() => emitArp(REQUEST_REPR, new Uint8Array(27)), RangeError);
});
