/**
 * TCP abuse between two full stacks over the in-memory link: a SYN flood from spoofed sources
 * (SYN cookies take over, a real client still connects, memory stays bounded), blind in-window RST
 * and SYN injection (RFC 5961: challenge ACKs, the connection survives), and a peer that never
 * reads (the sender's buffering stays within its caps).
 */

import assert from "node:assert/strict";
import { IpProtocol } from "../stack/layer.ts";
import { parseIpv4 } from "../stack/wire/addr.ts";
import { emitTcp, TcpFlags, tcpSegmentLength } from "../stack/wire/tcp.ts";
import { createStackPair, settle } from "./helpers/memory_stacks.ts";

const A = parseIpv4("10.0.0.1")!;
const B = parseIpv4("10.0.0.2")!;

/** A raw TCP segment from `source` (spoofable) to B. */
function segment(
  source: number,
  fields: { sourcePort: number; destinationPort: number; seq: number; ack: number; flags: number },
  payload: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const header = { ...fields, window: 65535 };
  const bytes = new Uint8Array(tcpSegmentLength(header, payload.length));
  emitTcp(bytes, header, payload, source, B);
  return bytes;
}

Deno.test("SYN flood from spoofed sources: cookies take over, a real client connects, memory bounded", async () => {
  await using pair = createStackPair({ stack: { tcp: { backlog: 16 } } });
  await pair.a.resolve(B);
  const listener = pair.b.listen({ port: 80 });
  // 5000 SYNs from addresses off the subnet: B's SYN-ACKs have no route and go nowhere.
  for (let i = 0; i < 5000; i++) {
    const spoofed = (parseIpv4("198.51.100.0")! + (i % 250)) >>> 0;
    pair.a.ipv4.send({
      source: spoofed,
      destination: B,
      protocol: IpProtocol.Tcp,
      payload: segment(spoofed, {
        sourcePort: 1024 + i,
        destinationPort: 80,
        seq: i * 7919,
        ack: 0,
        flags: TcpFlags.SYN,
      }),
    });
    if (i % 500 === 0) await settle();
  }
  await settle();
  const stats = pair.b.stats().tcp;
  assert.ok(stats.synCookiesSent > 4000, `cookies ${stats.synCookiesSent}`);
  assert.ok(stats.activeConnections <= 16, `half-open held: ${stats.activeConnections}`);
  const client = await pair.a.connect({ hostname: "10.0.0.2", port: 80 });
  const server = await listener.accept();
  await client.write(new TextEncoder().encode("still here"));
  const buf = new Uint8Array(10);
  assert.equal(await server.read(buf), 10);
  assert.equal(new TextDecoder().decode(buf), "still here");
  client.close();
  server.close();
  listener.close();
});

Deno.test("blind in-window RST, SYN and data from a spoofer: challenge ACKs, the connection survives", async () => {
  await using pair = createStackPair();
  const listener = pair.b.listen({ port: 80 });
  const client = await pair.a.connect({ hostname: "10.0.0.2", port: 80 });
  const server = await listener.accept();
  const clientPort = client.localAddr.port;
  // B's receive state, which an off-path attacker would have to guess exactly.
  const tcb = pair.b.tcp.connectionTcb(A, clientPort, 80)!;
  const rcvNxt = tcb.rcvNxt;
  const sndNxt = tcb.sndNxt;
  const inject = (seq: number, flags: number, payload?: Uint8Array) =>
    pair.a.ipv4.send({
      destination: B,
      protocol: IpProtocol.Tcp,
      payload: segment(
        A,
        { sourcePort: clientPort, destinationPort: 80, seq, ack: sndNxt, flags },
        payload,
      ),
    });
  const before = pair.b.stats().tcp.challengeAcks;
  inject((rcvNxt + 100) >>> 0, TcpFlags.RST); // in window, not exact: RFC 5961 §3.2
  inject((rcvNxt + 200) >>> 0, TcpFlags.SYN); // SYN in a synchronized state: RFC 5961 §4.2
  // Data whose ACK acknowledges nothing we sent (below SND.UNA - MAX.SND.WND): RFC 5961 §5.2.
  pair.a.ipv4.send({
    destination: B,
    protocol: IpProtocol.Tcp,
    payload: segment(A, {
      sourcePort: clientPort,
      destinationPort: 80,
      seq: rcvNxt,
      ack: (sndNxt - 0x7000_0000) >>> 0,
      flags: TcpFlags.ACK,
    }, new TextEncoder().encode("forged")),
  });
  await settle();
  assert.ok(pair.b.stats().tcp.challengeAcks - before >= 2, "challenge ACKs sent");
  // The real conversation goes on, and the forged bytes never reached the reader.
  await client.write(new TextEncoder().encode("genuine"));
  const buf = new Uint8Array(16);
  const n = await server.read(buf);
  assert.equal(new TextDecoder().decode(buf.subarray(0, n!)), "genuine");
  client.close();
  server.close();
  listener.close();
});

Deno.test("a reader that never reads: the receiver holds at most its buffer, the writer waits", async () => {
  const recvBufferBytes = 64 * 1024;
  const sendBufferBytes = 64 * 1024;
  await using pair = createStackPair({
    stack: { tcp: { tcb: { recvBufferBytes, sendBufferBytes } } },
  });
  const listener = pair.b.listen({ port: 80 });
  const client = await pair.a.connect({ hostname: "10.0.0.2", port: 80 });
  const server = await listener.accept();
  let written = 0;
  const writing = (async () => {
    const chunk = new Uint8Array(16 * 1024);
    for (let i = 0; i < 64; i++) written += await client.write(chunk);
  })();
  for (let i = 0; i < 20; i++) await settle();
  const receiver = pair.b.tcp.connectionTcb(A, client.localAddr.port, 80)!;
  const sender = pair.a.tcp.connectionTcb(B, 80, client.localAddr.port)!;
  assert.ok(receiver.readableBytes <= recvBufferBytes, `receiver holds ${receiver.readableBytes}`);
  assert.ok(sender.unacknowledgedBytes <= sendBufferBytes + recvBufferBytes);
  assert.ok(written < 64 * 16 * 1024, "the writer is held back");
  // Reading releases the writer.
  const buf = new Uint8Array(64 * 1024);
  let read = 0;
  while (read < 64 * 16 * 1024) read += (await server.read(buf))!;
  await writing;
  assert.equal(written, 64 * 16 * 1024);
  client.close();
  server.close();
  listener.close();
});
