/**
 * Two stacks over the in-memory link: ARP resolution, ping both ways, concurrent pings, loss.
 */

import assert from "node:assert/strict";
import { ManualClock } from "../stack/clock.ts";
import { parseIpv4 } from "../stack/wire/addr.ts";
import { createStackPair, settle } from "./helpers/memory_stacks.ts";

const A = parseIpv4("10.0.0.1")!;
const B = parseIpv4("10.0.0.2")!;

Deno.test("ARP: a resolves b, and b learns a from the request aimed at it", async () => {
  await using pair = createStackPair();
  const mac = await pair.a.resolve(B);
  assert.equal(mac, 0x02_00_00_00_00_02);
  const learned = pair.b.arpEntries().find((e) => e.address === A);
  assert.equal(learned?.mac, 0x02_00_00_00_00_01);
  assert.equal(learned?.state, "reachable");
});

Deno.test("ARP: concurrent lookups of one address share one request", async () => {
  await using pair = createStackPair({ stack: { quiet: true } });
  const results = await Promise.all([pair.a.resolve(B), pair.a.resolve(B), pair.a.resolve(B)]);
  assert.deepEqual(results, [0x02_00_00_00_00_02, 0x02_00_00_00_00_02, 0x02_00_00_00_00_02]);
  assert.equal(pair.a.arp.stats.requestsOut, 1);
  assert.equal(pair.b.arp.stats.repliesOut, 1);
});

Deno.test("ARP: an address nobody has fails after the configured retries", async () => {
  const clock = new ManualClock();
  await using pair = createStackPair({ clock, stack: { quiet: true } });
  const pending = pair.a.resolve(parseIpv4("10.0.0.77")!);
  await settle();
  assert.equal(pair.a.arp.stats.requestsOut, 1);
  clock.advance(1000);
  await settle();
  assert.equal(pair.a.arp.stats.requestsOut, 2);
  clock.advance(1000);
  await settle();
  clock.advance(1000);
  assert.equal(await pending, undefined);
  assert.equal(pair.a.arp.stats.requestsOut, 3);
  assert.equal(pair.a.arp.stats.failed, 1);
  assert.equal(pair.a.arp.pendingResolutions, 0);
});

Deno.test("ping both ways echoes identifier, sequence and data", async () => {
  await using pair = createStackPair();
  const ab = await pair.a.ping({ destination: B, identifier: 0x1234, sequence: 7, dataBytes: 56 });
  assert.equal(ab.kind, "reply");
  if (ab.kind !== "reply") return;
  assert.equal(ab.reply.sequence, 7);
  assert.equal(ab.reply.bytes, 64);
  assert.equal(ab.reply.ttl, 64);
  assert.equal(ab.reply.dataMatches, true);
  const ba = await pair.b.ping({
    destination: A,
    identifier: 0x4321,
    sequence: 1,
    dataBytes: 1472,
  });
  assert.equal(ba.kind, "reply");
  if (ba.kind === "reply") assert.equal(ba.reply.bytes, 1480);
  assert.equal(pair.b.icmp.stats.echoRequestsIn, 1);
  assert.equal(pair.a.icmp.stats.echoRequestsIn, 1);
});

Deno.test("ping: 200 concurrent echoes in flight are each matched to their own reply", async () => {
  await using pair = createStackPair();
  await pair.a.resolve(B);
  const results = await Promise.all(
    Array.from(
      { length: 200 },
      (_, i) => pair.a.ping({ destination: B, identifier: 1 + (i % 4), sequence: i, dataBytes: i }),
    ),
  );
  results.forEach((result, i) => {
    assert.equal(result.kind, "reply");
    if (result.kind !== "reply") return;
    assert.equal(result.reply.sequence, i);
    assert.equal(result.reply.bytes, 8 + i);
    assert.equal(result.reply.dataMatches, true);
  });
});

Deno.test("ping over a link losing 30% of frames: lost echoes time out, the rest come back", async () => {
  const clock = new ManualClock();
  await using pair = createStackPair({
    clock,
    faults: { drop: 0.3 },
    seed: 42,
    stack: { quiet: true },
  });
  // Resolve first (retries cover lost ARP frames), then ping a hundred times.
  const resolving = pair.a.resolve(B);
  for (let i = 0; i < 5; i++) {
    await settle();
    clock.advance(1000);
  }
  assert.equal(await resolving, 0x02_00_00_00_00_02);
  const pings = Array.from(
    { length: 100 },
    (_, i) => pair.a.ping({ destination: B, identifier: 9, sequence: i, timeoutMs: 500 }),
  );
  await settle();
  clock.advance(500);
  const results = await Promise.all(pings);
  const replies = results.filter((r) => r.kind === "reply").length;
  const timeouts = results.filter((r) => r.kind === "timeout").length;
  assert.equal(replies + timeouts, 100);
  // Each echo crosses the lossy link twice: about 49% of them are expected back.
  assert.ok(replies > 30 && replies < 70, `replies ${replies}`);
  assert.equal(pair.faulty!.faults.dropped > 0, true);
});

Deno.test("ping to an address nobody has on the subnet times out; off-subnet has no route", async () => {
  const clock = new ManualClock();
  await using pair = createStackPair({ clock, stack: { quiet: true } });
  const lost = pair.a.ping({
    destination: parseIpv4("10.0.0.99")!,
    identifier: 1,
    sequence: 1,
    timeoutMs: 5000,
  });
  for (let i = 0; i < 6; i++) {
    await settle();
    clock.advance(1000);
  }
  assert.deepEqual(await lost, { kind: "timeout" });
  const offNet = await pair.a.ping({
    destination: parseIpv4("192.0.2.1")!,
    identifier: 1,
    sequence: 2,
  });
  assert.deepEqual(offNet, { kind: "not-sent", reason: "no-route" });
});

