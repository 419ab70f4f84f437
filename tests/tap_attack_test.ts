/**
 * Hostile frames injected from the kernel side of the TAP through an AF_PACKET socket, inside a
 * namespace the test makes: teardrop, ping of death, a flood of incomplete fragments, LAND, an
 * unsolicited ARP reply. Caps hold, drops are counted, and the stack still answers afterwards.
 */

import assert from "node:assert/strict";
import { withNetns } from "../ffi/netns.ts";
import { openPacketSocket } from "../ffi/packet_socket.ts";
import { getMac } from "../ffi/netif.ts";
import type { MacAddr } from "../stack/wire/addr.ts";
import { formatMac, parseIpv4 } from "../stack/wire/addr.ts";
import { ArpOperation, emitArp } from "../stack/wire/arp.ts";
import { emitEthernetHeader, EtherType } from "../stack/wire/ethernet.ts";
import { emitIcmpEcho, IcmpType } from "../stack/wire/icmp.ts";
import { emitIpv4Header } from "../stack/wire/ipv4.ts";
import { emitTcp, TcpFlags, tcpSegmentLength } from "../stack/wire/tcp.ts";
import { createTestNamespace } from "./helpers/netns.ts";
import { startStackIn } from "./helpers/stack_in_namespace.ts";

const KERNEL = parseIpv4("10.0.0.1")!;
const STACK = parseIpv4("10.0.0.2")!;

interface FragmentSpec {
  source?: number;
  identification: number;
  offset: number;
  more: boolean;
  data: Uint8Array;
  protocol?: number;
}

function ipFrame(to: MacAddr, from: MacAddr, spec: FragmentSpec): Uint8Array {
  const frame = new Uint8Array(14 + 20 + spec.data.length);
  emitEthernetHeader(frame, { destination: to, source: from, etherType: EtherType.Ipv4 });
  emitIpv4Header({
    source: spec.source ?? KERNEL,
    destination: STACK,
    protocol: spec.protocol ?? 1,
    ttl: 64,
    payloadLength: spec.data.length,
    identification: spec.identification,
    moreFragments: spec.more,
    fragmentOffset: spec.offset,
  }, frame.subarray(14));
  frame.set(spec.data, 34);
  return frame;
}

/** Lets the event loop run until `condition` holds, failing after `timeoutMs`. */
async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

function echoRequest(bytes: number): Uint8Array {
  const icmp = new Uint8Array(8 + bytes);
  emitIcmpEcho({
    type: IcmpType.EchoRequest,
    identifier: 7,
    sequence: 1,
    data: new Uint8Array(bytes),
  }, icmp);
  return icmp;
}

