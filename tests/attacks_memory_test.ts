/**
 * Abuse over the in-memory link that needs no TAP: an ICMP echo flood meets the reply rate limit,
 * echo requests to broadcast addresses go unanswered, a UDP socket nobody reads holds at most its
 * queue cap, and errors are never sent about broadcasts.
 */

import assert from "node:assert/strict";
import { ManualClock } from "../stack/clock.ts";
import { IpProtocol } from "../stack/layer.ts";
import { parseIpv4 } from "../stack/wire/addr.ts";
import { emitIcmpEcho, IcmpType } from "../stack/wire/icmp.ts";
import { createStackPair, settle } from "./helpers/memory_stacks.ts";

const B = parseIpv4("10.0.0.2")!;

function echo(sequence: number): Uint8Array {
  const icmp = new Uint8Array(8 + 56);
  emitIcmpEcho(
    { type: IcmpType.EchoRequest, identifier: 99, sequence, data: new Uint8Array(56) },
    icmp,
  );
  return icmp;
}

Deno.test("an echo flood is answered only up to the reply rate limit", async () => {
  const clock = new ManualClock();
  await using pair = createStackPair({
    clock,
    stack: { quiet: true, icmp: { echoReplyRatePerSec: 100 } },
  });
  const resolving = pair.a.resolve(B);
  await settle();
  await resolving;
  for (let i = 0; i < 1000; i++) {
    pair.a.ipv4.send({ destination: B, protocol: IpProtocol.Icmp, payload: echo(i) });
  }
  await settle();
  // The bucket starts full (100) and no time passes: exactly 100 replies, 900 counted drops.
  assert.equal(pair.b.icmp.stats.echoRequestsIn, 1000);
  assert.equal(pair.b.icmp.stats.echoRepliesOut, 100);
  assert.equal(pair.b.icmp.stats.drops["echo-rate-limited"], 900);
  clock.advance(1000);
  pair.a.ipv4.send({ destination: B, protocol: IpProtocol.Icmp, payload: echo(5000) });
  await settle();
  assert.equal(pair.b.icmp.stats.echoRepliesOut, 101, "a second later the bucket has refilled");
});

Deno.test("echo requests to a broadcast address are not answered (no smurf amplification)", async () => {
  await using pair = createStackPair();
  await pair.a.resolve(B);
  for (const broadcast of ["10.0.0.255", "255.255.255.255"]) {
    pair.a.ipv4.send({
      destination: parseIpv4(broadcast)!,
      protocol: IpProtocol.Icmp,
      payload: echo(1),
    });
  }
  await settle();
  assert.equal(pair.b.icmp.stats.echoRequestsIn, 2);
  assert.equal(pair.b.icmp.stats.echoRepliesOut, 0);
  assert.equal(pair.b.icmp.stats.drops["broadcast-echo"], 2);
});

Deno.test("a UDP socket nobody reads holds at most its queue cap; the rest is counted", async () => {
  await using pair = createStackPair({ stack: { udp: { socketQueueDatagrams: 16 } } });
  await pair.a.resolve(B);
  const slow = pair.b.listenDatagram({ port: 7 });
  const sender = pair.a.listenDatagram({ port: 0 });
  for (let i = 0; i < 100; i++) {
    await sender.send(new Uint8Array([i]), { hostname: "10.0.0.2", port: 7 });
  }
  await settle();
  assert.equal(pair.b.udp.stats.datagramsIn, 16);
  assert.equal(pair.b.udp.stats.drops["socket-queue-full"], 84);
  const [first] = await slow.receive();
  assert.deepEqual(first, new Uint8Array([0]), "the oldest datagrams are the ones kept");
  slow.close();
  sender.close();
});

Deno.test("no ICMP error answers a datagram sent to a broadcast address", async () => {
  await using pair = createStackPair();
  await pair.a.resolve(B);
  const sender = pair.a.listenDatagram({ port: 0 });
  await sender.send(new Uint8Array(4), { hostname: "10.0.0.255", port: 9 });
  await sender.send(new Uint8Array(4), { hostname: "10.0.0.2", port: 9 });
  await settle();
  assert.equal(pair.b.udp.stats.noPort, 2);
  assert.equal(pair.b.icmp.stats.errorsOut, 1, "only the unicast one draws port unreachable");
  sender.close();
});