Deno.test("a datagram to an unbound UDP port draws ICMP port unreachable, seen by the sender as refused", async () => {
  await using pair = createStackPair();
  const socket = pair.a.listenDatagram({ port: 5000 });
  await socket.send(new TextEncoder().encode("hello"), { hostname: "10.0.0.2", port: 9 });
  await assert.rejects(socket.receive(), Deno.errors.ConnectionRefused);
  assert.equal(pair.b.udp.stats.noPort, 1);
  assert.equal(pair.b.icmp.stats.errorsOut, 1);
  socket.close();
});

Deno.test("packets parked while ARP resolves are capped; the excess is counted, the rest flushed", async () => {
  await using pair = createStackPair({
    stack: { quiet: true, ipv4: { maxPendingPerNeighbour: 8 } },
  });
  const results = await Promise.all(
    Array.from(
      { length: 12 },
      (_, i) => pair.a.ping({ destination: B, identifier: 3, sequence: i, timeoutMs: 300 }),
    ),
  );
  assert.deepEqual(results.map((r) => r.kind), [
    ...Array(8).fill("reply"),
    ...Array(4).fill("timeout"),
  ]);
  assert.equal(pair.a.ipv4.stats.drops["arp-queue-full"], 4);
});

Deno.test("malformed frames of every kind are dropped and counted by reason", async () => {
  await using pair = createStackPair({ stack: { quiet: true } });
  await pair.a.resolve(B);
  const toB = (ip: Uint8Array) => {
    const frame = new Uint8Array(14 + ip.length);
    frame.set(ip, 14);
    pair.a.ethernet.transmit(frame, 0x02_00_00_00_00_02, 0x0800);
  };
  // A valid 28-byte echo request header to corrupt in different ways (checksum fixed by hand).
  const good = () =>
    Uint8Array.from([
      0x45,
      0,
      0,
      28,
      0,
      1,
      0,
      0,
      64,
      1,
      0,
      0,
      10,
      0,
      0,
      1,
      10,
      0,
      0,
      2,
      8,
      0,
      0xf7,
      0xfe,
      0,
      1,
      0,
      0,
    ]);
  const withChecksum = (ip: Uint8Array) => {
    let sum = 0;
    const ihl = (ip[0] & 0xf) * 4;
    ip[10] = ip[11] = 0;
    for (let i = 0; i < Math.min(ihl, ip.length); i += 2) sum += (ip[i] << 8) | ip[i + 1];
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    ip[10] = (~sum >>> 8) & 0xff;
    ip[11] = ~sum & 0xff;
    return ip;
  };
  toB(withChecksum(good())); // valid: answered
  // truncated: written straight to the link, since transmit would pad it to 60 bytes
  const short = new Uint8Array(14 + 12);
  short.set([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00]);
  short.set(good().subarray(0, 12), 14);
  pair.a.link.write(short);
  const badSum = withChecksum(good());
  badSum[11] ^= 0xff;
  toB(badSum); // bad header checksum
  const ihl4 = good();
  ihl4[0] = 0x44;
  toB(withChecksum(ihl4)); // IHL < 5
  const tooLong = good();
  tooLong[3] = 200;
  toB(withChecksum(tooLong)); // total length beyond the frame
  const v6 = good();
  v6[0] = 0x65;
  toB(withChecksum(v6)); // version 6 in an IPv4 frame
  const badIcmp = withChecksum(good());
  badIcmp[22] ^= 0x01;
  toB(badIcmp); // ICMP checksum wrong
  const shortArp = new Uint8Array(14 + 10);
  shortArp.set([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x06]);
  pair.a.link.write(shortArp); // truncated ARP
  await settle();
  const stats = pair.b.stats();
  assert.equal(stats.icmp.echoRepliesOut, 1);
  assert.deepEqual(stats.ipv4.drops, {
    "truncated": 1,
    "bad-checksum": 1,
    "bad-header-length": 1,
    "bad-total-length": 1,
    "bad-version": 1,
  });
  assert.equal(stats.icmp.drops["bad-checksum"], 1);
  assert.equal(stats.arp.drops["truncated"], 1);
});

Deno.test("ARP from a multicast or all-zero sender MAC is dropped, not learnt", async () => {
  await using pair = createStackPair({ stack: { quiet: true } });
  for (const sender of [0x01_00_5e_00_00_01, 0]) {
    const frame = new Uint8Array(14 + 28);
    // Ethernet: to B, from the claimed sender; ARP request for 10.0.0.2 from 10.0.0.9.
    frame.set([0x02, 0, 0, 0, 0, 0x02], 0);
    frame.set([0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1], 12);
    for (let i = 0; i < 6; i++) frame[22 + i] = Math.floor(sender / 2 ** (40 - 8 * i)) & 0xff;
    frame.set([10, 0, 0, 9], 28);
    frame.set([10, 0, 0, 2], 38);
    pair.a.link.write(frame);
  }
  await settle();
  assert.equal(pair.b.arp.stats.drops["bad-sender-mac"], 2);
  assert.equal(pair.b.arp.stats.repliesOut, 0);
  assert.equal(pair.b.arpEntries().length, 0);
});
