import assert from "node:assert/strict";
import { createMemoryLinkPair } from "./memory.ts";
import { type ByteSink, PcapLink, PcapWriter } from "./pcap.ts";

/** A sink that keeps everything, optionally accepting at most `chunk` bytes per call. */
class MemorySink implements ByteSink {
  readonly #parts: number[] = [];
  calls = 0;
  constructor(readonly chunk = Infinity) {}
  writeSync(bytes: Uint8Array): number {
    this.calls++;
    const n = Math.min(bytes.length, this.chunk);
    for (let i = 0; i < n; i++) this.#parts.push(bytes[i]);
    return n;
  }
  get bytes(): Uint8Array {
    return Uint8Array.from(this.#parts);
  }
}

// The classic libpcap file format (pcap-savefile(5); draft-ietf-opsawg-pcap): a 24-byte file header
//   magic u32 = 0xa1b2c3d4 (microsecond timestamps), written in the file's byte order,
//   version_major u16 = 2, version_minor u16 = 4, thiszone i32 = 0, sigfigs u32 = 0,
//   snaplen u32, network (link type) u32 = 1 for LINKTYPE_ETHERNET,
// then per packet a 16-byte record header: ts_sec u32, ts_usec u32, incl_len u32, orig_len u32,
// followed by incl_len bytes of packet data. These files are little-endian, so the magic reads
// d4 c3 b2 a1 on disk.
const GLOBAL_HEADER_DEFAULT_SNAPLEN = [
  ...[0xd4, 0xc3, 0xb2, 0xa1], // magic
  ...[0x02, 0x00], // version_major 2
  ...[0x04, 0x00], // version_minor 4
  ...[0x00, 0x00, 0x00, 0x00], // thiszone
  ...[0x00, 0x00, 0x00, 0x00], // sigfigs
  ...[0x00, 0x00, 0x04, 0x00], // snaplen 262144 = 0x00040000
  ...[0x01, 0x00, 0x00, 0x00], // LINKTYPE_ETHERNET
];

Deno.test("pcap: global header bytes with the default snap length", () => {
  const sink = new MemorySink();
  new PcapWriter(sink);
  assert.deepEqual(sink.bytes, Uint8Array.from(GLOBAL_HEADER_DEFAULT_SNAPLEN));
});

Deno.test("pcap: global header carries a custom snap length, little-endian", () => {
  const sink = new MemorySink();
  new PcapWriter(sink, { snapLength: 1518 }); // 0x05ee
  assert.deepEqual(
    sink.bytes,
    Uint8Array.from([
      ...[0xd4, 0xc3, 0xb2, 0xa1, 0x02, 0x00, 0x04, 0x00],
      ...[0, 0, 0, 0, 0, 0, 0, 0],
      ...[0xee, 0x05, 0x00, 0x00],
      ...[0x01, 0x00, 0x00, 0x00],
    ]),
  );
});

Deno.test("pcap: a record header holds seconds, microseconds, captured and original length", () => {
  const sink = new MemorySink();
  // 1_000_000_001_500 ms = 1000000001 s (0x3b9aca01) + 500000 µs (0x0007a120).
  const writer = new PcapWriter(sink, { wallClockMs: () => 1_000_000_001_500 });
  writer.record(Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 0x01));
  assert.deepEqual(
    sink.bytes.subarray(24),
    Uint8Array.from([
      ...[0x01, 0xca, 0x9a, 0x3b], // ts_sec
      ...[0x20, 0xa1, 0x07, 0x00], // ts_usec
      ...[0x05, 0x00, 0x00, 0x00], // incl_len
      ...[0x05, 0x00, 0x00, 0x00], // orig_len
      ...[0xde, 0xad, 0xbe, 0xef, 0x01],
    ]),
  );
});

Deno.test("pcap: fractional milliseconds become whole microseconds", () => {
  const sink = new MemorySink();
  // 1234.5678 ms = 1 s + 234567.8 µs, truncated to 234567 = 0x00039447.
  const writer = new PcapWriter(sink, { wallClockMs: () => 1234.5678 });
  writer.record(new Uint8Array(0));
  assert.deepEqual(
    sink.bytes.subarray(24, 32),
    Uint8Array.from([0x01, 0x00, 0x00, 0x00, 0x47, 0x94, 0x03, 0x00]),
  );
});

Deno.test("pcap: frames longer than the snap length are truncated, original length kept", () => {
  const sink = new MemorySink();
  const writer = new PcapWriter(sink, { snapLength: 4, wallClockMs: () => 0 });
  writer.record(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
  writer.record(Uint8Array.of(0xaa, 0xbb));
  assert.deepEqual(
    sink.bytes.subarray(24),
    Uint8Array.from([
      ...[0, 0, 0, 0, 0, 0, 0, 0, 0x04, 0, 0, 0, 0x0a, 0, 0, 0],
      ...[1, 2, 3, 4],
      ...[0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0x02, 0, 0, 0],
      ...[0xaa, 0xbb],
    ]),
  );
});

Deno.test("pcap: partial writes by the sink are retried until complete", () => {
  const whole = new MemorySink();
  const partial = new MemorySink(3);
  const frame = Uint8Array.from({ length: 37 }, (_, i) => i);
  for (const sink of [whole, partial]) {
    const writer = new PcapWriter(sink, { wallClockMs: () => 5_000 });
    writer.record(frame);
  }
  assert.equal(partial.bytes.length, 24 + 16 + 37);
  assert.deepEqual(partial.bytes, whole.bytes);
  assert.ok(partial.calls > whole.calls);
});

Deno.test("pcap: PcapLink records frames in both directions and forwards them", async () => {
  const [a, b] = createMemoryLinkPair();
  const sink = new MemorySink();
  let clock = 0;
  const link = new PcapLink(a, new PcapWriter(sink, { wallClockMs: () => clock }));
  assert.equal(link.name, a.name);
  assert.equal(link.mtu, a.mtu);
  assert.equal(link.stats, a.stats);

  clock = 1000;
  assert.equal(link.write(Uint8Array.of(0x11, 0x22)), true);
  clock = 2000;
  b.write(Uint8Array.of(0x33));
  clock = 3000;
  await link.close();
  const received: Uint8Array[] = [];
  for await (const batch of link.receive()) received.push(...batch);
  assert.deepEqual(received, [Uint8Array.of(0x33)]);

  const le32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
  const record = (sec: number, data: number[]) => [
    ...le32(sec),
    ...le32(0),
    ...le32(data.length),
    ...le32(data.length),
    ...data,
  ];
  assert.deepEqual(
    sink.bytes,
    Uint8Array.from([
      ...GLOBAL_HEADER_DEFAULT_SNAPLEN,
      ...record(1, [0x11, 0x22]), // written at 1 s
      ...record(3, [0x33]), // received, recorded when the stack reads it
    ]),
  );
});

Deno.test("pcap: PcapLink.write passes the wrapped device's refusal through", async () => {
  const [a, b] = createMemoryLinkPair();
  const link = new PcapLink(a, new PcapWriter(new MemorySink(), { wallClockMs: () => 0 }));
  await b.close();
  assert.equal(link.write(Uint8Array.of(1)), false);
  assert.equal(a.stats.txDrops, 1);
});
