/**
 * Property-based tests of every wire parser and emitter (fast-check): arbitrary bytes are parsed
 * or refused with a string reason and never throw; emit then parse gives back the same fields;
 * checksums written by the emitters verify under an independent, byte-at-a-time reference of
 * RFC 1071 (not the module's own word-summing code); a single flipped bit in a checksummed packet
 * is always refused.
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { emitArp, parseArp } from "../stack/wire/arp.ts";
import { emitEthernetHeader, parseEthernet } from "../stack/wire/ethernet.ts";
import {
  emitIcmpEcho,
  emitIcmpError,
  ICMP_ERROR_MAX_QUOTE_BYTES,
  parseIcmp,
  quoteForIcmpError,
} from "../stack/wire/icmp.ts";
import { emitIpv4Header, parseIpv4 } from "../stack/wire/ipv4.ts";
import { emitUdp, parseUdp } from "../stack/wire/udp.ts";
import {
  emitTcp,
  parseTcp,
  parseTcpOptions,
  type TcpOptions,
  tcpSegmentLength,
} from "../stack/wire/tcp.ts";

/** Moderate run counts keep the whole file to a few seconds. */
const RUNS = { numRuns: 1000, seed: 0x5eed };
const MANY = { numRuns: 5000, seed: 0x5eed };

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const mac = fc.tuple(u16, u32).map(([high, low]) => high * 0x1_0000_0000 + low);
const anyBytes = fc.uint8Array({ maxLength: 200 });

// ---------------------------------------------------------------- reference checksum (RFC 1071)

/** One's complement sum of big-endian 16-bit words, one byte at a time, folded as it goes. */
function onesSum(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  for (let i = 0; i < bytes.length; i++) {
    sum += i % 2 === 0 ? bytes[i] << 8 : bytes[i];
    if (sum > 0xffff) sum = (sum & 0xffff) + 1;
  }
  return sum;
}

/** Pseudo-header of RFC 768 / RFC 9293 §3.1 as 12 literal bytes. */
function pseudoHeader(source: number, destination: number, protocol: number, length: number) {
  const bytes = new Uint8Array(12);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, source);
  view.setUint32(4, destination);
  bytes[9] = protocol;
  view.setUint16(10, length);
  return bytes;
}

/** True when the one's complement sum over pseudo-header and data is all ones (RFC 1071 §1). */
function verifiesWithPseudo(data: Uint8Array, source: number, destination: number, proto: number) {
  const pseudo = onesSum(pseudoHeader(source, destination, proto, data.length));
  return onesSum(data, pseudo) === 0xffff;
}

/** Returns a copy of `bytes` with bit `bit` (0..length*8-1) flipped. */
function flip(bytes: Uint8Array, bit: number): Uint8Array {
  const copy = bytes.slice();
  copy[bit >>> 3] ^= 0x80 >>> (bit & 7);
  return copy;
}

/** Asserts `result` is a well-formed ParseResult (never a throw, reason a non-empty string). */
function assertResultShape(result: { ok: boolean; reason?: unknown }) {
  if (!result.ok) {
    assert.equal(typeof result.reason, "string");
    assert.ok((result.reason as string).length > 0);
  }
}

// ---------------------------------------------------------------- Ethernet

Deno.test("ethernet property: any bytes parse iff at least 14 bytes, never throw", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
      const result = parseEthernet(bytes);
      assertResultShape(result);
      assert.equal(result.ok, bytes.length >= 14);
      if (result.ok) {
        const frame = result.value;
        assert.equal(frame.payload.length, bytes.length - 14);
        assert.equal(frame.etherType, (bytes[12] << 8) | bytes[13]);
      }
    }),
    MANY,
  );
});

Deno.test("ethernet property: emit then parse returns the same header", () => {
  fc.assert(
    fc.property(mac, mac, u16, fc.uint8Array({ maxLength: 64 }), (dst, src, type, payload) => {
      const buf = new Uint8Array(14 + payload.length);
      buf.set(payload, 14);
      emitEthernetHeader(buf, { destination: dst, source: src, etherType: type });
      const result = parseEthernet(buf);
      assert.ok(result.ok);
      assert.deepEqual(
        [result.value.destination, result.value.source, result.value.etherType],
        [dst, src, type],
      );
      assert.deepEqual(result.value.payload, payload);
    }),
    RUNS,
  );
});

// ---------------------------------------------------------------- ARP