Deno.test("hostile frames from the link: caps hold, drops are counted, the stack keeps answering", async () => {
  await using ns = await createTestNamespace();
  const running = startStackIn(ns);
  const { stack } = running;
  const kernelMac = withNetns(ns.name, () => getMac("gonet0"));
  const wire = withNetns(ns.name, () => openPacketSocket("gonet0"));
  try {
    // The kernel talks to the stack first, so both know each other's MAC.
    const warmup = await ns.run(["ping", "-c", "1", "-W", "2", "10.0.0.2"]);
    assert.equal(warmup.code, 0, warmup.stdout);
    // The TAP's kernel queue holds 1000 frames: wait until the stack has read what was sent
    // before sending more, so the kernel does not drop any of the attack.
    let sent = stack.link.stats.rxFrames;
    const send = async (frame: Uint8Array) => {
      assert.ok(wire.send(frame), "frame written");
      sent++;
      if (sent - stack.link.stats.rxFrames >= 500) await caughtUp();
    };
    const caughtUp = () => waitFor(() => stack.link.stats.rxFrames >= sent, 5000);

    // Teardrop: the second fragment overlaps the first with different bytes.
    await send(
      ipFrame(stack.mac, kernelMac, {
        identification: 1,
        offset: 0,
        more: true,
        data: new Uint8Array(24),
      }),
    );
    await send(
      ipFrame(stack.mac, kernelMac, {
        identification: 1,
        offset: 8,
        more: false,
        data: new Uint8Array(24).fill(1),
      }),
    );

    // Ping of death: fragments adding up past 65535 bytes.
    await send(
      ipFrame(stack.mac, kernelMac, {
        identification: 2,
        offset: 0,
        more: true,
        data: echoRequest(1472),
      }),
    );
    await send(
      ipFrame(stack.mac, kernelMac, {
        identification: 2,
        offset: 65512,
        more: false,
        data: new Uint8Array(100),
      }),
    );

    // Let the assembler tasks see those before the flood evicts their datagrams.
    await caughtUp();
    await stack.ipv4.assemblers.whenIdle();

    // A flood of first fragments that never complete.
    for (let id = 1000; id < 4000; id++) {
      await send(
        ipFrame(stack.mac, kernelMac, {
          identification: id,
          offset: 0,
          more: true,
          data: new Uint8Array(1400),
        }),
      );
    }

    // LAND: an echo request from the stack's own address to itself.
    await send(
      ipFrame(stack.mac, kernelMac, {
        source: STACK,
        identification: 5,
        offset: 0,
        more: false,
        data: echoRequest(8),
      }),
    );

    // An ARP reply nobody asked for, claiming the kernel's address for another MAC.
    const spoofed = 0x02_66_66_66_66_66;
    const arp = new Uint8Array(14 + 28);
    emitEthernetHeader(arp, { destination: stack.mac, source: spoofed, etherType: EtherType.Arp });
    emitArp({
      operation: ArpOperation.Reply,
      senderMac: spoofed,
      senderIp: KERNEL,
      targetMac: stack.mac,
      targetIp: STACK,
    }, arp.subarray(14));
    await send(arp);

    await caughtUp();

    // The stack still answers the kernel, and every attack left its trace in the counters.
    const after = await ns.run(["ping", "-c", "3", "-i", "0.2", "-W", "2", "10.0.0.2"]);
    assert.equal(after.code, 0, after.stdout);
    assert.match(after.stdout, /3 received, 0% packet loss/);
    const stats = stack.stats();
    assert.equal(stats.ipv4.reassembly.overlaps, 1);
    assert.equal(stats.ipv4.reassembly.tooBig, 1);
    assert.ok(stats.ipv4.reassembly.active <= 256, `active ${stats.ipv4.reassembly.active}`);
    assert.ok(
      stats.ipv4.reassembly.heldBytes <= 4 * 1024 * 1024,
      `held ${stats.ipv4.reassembly.heldBytes}`,
    );
    assert.ok(
      stats.ipv4.reassembly.evicted >= 3000 - 256,
      `evicted ${stats.ipv4.reassembly.evicted}`,
    );
    assert.equal(stats.ipv4.drops.land, 1);
    assert.equal(stats.arp.drops["unsolicited-reply"], 1);
    const entry = stack.arpEntries().find((e) => e.address === KERNEL);
    assert.equal(entry && formatMac(entry.mac), formatMac(kernelMac), "no ARP cache poisoning");
  } finally {
    wire.close();
    await running.close();
  }
});

Deno.test("a SYN flood from spoofed sources through the TAP: cookies answer, the kernel still connects", async () => {
  await using ns = await createTestNamespace();
  const running = startStackIn(ns, { limit: ["tcp-backlog=8"] });
  const { stack } = running;
  const kernelMac = withNetns(ns.name, () => getMac("gonet0"));
  const wire = withNetns(ns.name, () => openPacketSocket("gonet0"));
  const listener = stack.listen({ port: 80 });
  const accepted = (async () => {
    for await (const conn of listener) {
      await conn.write(new TextEncoder().encode("hello"));
      conn.close();
    }
  })();
  try {
    let sent = stack.link.stats.rxFrames;
    for (let i = 0; i < 3000; i++) {
      const spoofed = (parseIpv4("198.51.100.0")! + (i % 250)) >>> 0;
      const fields = {
        sourcePort: 1024 + i,
        destinationPort: 80,
        seq: i * 7919,
        ack: 0,
        flags: TcpFlags.SYN,
        window: 65535,
      };
      const tcp = new Uint8Array(tcpSegmentLength(fields, 0));
      emitTcp(tcp, fields, new Uint8Array(0), spoofed, STACK);
      assert.ok(
        wire.send(
          ipFrame(stack.mac, kernelMac, {
            source: spoofed,
            identification: i,
            offset: 0,
            more: false,
            data: tcp,
            protocol: 6,
          }),
        ),
      );
      sent++;
      if (sent - stack.link.stats.rxFrames >= 500) {
        await waitFor(() => stack.link.stats.rxFrames >= sent, 5000);
      }
    }
    await waitFor(() => stack.link.stats.rxFrames >= sent, 5000);
    const tcp = stack.stats().tcp;
    assert.ok(tcp.synCookiesSent > 2900, `cookies ${tcp.synCookiesSent}`);
    assert.ok(tcp.activeConnections <= 8, `half-open ${tcp.activeConnections}`);
    const r = await ns.run([
      Deno.execPath(),
      "eval",
      `
      const c = await Deno.connect({ hostname: "10.0.0.2", port: 80 });
      console.log(await new Response(c.readable).text());`,
    ]);
    assert.equal(r.stdout.trim(), "hello", r.stderr);
  } finally {
    listener.close();
    await accepted;
    wire.close();
    await running.close();
  }
});
