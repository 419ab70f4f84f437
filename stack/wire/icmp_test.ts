import assert from "node:assert/strict";
import {
  emitIcmpEcho,
  emitIcmpError,
  ICMP_ERROR_MAX_QUOTE_BYTES,
  ICMP_HEADER_BYTES,
  IcmpPacket,
  IcmpType,
  IcmpUnreachableCode,
  parseIcmp,
  quoteForIcmpError,
} from "./icmp.ts";
import { hex } from "../../tests/helpers/bytes.ts";

// 16 bytes of struct timeval, then the `-p 0102` pattern, as Linux `ping` sends them.
const ECHO_DATA = hex(`024d076b00000000 3970090000000000 ${"0102".repeat(20)}`);
// The echo request and the reply Linux returned (captured on a veth pair). The reply's checksum
// is the request's plus 0x0800, since only the type byte changed (RFC 1624 incremental update).
const ECHO_REQUEST = hex(
  `0800 890c 0ea2 0001 ${"024d076b00000000 3970090000000000"} ${"0102".repeat(20)}`,
);
const ECHO_REPLY = hex(
  `0000 910c 0ea2 0001 ${"024d076b00000000 3970090000000000"} ${"0102".repeat(20)}`,
);

// A real UDP DNS query (10.200.0.1:40000 -> 10.200.0.2:53), and the port unreachable Linux sent
// back for it, quoting the whole 57-byte datagram.
const DNS_QUERY_PACKET = hex(`
  4500 0039 fd88 4000 4011 2799 0ac8 0001 0ac8 0002
  9c40 0035 0025 6bfa
  1234 0100 0001 0000 0000 0000 07 6578616d706c65 03 636f6d 00 0001 0001`);
const PORT_UNREACHABLE = hex(
  `0303 12c6 0000 0000 ${
    Array.from(DNS_QUERY_PACKET, (b) => b.toString(16).padStart(2, "0")).join("")
  }`,
);

// Fragmentation needed with next-hop MTU 1400 (RFC 1191 §4), quoting the classic header
// 4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7 and 8 UDP bytes (50000 -> 53, length 95).
// Checksum by hand: the valid IP header sums to 0xffff (the identity), so the sum is
// 0304 + 0578 + c350 + 0035 + 005f = 0xcc60, complement 0x339f.
const CLASSIC_HEADER = hex("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7");
const FRAG_NEEDED_QUOTE = hex(
  "4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7 c350 0035 005f 0000",
);
const FRAG_NEEDED = hex(`0304 339f 0000 0578
  4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7 c350 0035 005f 0000`);

// Parameter problem pointing at octet 1, quoting the classic header. By hand: 0c00 + 0100 =
// 0x0d00, complement 0xf2ff.
const PARAMETER_PROBLEM = hex(`0c00 f2ff 0100 0000
  4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7`);

Deno.test("icmp: deconstruct a captured echo request", () => {
  const packet = new IcmpPacket(ECHO_REQUEST);
  assert.equal(packet.type, IcmpType.EchoRequest);
  assert.equal(packet.code, 0);
  assert.equal(packet.checksum, 0x890c);
  assert.equal(packet.identifier, 0x0ea2);
  assert.equal(packet.sequence, 1);
  assert.deepEqual(packet.payload, ECHO_DATA);
  assert.equal(packet.verifyChecksum(), true);
});

Deno.test("icmp: deconstruct a captured port unreachable", () => {
  const packet = new IcmpPacket(PORT_UNREACHABLE);
  assert.equal(packet.type, IcmpType.DestinationUnreachable);
  assert.equal(packet.code, IcmpUnreachableCode.Port);
  assert.equal(packet.nextHopMtu, 0);
  assert.deepEqual(packet.payload, DNS_QUERY_PACKET);
  const fragNeeded = new IcmpPacket(FRAG_NEEDED);
  assert.equal(fragNeeded.code, IcmpUnreachableCode.FragmentationNeeded);
  assert.equal(fragNeeded.nextHopMtu, 1400);
  assert.equal(new IcmpPacket(PARAMETER_PROBLEM).pointer, 1);
});

Deno.test("icmp: construct a reply through setters", () => {
  const bytes = new Uint8Array(ECHO_REPLY.length);
  const packet = new IcmpPacket(bytes);
  packet.type = IcmpType.EchoReply;
  packet.code = 0;
  packet.identifier = 0x0ea2;
  packet.sequence = 1;
  packet.payload.set(ECHO_DATA);
  packet.fillChecksum();
  assert.deepEqual(bytes, ECHO_REPLY);
});