Deno.test("arp property: any bytes parse or are refused with a reason, never throw", () => {
  // Half the cases start with the Ethernet/IPv4 prefix so the later checks are reached too.
  const prefix = new Uint8Array([0, 1, 8, 0, 6, 4]);
  const input = fc.oneof(
    fc.uint8Array({ maxLength: 60 }),
    fc.uint8Array({ minLength: 0, maxLength: 40 }).map((rest) => {
      const bytes = new Uint8Array(prefix.length + rest.length);
      bytes.set(prefix);
      bytes.set(rest, prefix.length);
      return bytes;
    }),
  );
  fc.assert(
    fc.property(input, (bytes) => {
      const result = parseArp(bytes);
      assertResultShape(result);
      if (result.ok) {
        assert.ok(bytes.length >= 28);
        assert.deepEqual([...bytes.subarray(0, 6)], [0, 1, 8, 0, 6, 4]);
      }
    }),
    MANY,
  );
});

Deno.test("arp property: emit then parse returns the same fields", () => {
  const repr = fc.record({
    operation: u16,
    senderMac: mac,
    senderIp: u32,
    targetMac: mac,
    targetIp: u32,
  });
  fc.assert(
    fc.property(repr, fc.integer({ min: 0, max: 32 }), (r, padding) => {
      const buf = new Uint8Array(28 + padding);
      emitArp(r, buf);
      const result = parseArp(buf);
      assert.ok(result.ok);
      assert.deepEqual({ ...result.value }, { ...r });
    }),
    RUNS,
  );
});

// ---------------------------------------------------------------- IPv4

/** Bytes that look like IPv4 (version 4, plausible IHL and total length) so deep checks run. */
const ipv4ish = fc.tuple(
  fc.integer({ min: 0, max: 15 }),
  fc.integer({ min: 0, max: 120 }),
  fc.uint8Array({ minLength: 20, maxLength: 120 }),
  fc.boolean(),
).map(([ihl, totalLength, bytes, fixChecksum]) => {
  bytes[0] = 0x40 | ihl;
  bytes[2] = 0;
  bytes[3] = totalLength;
  if (fixChecksum) {
    const headerLength = Math.min(ihl * 4, bytes.length);
    bytes[10] = bytes[11] = 0;
    const sum = ~onesSum(bytes.subarray(0, headerLength)) & 0xffff;
    bytes[10] = sum >>> 8;
    bytes[11] = sum & 0xff;
  }
  return bytes;
});

Deno.test("ipv4 property: any bytes parse or are refused with a reason, never throw", () => {
  fc.assert(
    fc.property(fc.oneof(anyBytes, ipv4ish), fc.boolean(), (bytes, verifyChecksum) => {
      const result = parseIpv4(bytes, { verifyChecksum });
      assertResultShape(result);
      if (result.ok) {
        const packet = result.value;
        // What the parser promises: a version 4 header that fits, and a consistent total length.
        assert.equal(packet.version, 4);
        assert.ok(packet.headerLength >= 20 && packet.headerLength <= bytes.length);
        assert.ok(packet.totalLength >= packet.headerLength);
        assert.ok(packet.totalLength <= bytes.length);
        assert.equal(packet.payload.length, packet.totalLength - packet.headerLength);
        assert.equal(packet.options.length, packet.headerLength - 20);
        if (verifyChecksum) assert.equal(onesSum(packet.header), 0xffff);
      }
    }),
    MANY,
  );
});

const ipv4Repr = fc.record({
  source: u32,
  destination: u32,
  protocol: u8,
  ttl: u8,
  identification: u16,
  dontFragment: fc.boolean(),
  moreFragments: fc.boolean(),
  fragmentOffset: fc.integer({ min: 0, max: 0x1fff }).map((units) => units * 8),
  tos: u8,
});

Deno.test("ipv4 property: emit then parse returns the same fields; checksum verifies", () => {
  fc.assert(
    fc.property(
      ipv4Repr,
      fc.uint8Array({ maxLength: 100 }),
      fc.integer({ min: 0, max: 40 }),
      (repr, payload, padding) => {
        const buf = new Uint8Array(20 + payload.length + padding);
        buf.set(payload, 20);
        assert.equal(emitIpv4Header({ ...repr, payloadLength: payload.length }, buf), 20);
        // Independent check of the header checksum (RFC 791 §3.1, RFC 1071).
        assert.equal(onesSum(buf.subarray(0, 20)), 0xffff);
        const result = parseIpv4(buf);
        assert.ok(result.ok);
        const p = result.value;
        assert.deepEqual(
          {
            source: p.source,
            destination: p.destination,
            protocol: p.protocol,
            ttl: p.ttl,
            identification: p.identification,
            dontFragment: p.dontFragment,
            moreFragments: p.moreFragments,
            fragmentOffset: p.fragmentOffset,
            tos: p.tos,
          },
          { ...repr },
        );
        assert.equal(p.version, 4);
        assert.equal(p.headerLength, 20);
        assert.equal(p.totalLength, 20 + payload.length);
        assert.equal(p.reservedFlag, false);
        assert.deepEqual(p.payload, payload); // link padding excluded
      },
    ),
    RUNS,
  );
});

