/**
 * IPv4 fragmentation and reassembly between two stacks over the in-memory link: large datagrams
 * cross a reordering, duplicating link byte-exact; a lost fragment ends in ICMP time exceeded
 * (type 11 code 1) that the sending socket sees; DF refuses to fragment; a flood of incomplete
 * datagrams stays within the memory cap and the stack keeps answering.
 */

import assert from "node:assert/strict";
import { ManualClock } from "../stack/clock.ts";
import { IpProtocol } from "../stack/layer.ts";
import type { LinkDevice } from "../stack/link/link.ts";
import { LinkWrapper } from "../stack/link/wrapper.ts";
import { parseIpv4 } from "../stack/wire/addr.ts";
import { emitIpv4Header } from "../stack/wire/ipv4.ts";
import { pattern } from "./helpers/bytes.ts";
import { createStackPair, settle } from "./helpers/memory_stacks.ts";

const B = parseIpv4("10.0.0.2")!;

Deno.test("60000-byte datagrams cross a reordering, duplicating link byte-exact", async () => {
  await using pair = createStackPair({ faults: { reorder: 0.2, duplicate: 0.2 }, seed: 7 });
  const server = pair.b.listenDatagram({ port: 7 });
  const client = pair.a.listenDatagram({ port: 0 });
  for (const size of [1473, 8000, 60000]) {
    await client.send(pattern(size), { hostname: "10.0.0.2", port: 7 });
    const [data] = await server.receive();
    assert.deepEqual(data, pattern(size));
  }
  const reassembly = pair.b.stats().ipv4.reassembly;
  assert.equal(reassembly.completed, 3);
  assert.ok(reassembly.duplicates > 0, "duplicated fragments were seen and ignored");
  assert.ok(pair.faulty!.faults.reordered > 0);
  client.close();
  server.close();
});

/** Wraps a link and drops outgoing frames chosen by `shouldDrop`. */
class DroppingLink extends LinkWrapper {
  constructor(inner: LinkDevice, readonly shouldDrop: (frame: Uint8Array) => boolean) {
    super(inner);
  }
  override write(frame: Uint8Array): boolean {
    return this.shouldDrop(frame) ? true : this.inner.write(frame);
  }
}

/** Fragment offset in bytes of an IPv4-in-Ethernet frame. */
function fragmentOffsetOf(frame: Uint8Array): number {
  return (((frame[14 + 6] & 0x1f) << 8) | frame[14 + 7]) * 8;
}

Deno.test("a lost fragment: after 30 s the receiver sends time exceeded, and the sender's socket sees it", async () => {
  const clock = new ManualClock();
  await using pair = createStackPair({
    clock,
    stack: { quiet: true },
    wrapLinkA: (link) =>
      new DroppingLink(
        link,
        (f) => f[12] === 0x08 && f[13] === 0x00 && fragmentOffsetOf(f) === 1480,
      ),
  });
  await Promise.all([pair.a.resolve(B), settle()]);
  const server = pair.b.listenDatagram({ port: 7 });
  const client = pair.a.listenDatagram({ port: 0 });
  await client.send(pattern(4000), { hostname: "10.0.0.2", port: 7 });
  await settle();
  assert.equal(pair.b.stats().ipv4.reassembly.active, 1);
  clock.advance(29_999);
  await settle();
  assert.equal(pair.a.icmp.stats.errorsIn, 0, "nothing before the 30 s timeout");
  clock.advance(1);
  await settle();
  assert.equal(pair.b.stats().ipv4.reassembly.timedOut, 1);
  assert.equal(pair.b.icmp.stats.errorsOut, 1);
  assert.equal(pair.a.icmp.stats.errorsIn, 1);
  await assert.rejects(client.receive(), Deno.errors.TimedOut);
  client.close();
  server.close();
});

Deno.test("DF set on a datagram larger than the MTU refuses to fragment", async () => {
  await using pair = createStackPair();
  await pair.a.resolve(B);
  const payload = new Uint8Array(2000);
  assert.equal(
    pair.a.ipv4.send({ destination: B, protocol: IpProtocol.Udp, payload, dontFragment: true }),
    "too-big",
  );
  assert.equal(pair.a.ipv4.send({ destination: B, protocol: IpProtocol.Udp, payload }), "sent");
  assert.equal(pair.a.ipv4.stats.fragmentsOut, 2);
});

Deno.test("a flood of incomplete datagrams stays under the reassembly caps; ping still works", async () => {
  await using pair = createStackPair({
    stack: { ipv4: { maxReassemblies: 64, maxReassemblyBytes: 256 * 1024 } },
  });
  await pair.a.resolve(B);
  const fragment = new Uint8Array(20 + 1480);
  for (let id = 0; id < 3000; id++) {
    // First fragments only (MF set, offset 0): none can ever complete.
    emitIpv4Header({
      source: parseIpv4("10.0.0.1")!,
      destination: B,
      protocol: IpProtocol.Udp,
      ttl: 64,
      payloadLength: 1480,
      identification: id,
      moreFragments: true,
    }, fragment);
    const frame = new Uint8Array(14 + fragment.length);
    frame.set(fragment, 14);
    pair.a.ethernet.transmit(frame, 0x02_00_00_00_00_02, 0x0800);
    if (id % 256 === 0) await settle();
  }
  await settle();
  const reassembly = pair.b.stats().ipv4.reassembly;
  assert.ok(reassembly.active <= 64, `active ${reassembly.active}`);
  assert.ok(reassembly.heldBytes <= 256 * 1024, `heldBytes ${reassembly.heldBytes}`);
  assert.ok(reassembly.evicted >= 3000 - 64, `evicted ${reassembly.evicted}`);
  const ping = await pair.a.ping({ destination: B, identifier: 1, sequence: 1 });
  assert.equal(ping.kind, "reply");
});

Deno.test("fragments adding up past 65535 bytes (ping of death) are dropped", async () => {
  await using pair = createStackPair();
  await pair.a.resolve(B);
  const send = (offset: number, more: boolean, dataBytes: number) => {
    const frame = new Uint8Array(14 + 20 + dataBytes);
    emitIpv4Header({
      source: parseIpv4("10.0.0.1")!,
      destination: B,
      protocol: IpProtocol.Icmp,
      ttl: 64,
      payloadLength: dataBytes,
      identification: 77,
      moreFragments: more,
      fragmentOffset: offset,
    }, frame.subarray(14));
    pair.a.ethernet.transmit(frame, 0x02_00_00_00_00_02, 0x0800);
  };
  send(0, true, 1480);
  send(65520, false, 100); // ends at 65620 + 20-byte header: over the limit
  await settle();
  const reassembly = pair.b.stats().ipv4.reassembly;
  assert.equal(reassembly.tooBig, 1);
  assert.equal(reassembly.completed, 0);
  assert.equal(pair.b.icmp.stats.echoRequestsIn, 0);
});