Deno.test("icmp: parse", () => {
  for (
    const message of [ECHO_REQUEST, ECHO_REPLY, PORT_UNREACHABLE, FRAG_NEEDED, PARAMETER_PROBLEM]
  ) {
    const result = parseIcmp(message);
    assert.ok(result.ok);
    assert.equal(result.value.bytes, message);
  }
});

Deno.test("icmp: emit echo request and reply", () => {
  const buf = new Uint8Array(100).fill(0xee);
  const echo = { type: IcmpType.EchoRequest, identifier: 0x0ea2, sequence: 1, data: ECHO_DATA };
  assert.equal(emitIcmpEcho(echo, buf), 64);
  assert.deepEqual(buf.subarray(0, 64), ECHO_REQUEST);
  assert.deepEqual(buf.subarray(64), new Uint8Array(36).fill(0xee));
  assert.equal(emitIcmpEcho({ ...echo, type: IcmpType.EchoReply }, buf), 64);
  assert.deepEqual(buf.subarray(0, 64), ECHO_REPLY);
});

Deno.test("icmp: emit errors", () => {
  const buf = new Uint8Array(200).fill(0xee);
  assert.equal(
    emitIcmpError({ type: 3, code: 3, quoted: DNS_QUERY_PACKET }, buf),
    PORT_UNREACHABLE.length,
  );
  assert.deepEqual(buf.subarray(0, PORT_UNREACHABLE.length), PORT_UNREACHABLE);

  buf.fill(0xee);
  assert.equal(
    emitIcmpError({ type: 3, code: 4, nextHopMtu: 1400, quoted: FRAG_NEEDED_QUOTE }, buf),
    36,
  );
  assert.deepEqual(buf.subarray(0, 36), FRAG_NEEDED);

  buf.fill(0xee);
  assert.equal(
    emitIcmpError(
      { type: IcmpType.ParameterProblem, code: 0, pointer: 1, quoted: CLASSIC_HEADER },
      buf,
    ),
    28,
  );
  assert.deepEqual(buf.subarray(0, 28), PARAMETER_PROBLEM);
});

Deno.test("icmp: an odd-length message checksums with a zero pad byte", () => {
  // 0800 + 0001 + 0001 + 6100 ("a" padded) = 0x6902, complement 0x96fd.
  const expected = hex("0800 96fd 0001 0001 61");
  const buf = new Uint8Array(9);
  emitIcmpEcho({ type: 8, identifier: 1, sequence: 1, data: hex("61") }, buf);
  assert.deepEqual(buf, expected);
  assert.ok(parseIcmp(expected).ok);
});

Deno.test("icmp: every length below 8 is truncated", () => {
  for (let length = 0; length < ICMP_HEADER_BYTES; length++) {
    assert.deepEqual(parseIcmp(ECHO_REQUEST.subarray(0, length)), {
      ok: false,
      reason: "truncated",
    });
  }
});

Deno.test("icmp: a cut or corrupted message is a bad checksum", () => {
  // Cutting off the last 0x01 0x02 pair changes the sum.
  assert.deepEqual(parseIcmp(ECHO_REQUEST.subarray(0, 62)), { ok: false, reason: "bad-checksum" });
  for (let byte = 0; byte < ECHO_REQUEST.length; byte++) {
    const bytes = ECHO_REQUEST.slice();
    bytes[byte] ^= 0x10;
    assert.deepEqual(parseIcmp(bytes), { ok: false, reason: "bad-checksum" }, `byte ${byte}`);
  }
});

Deno.test("icmp: the view honours byteOffset", () => {
  const backing = new Uint8Array(20 + 64);
  backing.set(ECHO_REQUEST, 20);
  const result = parseIcmp(backing.subarray(20));
  assert.ok(result.ok);
  assert.equal(result.value.identifier, 0x0ea2);
  result.value.sequence = 2;
  assert.deepEqual(backing.subarray(26, 28), hex("0002"));
});

Deno.test("icmp: quotes are capped at 548 bytes (RFC 1812 §4.3.2.3)", () => {
  const big = new Uint8Array(1500);
  assert.equal(quoteForIcmpError(big).length, ICMP_ERROR_MAX_QUOTE_BYTES);
  assert.equal(quoteForIcmpError(DNS_QUERY_PACKET).length, 57);
});

Deno.test("icmp: emitting into a short buffer is a programmer error", () => {
  assert.throws(
    () =>
      emitIcmpEcho({ type: 8, identifier: 0, sequence: 0, data: ECHO_DATA }, new Uint8Array(63)),
    RangeError,
  );
  assert.throws(
    () => emitIcmpError({ type: 3, code: 3, quoted: DNS_QUERY_PACKET }, new Uint8Array(64)),
    RangeError,
  );
});