Deno.test("ipv4 property: one flipped header bit is always refused", () => {
  fc.assert(
    fc.property(ipv4Repr, fc.integer({ min: 0, max: 159 }), (repr, bit) => {
      const buf = new Uint8Array(20 + 8);
      emitIpv4Header({ ...repr, payloadLength: 8 }, buf);
      const result = parseIpv4(flip(buf, bit));
      assert.equal(result.ok, false);
    }),
    RUNS,
  );
});

// ---------------------------------------------------------------- ICMP

Deno.test("icmp property: any bytes parse iff >= 8 bytes with a valid checksum", () => {
  const checksummed = fc.uint8Array({ minLength: 0, maxLength: 80 }).map((bytes) => {
    if (bytes.length >= 4) {
      bytes[2] = bytes[3] = 0;
      const sum = ~onesSum(bytes) & 0xffff;
      bytes[2] = sum >>> 8;
      bytes[3] = sum & 0xff;
    }
    return bytes;
  });
  fc.assert(
    fc.property(fc.oneof(anyBytes, checksummed), (bytes) => {
      const result = parseIcmp(bytes);
      assertResultShape(result);
      assert.equal(result.ok, bytes.length >= 8 && onesSum(bytes) === 0xffff);
      if (result.ok) {
        const packet = result.value;
        assert.equal(packet.payload.length, bytes.length - 8);
        void [packet.type, packet.code, packet.identifier, packet.sequence, packet.nextHopMtu];
      }
    }),
    MANY,
  );
});

Deno.test("icmp property: echo emit then parse returns the same fields; checksum verifies", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(0, 8),
      u16,
      u16,
      fc.uint8Array({ maxLength: 100 }),
      (type, identifier, sequence, data) => {
        const buf = new Uint8Array(8 + data.length + 5);
        const n = emitIcmpEcho({ type, identifier, sequence, data }, buf);
        assert.equal(n, 8 + data.length);
        const message = buf.subarray(0, n);
        assert.equal(onesSum(message), 0xffff);
        const result = parseIcmp(message);
        assert.ok(result.ok);
        const p = result.value;
        assert.deepEqual([p.type, p.code, p.identifier, p.sequence], [
          type,
          0,
          identifier,
          sequence,
        ]);
        assert.deepEqual(p.payload, data);
      },
    ),
    RUNS,
  );
});

Deno.test("icmp property: error emit then parse returns type, code, MTU/pointer, quote", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(3, 11, 12),
      u8,
      u16,
      u8,
      fc.uint8Array({ minLength: 0, maxLength: 700 }),
      (type, code, nextHopMtu, pointer, datagram) => {
        const quoted = quoteForIcmpError(datagram);
        assert.equal(quoted.length, Math.min(datagram.length, ICMP_ERROR_MAX_QUOTE_BYTES));
        const extra = type === 12 ? { pointer } : type === 3 ? { nextHopMtu } : {};
        const buf = new Uint8Array(8 + quoted.length);
        emitIcmpError({ type, code, quoted, ...extra }, buf);
        assert.equal(onesSum(buf), 0xffff);
        const result = parseIcmp(buf);
        assert.ok(result.ok);
        const p = result.value;
        assert.deepEqual([p.type, p.code], [type, code]);
        if (type === 12) assert.equal(p.pointer, pointer);
        if (type === 3) assert.equal(p.nextHopMtu, nextHopMtu);
        assert.deepEqual(p.payload, quoted);
      },
    ),
    RUNS,
  );
});

Deno.test("icmp property: one flipped bit is always refused", () => {
  fc.assert(
    fc.property(u16, u16, fc.uint8Array({ maxLength: 40 }), u32, (id, seq, data, bitSeed) => {
      const buf = new Uint8Array(8 + data.length);
      emitIcmpEcho({ type: 8, identifier: id, sequence: seq, data }, buf);
      assert.equal(parseIcmp(flip(buf, bitSeed % (buf.length * 8))).ok, false);
    }),
    RUNS,
  );
});

