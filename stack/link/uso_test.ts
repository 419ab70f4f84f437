import assert from "node:assert/strict";
import fc from "fast-check";
import { MAX_UDP_SEGMENTS, segmentUdpFrame } from "./uso.ts";
import { hex } from "../../tests/helpers/bytes.ts";

/**
 * Captured from a TAP with IFF_VNET_HDR and TUNSETOFFLOAD(CSUM|TSO4|TSO6|USO4|USO6) on Linux 6.18:
 * a kernel socket 10.0.0.1:40000 sent 25 bytes ("A".."Y") to 10.0.0.2:7000 with `UDP_SEGMENT` 10.
 * The 10-byte vnet header says NEEDS_CSUM, gso_type 5 (UDP_L4), hdr_len 42, gso_size 10,
 * csum_start 34, csum_offset 6; the frame is one IPv4 datagram of 53 bytes, UDP length 33.
 */
const SUPER_FRAME_WITH_VNET = hex(
  "01052a000a00220006000200000000024ab329fbf6e6080045000035d15d4000401155580a0000010a000002" +
    "9c401b58002114354142434445464748494a4b4c4d4e4f50515253545556575859",
);

/**
 * The same send captured with USO off: the kernel segmented it in software into these three
 * frames (vnet header removed). Their UDP checksum fields hold only the pseudo-header sum
 * (NEEDS_CSUM: the device finishes it), and their IP identification comes from another send.
 */
const KERNEL_SEGMENTS = [
  "020000000002" +
  "6abce75dc2e1080045000026f4f44000401131d00a0000010a0000029c401b58001214264142434445464748494a",
  "020000000002" +
  "6abce75dc2e1080045000026f4f54000401131cf0a0000010a0000029c401b58001214264b4c4d4e4f5051525354",
  "020000000002" +
  "6abce75dc2e1080045000021f4f64000401131d30a0000010a0000029c401b58000d14215556575859",
].map(hex);

/** RFC 1071 one's complement sum, byte pair by byte pair: an independent reference. */
function onesComplementSum(bytes: number[]): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i] << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return sum;
}

Deno.test("USO: a captured UDP GSO super-frame becomes the datagrams the kernel would have sent", () => {
  const superFrame = SUPER_FRAME_WITH_VNET.subarray(10);
  const gsoSize = SUPER_FRAME_WITH_VNET[4] | (SUPER_FRAME_WITH_VNET[5] << 8);
  const frames = segmentUdpFrame(superFrame, gsoSize)!;
  assert.equal(frames.length, 3);
  frames.forEach((frame, i) => {
    const kernel = KERNEL_SEGMENTS[i];
    assert.equal(frame.length, kernel.length, `frame ${i} length`);
    // Equal to the kernel's own segment except the source MAC (6-11: each capture had its own
    // TAP), the identification (18-19), the IP checksum (24-25) and the UDP checksum (40-41),
    // which the kernel left for the device to finish.
    const unequal = new Set([6, 7, 8, 9, 10, 11, 18, 19, 24, 25, 40, 41]);
    const masked = (f: Uint8Array) => [...f].map((b, j) => unequal.has(j) ? 0 : b);
    assert.deepEqual(masked(frame), masked(kernel), `frame ${i}`);
    // Identification: the super-frame's, plus the datagram's index.
    assert.equal((frame[18] << 8) | frame[19], 0xd15d + i);
    // A valid IPv4 header sums to 0xffff (RFC 1071).
    assert.equal(onesComplementSum([...frame.subarray(14, 34)]), 0xffff, `IP checksum ${i}`);
    // A valid UDP checksum: pseudo-header (addresses, protocol, UDP length) plus segment.
    const udpLength = (frame[38] << 8) | frame[39];
    const pseudo = [...frame.subarray(26, 34), 0, 17, udpLength >> 8, udpLength & 0xff];
    assert.equal(
      onesComplementSum([...pseudo, ...frame.subarray(34)]),
      0xffff,
      `UDP checksum ${i}`,
    );
  });
  const payload = frames.flatMap((f) => [...f.subarray(42)]);
  assert.equal(String.fromCharCode(...payload), "ABCDEFGHIJKLMNOPQRSTUVWXY");
});

Deno.test("USO: anything but a well-formed IPv4/UDP frame is refused", () => {
  const frame = SUPER_FRAME_WITH_VNET.slice(10);
  assert.equal(segmentUdpFrame(frame, 0), undefined, "zero segment size");
  assert.equal(segmentUdpFrame(frame.subarray(0, 40), 10), undefined, "truncated");
  const tcp = frame.slice();
  tcp[23] = 6;
  assert.equal(segmentUdpFrame(tcp, 10), undefined, "not UDP");
  const arp = frame.slice();
  arp[13] = 0x06;
  assert.equal(segmentUdpFrame(arp, 10), undefined, "not IPv4");
  const long = frame.slice();
  long[17] = 0xff;
  assert.equal(segmentUdpFrame(long, 10), undefined, "IP total length beyond the frame");
  const many = new Uint8Array(42 + MAX_UDP_SEGMENTS + 1);
  many.set(frame.subarray(0, 42));
  new DataView(many.buffer).setUint16(16, many.length - 14);
  assert.equal(segmentUdpFrame(many, 1), undefined, "more datagrams than Linux ever sends");
  assert.equal(segmentUdpFrame(many, 2)!.length, Math.ceil((MAX_UDP_SEGMENTS + 1) / 2));
});

Deno.test("USO property: any bytes and segment size give datagrams or a refusal, never a throw", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: -2, max: 2000 }), (b, n) => {
      const frames = segmentUdpFrame(b, n);
      assert.ok(frames === undefined || frames.length >= 1);
    }),
  );
});

Deno.test("USO property: split datagrams carry the whole payload in order, each checksum valid", () => {
  const header = SUPER_FRAME_WITH_VNET.slice(10, 10 + 42);
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 3000 }),
      fc.integer({ min: 1, max: 1472 }),
      (payload, size) => {
        fc.pre(Math.ceil(payload.length / size) <= MAX_UDP_SEGMENTS);
        const frame = new Uint8Array(42 + payload.length);
        frame.set(header);
        frame.set(payload, 42);
        new DataView(frame.buffer).setUint16(16, 28 + payload.length);
        new DataView(frame.buffer).setUint16(38, 8 + payload.length);
        const frames = segmentUdpFrame(frame, size)!;
        assert.deepEqual(new Uint8Array(frames.flatMap((f) => [...f.subarray(42)])), payload);
        for (const f of frames) {
          assert.ok(f.length - 42 <= size);
          assert.equal(onesComplementSum([...f.subarray(14, 34)]), 0xffff);
          const udpLength = (f[38] << 8) | f[39];
          assert.equal(udpLength, f.length - 34);
          const pseudo = [...f.subarray(26, 34), 0, 17, udpLength >> 8, udpLength & 0xff];
          assert.equal(onesComplementSum([...pseudo, ...f.subarray(34)]), 0xffff);
        }
      },
    ),
  );
});
