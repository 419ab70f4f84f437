import assert from "node:assert/strict";
import { Channel } from "../channel.ts";
import type { FrameBatch, LinkDevice } from "../link/link.ts";
import { parseMac } from "../wire/addr.ts";
import { hex as frame } from "../../tests/helpers/bytes.ts";
import { EthernetLayer } from "./layer.ts";

/** A link that delivers the given batches, then ends. */
function scriptedLink(batches: FrameBatch[]): LinkDevice {
  return {
    name: "scripted0",
    mtu: 1500,
    stats: { rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, txDrops: 0 },
    async *receive() {
      for (const batch of batches) yield batch;
    },
    write: () => true,
    close: () => Promise.resolve(),
  };
}

/** The Ethernet layer of MAC 02:00:00:00:00:02 over a link delivering `batches`. */
function layerOver(batches: FrameBatch[]): EthernetLayer {
  return new EthernetLayer(scriptedLink(batches), parseMac("02:00:00:00:00:02")!);
}

const OURS = "02 00 00 00 00 02";
const OTHER = "02 00 00 00 00 09";
const BROADCAST = "ff ff ff ff ff ff";
const PEER = "02 00 00 00 00 01";

Deno.test("Ethernet dealer hands each EtherType its frames of a wakeup as one batch", async () => {
  const ethernet = layerOver([
    Object.assign([
      frame(`${OURS} ${PEER} 0800 45 01`),
      frame(`${BROADCAST} ${PEER} 0806 00 01`),
      frame(`${OURS} ${PEER} 0800 45 02`),
    ], { verified: [1, 0, 0] }),
    [frame(`${OURS} ${PEER} 0800 45 03`)],
  ]);
  const ipv4 = new Channel<FrameBatch>(8, "ipv4");
  const arp = new Channel<FrameBatch>(8, "arp");
  ethernet.bind(0x0800, ipv4);
  ethernet.bind(0x0806, arp);
  await ethernet.run();

  const ipv4Batches = ipv4.drain();
  assert.deepEqual(ipv4Batches.map((batch) => batch.map((payload) => [...payload])), [
    [[0x45, 0x01], [0x45, 0x02]],
    [[0x45, 0x03]],
  ]);
  assert.deepEqual(ipv4Batches.map((batch) => batch.verified), [[1, 0], undefined]);
  const arpBatches = arp.drain();
  assert.deepEqual(arpBatches.map((batch) => batch.map((payload) => [...payload])), [
    [[0x00, 0x01]],
  ]);
  assert.deepEqual(arpBatches[0].verified, [0]);
  assert.equal(ethernet.stats.rxFrames, 4);
  assert.deepEqual(ethernet.stats.drops, {});
});

Deno.test("Ethernet dealer counts and drops frames it cannot deliver", async () => {
  const ethernet = layerOver([[
    frame(`${OURS} ${PEER} 08`), // 13 bytes: shorter than a header
    frame(`${OTHER} ${PEER} 0800 45 00`),
    frame(`${OURS} ${PEER} 88cc 00 00`), // LLDP: nobody bound
    frame(`${OURS} ${PEER} 0800 45 00`),
    frame(`${OURS} ${PEER} 0800 45 00`),
  ]]);
  const ipv4 = new Channel<FrameBatch>(4, "ipv4");
  ethernet.bind(0x0800, ipv4);
  await ethernet.run();
  assert.equal(ipv4.drain()[0].length, 2);
  assert.deepEqual(ethernet.stats.drops, {
    truncated: 1,
    "not-for-us": 1,
    "unknown-ethertype": 1,
  });

  const full = layerOver([[frame(`${OURS} ${PEER} 0800 45 00`)], [
    frame(`${OURS} ${PEER} 0800 45 00`),
  ]]);
  // Room for one batch: the second wakeup's batch finds the inbox full.
  const small = new Channel<FrameBatch>(1, "ipv4");
  full.bind(0x0800, small);
  await full.run();
  assert.equal(full.stats.rxFrames, 1);
  assert.deepEqual(full.stats.drops, { "inbox-full": 1 });
});

Deno.test("Ethernet dealer sends to the channel bound last for an EtherType", async () => {
  const ethernet = layerOver([[frame(`${OURS} ${PEER} 0800 45 00`)]]);
  const first = new Channel<FrameBatch>(4, "first");
  const second = new Channel<FrameBatch>(4, "second");
  ethernet.bind(0x0800, first);
  ethernet.bind(0x0800, second);
  await ethernet.run();
  assert.equal(first.drain().length, 0);
  assert.equal(second.drain().length, 1);
});

Deno.test("short frames go out padded with zeros to 60 bytes, with no bytes of an earlier one", () => {
  const written: number[][] = [];
  const link = { ...scriptedLink([]), write: (f: Uint8Array) => (written.push([...f]), true) };
  const ethernet = new EthernetLayer(link, parseMac("02:00:00:00:00:02")!);
  // An ARP request (28 bytes after the header), then a shorter frame: the padding must be clean.
  const arp = new Uint8Array(14 + 28).fill(0xaa);
  const short = new Uint8Array(14 + 2).fill(0xbb);
  assert.ok(ethernet.transmit(arp, parseMac("02:00:00:00:00:01")!, 0x0806));
  assert.ok(ethernet.transmit(short, parseMac("02:00:00:00:00:01")!, 0x0800));
  const header = (etherType: string) => [...frame(`${PEER} ${OURS} ${etherType}`)];
  assert.deepEqual(written[0], [
    ...header("0806"),
    ...new Array(28).fill(0xaa),
    ...new Array(60 - 42).fill(0),
  ]);
  assert.deepEqual(written[1], [...header("0800"), 0xbb, 0xbb, ...new Array(60 - 16).fill(0)]);
});