// ---------------------------------------------------------------- UDP

Deno.test("udp property: any bytes parse or are refused with a reason, never throw", () => {
  const lengthish = fc.tuple(fc.uint8Array({ minLength: 8, maxLength: 80 }), u8, fc.boolean())
    .map(([bytes, length, noChecksum]) => {
      bytes[4] = 0;
      bytes[5] = length;
      if (noChecksum) bytes[6] = bytes[7] = 0;
      return bytes;
    });
  fc.assert(
    fc.property(fc.oneof(anyBytes, lengthish), u32, u32, fc.boolean(), (bytes, src, dst, check) => {
      const result = parseUdp(bytes, src, dst, { verifyChecksum: check });
      assertResultShape(result);
      if (result.ok) {
        const d = result.value;
        assert.ok(d.length >= 8 && d.length <= bytes.length);
        assert.equal(d.payload.length, d.length - 8);
        if (check && d.checksum !== 0) {
          assert.ok(verifiesWithPseudo(bytes.subarray(0, d.length), src, dst, 17));
        }
      }
    }),
    MANY,
  );
});

Deno.test("udp property: emit then parse returns the same fields; checksum verifies", () => {
  fc.assert(
    fc.property(
      u16,
      u16,
      fc.uint8Array({ maxLength: 200 }),
      u32,
      u32,
      fc.integer({ min: 0, max: 16 }),
      (sourcePort, destinationPort, payload, src, dst, trailing) => {
        const buf = new Uint8Array(8 + payload.length + trailing);
        const n = emitUdp({ sourcePort, destinationPort, payload }, buf, src, dst);
        assert.equal(n, 8 + payload.length);
        const datagram = buf.subarray(0, n);
        // RFC 768: checksum over pseudo-header and datagram; never sent as zero.
        assert.notEqual((buf[6] << 8) | buf[7], 0);
        assert.ok(verifiesWithPseudo(datagram, src, dst, 17));
        const result = parseUdp(buf, src, dst);
        assert.ok(result.ok);
        const d = result.value;
        assert.deepEqual([d.sourcePort, d.destinationPort, d.length], [
          sourcePort,
          destinationPort,
          n,
        ]);
        assert.deepEqual(d.payload, payload);
      },
    ),
    RUNS,
  );
});

Deno.test("udp property: a different pseudo-header address is refused (unless checksum 0)", () => {
  fc.assert(
    fc.property(
      u16,
      u16,
      fc.uint8Array({ maxLength: 40 }),
      u32,
      u32,
      u32,
      (sp, dp, pl, s, d, x) => {
        const buf = new Uint8Array(8 + pl.length);
        emitUdp({ sourcePort: sp, destinationPort: dp, payload: pl }, buf, s, d);
        // Changing the source by a value whose 16-bit halves do not sum to 0 mod 0xffff must show.
        const other = (s ^ (x | 1)) >>> 0;
        const delta = ((other >>> 16) + (other & 0xffff) - (s >>> 16) - (s & 0xffff)) % 0xffff;
        fc.pre(delta !== 0);
        assert.equal(parseUdp(buf, other, d).ok, false);
      },
    ),
    RUNS,
  );
});

// ---------------------------------------------------------------- TCP

const sackBlock = fc.record({ start: u32, end: u32 });
const tcpOptions = fc.record({
  mss: fc.option(u16, { nil: undefined }),
  windowScale: fc.option(u8, { nil: undefined }),
  sackPermitted: fc.option(fc.constant(true), { nil: undefined }),
  timestamps: fc.option(fc.record({ value: u32, echo: u32 }), { nil: undefined }),
  sackBlocks: fc.option(fc.array(sackBlock, { minLength: 1, maxLength: 4 }), { nil: undefined }),
}).map((o) => JSON.parse(JSON.stringify(o)) as TcpOptions)
  .filter((o) => {
    // Keep only option sets that fit in 40 bytes (MSS 4, TS 12 or SACK-perm 4, WS 4, SACK 4+8n).
    let n = o.mss !== undefined ? 4 : 0;
    n += o.timestamps ? 12 : o.sackPermitted ? 4 : 0;
    n += o.windowScale !== undefined ? 4 : 0;
    n += o.sackBlocks ? 4 + 8 * o.sackBlocks.length : 0;
    return n <= 40;
  });

