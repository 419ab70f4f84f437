import assert from "node:assert/strict";
import { emitUdp, emitUdpHeader, parseUdp, UDP_HEADER_BYTES, UdpDatagram } from "./udp.ts";
import { hex } from "../../tests/helpers/bytes.ts";

const SOURCE = 0x0ac8_0001; // 10.200.0.1
const DESTINATION = 0x0ac8_0002; // 10.200.0.2

// A DNS query for example.com A (RFC 1035 §4.1: id 0x1234, RD set, one question).
const DNS_QUERY = hex("1234 0100 0001 0000 0000 0000 07 6578616d706c65 03 636f6d 00 0001 0001");
// The UDP datagram Linux sent for it from 10.200.0.1:40000 to 10.200.0.2:53, captured on a veth
// pair with transmit checksum offload turned off (with it on, the field holds only the folded
// pseudo-header sum, 0x15c9, for hardware to finish). 37 bytes, so the checksum covers an odd
// length.
const DNS_DATAGRAM = hex(`9c40 0035 0025 6bfa
  1234 0100 0001 0000 0000 0000 07 6578616d706c65 03 636f6d 00 0001 0001`);

Deno.test("udp: deconstruct a captured DNS query", () => {
  const datagram = new UdpDatagram(DNS_DATAGRAM);
  assert.equal(datagram.sourcePort, 40000);
  assert.equal(datagram.destinationPort, 53);
  assert.equal(datagram.length, 37);
  assert.equal(datagram.checksum, 0x6bfa);
  assert.deepEqual(datagram.payload, DNS_QUERY);
  assert.equal(datagram.verifyChecksum(SOURCE, DESTINATION), true);
});

Deno.test("udp: construct through setters", () => {
  const bytes = new Uint8Array(37);
  const datagram = new UdpDatagram(bytes);
  datagram.sourcePort = 40000;
  datagram.destinationPort = 53;
  datagram.length = 37;
  datagram.payload.set(DNS_QUERY);
  datagram.fillChecksum(SOURCE, DESTINATION);
  assert.deepEqual(bytes, DNS_DATAGRAM);
});

Deno.test("udp: parse", () => {
  const result = parseUdp(DNS_DATAGRAM, SOURCE, DESTINATION);
  assert.ok(result.ok);
  assert.equal(result.value.destinationPort, 53);
  assert.deepEqual(result.value.payload, DNS_QUERY);
});

Deno.test("udp: emit", () => {
  const buf = new Uint8Array(64).fill(0xee);
  const n = emitUdp(
    { sourcePort: 40000, destinationPort: 53, payload: DNS_QUERY },
    buf,
    SOURCE,
    DESTINATION,
  );
  assert.equal(n, 37);
  assert.deepEqual(buf.subarray(0, 37), DNS_DATAGRAM);
  assert.deepEqual(buf.subarray(37), new Uint8Array(27).fill(0xee));
});

Deno.test("udp: emit the header for a payload already in place", () => {
  const backing = new Uint8Array(34 + 37);
  backing.set(DNS_QUERY, 34 + 8);
  const n = emitUdpHeader(
    { sourcePort: 40000, destinationPort: 53, payloadLength: DNS_QUERY.length },
    backing.subarray(34),
    SOURCE,
    DESTINATION,
  );
  assert.equal(n, 37);
  assert.deepEqual(backing.subarray(34), DNS_DATAGRAM);
  assert.deepEqual(backing.subarray(0, 34), new Uint8Array(34));
});

Deno.test("udp: a computed checksum of zero is sent as 0xffff (RFC 768)", () => {
  // Pseudo-header 0ac8+0001+0ac8+0002+0011+000a = 0x15ae; header 0001+0002+000a = 0x000d;
  // total 0x15bb. The data word 0xea44 brings the sum to 0xffff, whose complement is 0.
  const buf = new Uint8Array(10);
  emitUdp({ sourcePort: 1, destinationPort: 2, payload: hex("ea44") }, buf, SOURCE, DESTINATION);
  assert.deepEqual(buf, hex("0001 0002 000a ffff ea44"));
  assert.ok(parseUdp(buf, SOURCE, DESTINATION).ok);
});

Deno.test("udp: a zero checksum means none was sent and is accepted", () => {
  const bytes = DNS_DATAGRAM.slice();
  bytes[6] = 0;
  bytes[7] = 0;
  bytes[20] ^= 0xff; // even a corrupted payload cannot be detected then
  assert.ok(parseUdp(bytes, SOURCE, DESTINATION).ok);
});

Deno.test("udp: every length below 8 is truncated", () => {
  for (let length = 0; length < UDP_HEADER_BYTES; length++) {
    assert.deepEqual(parseUdp(DNS_DATAGRAM.subarray(0, length), SOURCE, DESTINATION), {
      ok: false,
      reason: "truncated",
    });
  }
});

Deno.test("udp: a datagram cut after the header has a bad length", () => {
  for (let length = UDP_HEADER_BYTES; length < DNS_DATAGRAM.length; length++) {
    assert.deepEqual(
      parseUdp(DNS_DATAGRAM.subarray(0, length), SOURCE, DESTINATION),
      { ok: false, reason: "bad-length" },
      `length ${length}`,
    );
  }
});

Deno.test("udp: a length field below 8 or beyond the bytes is a bad length", () => {
  for (const length of [0, 1, 7, 38, 0xffff]) {
    const bytes = DNS_DATAGRAM.slice();
    bytes[4] = length >>> 8;
    bytes[5] = length & 0xff;
    assert.deepEqual(
      parseUdp(bytes, SOURCE, DESTINATION, { verifyChecksum: false }),
      { ok: false, reason: "bad-length" },
      `length ${length}`,
    );
  }
});

Deno.test("udp: bytes after the length field's end are ignored", () => {
  const padded = new Uint8Array(DNS_DATAGRAM.length + 9);
  padded.set(DNS_DATAGRAM);
  padded.fill(0x55, DNS_DATAGRAM.length);
  const result = parseUdp(padded, SOURCE, DESTINATION);
  assert.ok(result.ok);
  assert.deepEqual(result.value.payload, DNS_QUERY);
});

Deno.test("udp: corrupted bytes or the wrong pseudo-header are a bad checksum", () => {
  for (let byte = 0; byte < DNS_DATAGRAM.length; byte++) {
    if (byte === 4 || byte === 5) continue; // the length is checked first
    const bytes = DNS_DATAGRAM.slice();
    bytes[byte] ^= 0x01;
    assert.deepEqual(
      parseUdp(bytes, SOURCE, DESTINATION),
      { ok: false, reason: "bad-checksum" },
      `byte ${byte}`,
    );
  }
  assert.deepEqual(parseUdp(DNS_DATAGRAM, SOURCE, 0x0ac8_0003), {
    ok: false,
    reason: "bad-checksum",
  });
  assert.ok(parseUdp(DNS_DATAGRAM, SOURCE, 0x0ac8_0003, { verifyChecksum: false }).ok);
});

Deno.test("udp: emitting more than fits is a programmer error", () => {
  assert.throws(
    () =>
      emitUdp({ sourcePort: 1, destinationPort: 2, payload: DNS_QUERY }, new Uint8Array(36), 1, 2),
    RangeError,
  );
  assert.throws(
    () =>
      emitUdpHeader(
        { sourcePort: 1, destinationPort: 2, payloadLength: 65508 },
        new Uint8Array(65516),
        1,
        2,
      ),
    RangeError,
  );
});
