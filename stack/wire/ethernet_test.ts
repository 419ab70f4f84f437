import assert from "node:assert/strict";
import {
  emitEthernetHeader,
  ETHERNET_HEADER_BYTES,
  EthernetFrame,
  EtherType,
  parseEthernet,
} from "./ethernet.ts";
import { hex } from "../../tests/helpers/bytes.ts";

// A real ARP request captured on a Linux veth (52:54:00:12:34:56, 10.200.0.1, asking for
// 10.200.0.2). Linux hands the unpadded 42-byte frame to packet sockets on the sending side.
const ARP_REQUEST_FRAME = hex(`
  ffffffffffff 525400123456 0806
  0001 0800 06 04 0001 525400123456 0ac80001 000000000000 0ac80002`);

Deno.test("ethernet: deconstruct a captured frame", () => {
  const frame = new EthernetFrame(ARP_REQUEST_FRAME);
  assert.equal(frame.destination, 0xffff_ffff_ffff);
  assert.equal(frame.source, 0x5254_0012_3456);
  assert.equal(frame.etherType, EtherType.Arp);
  assert.equal(frame.payload.length, 28);
  assert.deepEqual(frame.payload.subarray(0, 4), hex("0001 0800"));
});

Deno.test("ethernet: construct through setters", () => {
  const bytes = new Uint8Array(42);
  const frame = new EthernetFrame(bytes);
  frame.destination = 0xffff_ffff_ffff;
  frame.source = 0x5254_0012_3456;
  frame.etherType = 0x0806;
  frame.payload.set(ARP_REQUEST_FRAME.subarray(14));
  assert.deepEqual(bytes, ARP_REQUEST_FRAME);
});

Deno.test("ethernet: parse", () => {
  const result = parseEthernet(ARP_REQUEST_FRAME);
  assert.ok(result.ok);
  assert.equal(result.value.etherType, 0x0806);
  assert.equal(result.value.bytes, ARP_REQUEST_FRAME);
});

Deno.test("ethernet: emit the header", () => {
  const buf = new Uint8Array(14);
  emitEthernetHeader(buf, {
    destination: 0xffff_ffff_ffff,
    source: 0x5254_0012_3456,
    etherType: EtherType.Arp,
  });
  assert.deepEqual(buf, ARP_REQUEST_FRAME.subarray(0, 14));
});

Deno.test("ethernet: every length below 14 is truncated, 14 is an empty payload", () => {
  for (let length = 0; length < ETHERNET_HEADER_BYTES; length++) {
    assert.deepEqual(parseEthernet(ARP_REQUEST_FRAME.subarray(0, length)), {
      ok: false,
      reason: "truncated",
    });
  }
  const result = parseEthernet(ARP_REQUEST_FRAME.subarray(0, 14));
  assert.ok(result.ok);
  assert.equal(result.value.payload.length, 0);
});

Deno.test("ethernet: unknown EtherTypes are kept", () => {
  const bytes = ARP_REQUEST_FRAME.slice();
  bytes[12] = 0x88;
  bytes[13] = 0xcc; // LLDP
  const result = parseEthernet(bytes);
  assert.ok(result.ok);
  assert.equal(result.value.etherType, 0x88cc);
});

Deno.test("ethernet: the view honours byteOffset", () => {
  const backing = new Uint8Array(3 + ARP_REQUEST_FRAME.length);
  backing.set(ARP_REQUEST_FRAME, 3);
  const frame = new EthernetFrame(backing.subarray(3));
  assert.equal(frame.etherType, 0x0806);
  assert.equal(frame.source, 0x5254_0012_3456);
  frame.etherType = EtherType.Ipv6;
  assert.deepEqual(backing.subarray(15, 17), hex("86dd"));
  assert.equal(backing[0], 0);
});

Deno.test("ethernet: emitting into a short buffer is a programmer error", () => {
  assert.throws(
    () => emitEthernetHeader(new Uint8Array(13), { destination: 0, source: 0, etherType: 0 }),
    RangeError,
  );
});