/** Bytes shaped like a TCP header with a random data offset and random option bytes. */
const tcpish = fc.tuple(
  fc.uint8Array({ minLength: 20, maxLength: 100 }),
  fc.integer({ min: 0, max: 15 }),
  fc.array(fc.constantFrom(0, 1, 2, 3, 4, 5, 8, 10, 30, 254), { maxLength: 40 }),
).map(([bytes, offset, optionBytes]) => {
  bytes[12] = (offset << 4) | (bytes[12] & 0x0f);
  bytes.set(optionBytes.slice(0, Math.max(0, Math.min(bytes.length, offset * 4) - 20)), 20);
  return bytes;
});

Deno.test("tcp property: any bytes parse or are refused with a reason, never throw", () => {
  fc.assert(
    fc.property(fc.oneof(anyBytes, tcpish), u32, u32, (bytes, src, dst) => {
      for (const verifyChecksum of [true, false]) {
        const result = parseTcp(bytes, src, dst, { verifyChecksum });
        assertResultShape(result);
        if (result.ok) {
          const seg = result.value;
          assert.ok(seg.headerLength >= 20 && seg.headerLength <= bytes.length);
          assert.equal(seg.payload.length, bytes.length - seg.headerLength);
          assert.equal(typeof seg.options, "object");
          assert.ok(seg.seqLength >= seg.payload.length);
          if (verifyChecksum) assert.ok(verifiesWithPseudo(bytes, src, dst, 6));
        }
      }
    }),
    MANY,
  );
});

Deno.test("tcp property: any option bytes parse or are refused, never throw", () => {
  const optionish = fc.array(
    fc.oneof(u8, fc.constantFrom(0, 1, 2, 3, 4, 5, 8, 10, 18, 26, 34)),
    { maxLength: 40 },
  ).map((a) => new Uint8Array(a));
  fc.assert(
    fc.property(optionish, (bytes) => {
      const result = parseTcpOptions(bytes);
      assertResultShape(result);
      if (result.ok) {
        const o = result.value;
        if (o.mss !== undefined) assert.ok(o.mss >= 0 && o.mss <= 0xffff);
        if (o.sackBlocks) assert.ok(o.sackBlocks.length >= 1 && o.sackBlocks.length <= 4);
      }
    }),
    MANY,
  );
});

Deno.test("tcp property: emit then parse returns fields, options and data; checksum verifies", () => {
  fc.assert(
    fc.property(
      fc.record({
        sourcePort: u16,
        destinationPort: u16,
        seq: u32,
        ack: u32,
        flags: u8,
        window: u16,
        urgent: u16,
      }),
      tcpOptions,
      fc.uint8Array({ maxLength: 120 }),
      u32,
      u32,
      (header, options, payload, src, dst) => {
        const fields = { ...header, options };
        const length = tcpSegmentLength(fields, payload.length);
        const buf = new Uint8Array(length);
        assert.equal(emitTcp(buf, fields, payload, src, dst), length);
        // RFC 9293 §3.1: the checksum covers pseudo-header, header, options and data.
        assert.ok(verifiesWithPseudo(buf, src, dst, 6));
        assert.equal(((buf[12] >>> 4) * 4 - 20) % 4, 0);
        const result = parseTcp(buf, src, dst);
        assert.ok(result.ok);
        const seg = result.value;
        assert.deepEqual(
          {
            sourcePort: seg.sourcePort,
            destinationPort: seg.destinationPort,
            seq: seg.seq,
            ack: seg.ack,
            flags: seg.flags,
            window: seg.window,
            urgent: seg.urgent,
          },
          { ...header },
        );
        assert.deepEqual({ ...seg.options }, options);
        assert.deepEqual(seg.payload, payload);
      },
    ),
    RUNS,
  );
});

Deno.test("tcp property: one flipped bit is always refused", () => {
  fc.assert(
    fc.property(tcpOptions, fc.uint8Array({ maxLength: 40 }), u32, u32, u32, (o, pl, s, d, b) => {
      const fields = { sourcePort: 1, destinationPort: 2, seq: 3, ack: 4, flags: 0x10, window: 5 };
      const withOptions = { ...fields, options: o };
      const buf = new Uint8Array(tcpSegmentLength(withOptions, pl.length));
      emitTcp(buf, withOptions, pl, s, d);
      assert.equal(parseTcp(flip(buf, b % (buf.length * 8)), s, d).ok, false);
    }),
    RUNS,
  );
});
