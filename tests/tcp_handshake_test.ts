// Connection establishment, RST rules and option negotiation, checked segment by segment
// against the layer under test (RFC 9293 §3.5, §3.10.7; RFC 5961; RFC 7323; RFC 2018).
import assert from "node:assert/strict";
import { ADDR_A, ADDR_B, Net, Probe } from "../stack/tcp/_testing.ts";
import { TcpState } from "../stack/tcp/state.ts";
import { TcpFlags } from "../stack/wire/tcp.ts";

const { SYN, ACK, RST, FIN, PSH } = TcpFlags;
const PEER_ISS = 1000;

/** A listener on 80 and a completed passive handshake without options beyond MSS. */
async function passiveOpen(probe: Probe, options = { mss: 1460 }) {
  const listener = probe.layer.listen({ port: 80 });
  await probe.send({ flags: SYN, seq: PEER_ISS, options });
  const synAck = probe.expect({ flags: SYN | ACK, ack: PEER_ISS + 1 });
  const iss = synAck.seq;
  await probe.send({ flags: ACK, seq: PEER_ISS + 1, ack: iss + 1 });
  const conn = await listener.accept();
  return { listener, conn, iss };
}

Deno.test("tcp handshake: passive open, SYN-ACK carries our options (RFC 9293 §3.5)", async () => {
  const probe = new Probe();
  const listener = probe.layer.listen({ port: 80 });
  await probe.send({
    flags: SYN,
    seq: PEER_ISS,
    options: { mss: 1400, windowScale: 7, sackPermitted: true, timestamps: { value: 5, echo: 0 } },
  });
  const synAck = probe.expect({ flags: SYN | ACK, ack: PEER_ISS + 1, window: 65535 });
  // MSS from MTU 1500 (RFC 9293 §3.7.1); shift 3 describes the 256 KiB buffer (RFC 7323 §2.2).
  assert.equal(synAck.options.mss, 1460);
  assert.equal(synAck.options.windowScale, 3);
  assert.equal(synAck.options.sackPermitted, true);
  assert.equal(synAck.options.timestamps?.echo, 5);
  assert.equal(probe.layer.connectionState(ADDR_A, 40000, 80), TcpState.SynReceived);
  const iss = synAck.seq;
  await probe.send({
    flags: ACK,
    seq: PEER_ISS + 1,
    ack: iss + 1,
    window: 100, // scaled by 2^7 = 12800 bytes
    options: { timestamps: { value: 6, echo: synAck.options.timestamps!.value } },
  });
  const conn = await listener.accept();
  assert.deepEqual(conn.remoteAddr, { transport: "tcp", hostname: "10.0.0.1", port: 40000 });
  assert.deepEqual(conn.localAddr, { transport: "tcp", hostname: "10.0.0.2", port: 80 });
  const tcb = probe.layer.connectionTcb(ADDR_A, 40000, 80)!;
  assert.equal(tcb.state, TcpState.Established);
  assert.equal(tcb.sndWnd, 12800);
  assert.equal(tcb.sendMss, 1400 - 12); // peer MSS minus the timestamp option (RFC 6691)
  assert.equal(tcb.tsEnabled, true);
  assert.equal(tcb.sackEnabled, true);
  probe.expectNone();
  await probe.close();
});

Deno.test("tcp handshake: no scaling unless both SYNs carry it (RFC 7323 §2.2)", async () => {
  const probe = new Probe();
  const { conn } = await passiveOpen(probe);
  const tcb = probe.layer.connectionTcb(ADDR_A, 40000, 80)!;
  assert.equal(tcb.rcvShift, 0);
  assert.equal(tcb.sndShift, 0);
  assert.equal(tcb.tsEnabled, false);
  assert.equal(tcb.sendMss, 1460);
  conn.close();
  await probe.close();
});

Deno.test("tcp handshake: active open sends SYN with options and ACKs the SYN-ACK", async () => {
  const probe = new Probe();
  const connecting = probe.layer.connect({ hostname: ADDR_A, port: 40000, localPort: 5555 });
  await probe.settle();
  probe.localPort = 40000;
  probe.remotePort = 5555;
  const syn = probe.expect({ flags: SYN, ack: 0, window: 65535 });
  assert.equal(syn.options.mss, 1460);
  assert.equal(syn.options.windowScale, 3);
  assert.equal(syn.options.sackPermitted, true);
  assert.ok(syn.options.timestamps);
  await probe.send({
    flags: SYN | ACK,
    seq: PEER_ISS,
    ack: syn.seq + 1,
    window: 30000,
    options: { mss: 1000 },
  });
  probe.expect({ flags: ACK, seq: syn.seq + 1, ack: PEER_ISS + 1 });
  const conn = await connecting;
  assert.equal(conn.localAddr.port, 5555);
  const tcb = probe.layer.connectionTcb(ADDR_A, 40000, 5555)!;
  assert.equal(tcb.state, TcpState.Established);
  assert.equal(tcb.tsEnabled, false); // the SYN-ACK did not echo timestamps
  assert.equal(tcb.sndWnd, 30000); // a SYN's window is never scaled
  assert.equal(tcb.sendMss, 1000);
  conn.close();
  await probe.close();
});

Deno.test("tcp handshake: RST,ACK to a closed port (RFC 9293 §3.10.7.1)", async () => {
  const probe = new Probe();
  await probe.send({ flags: SYN, seq: 5000, payload: new Uint8Array(3) });
  // No ACK in the offending segment: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>; LEN counts SYN.
  probe.expect({ flags: RST | ACK, seq: 0, ack: 5004, length: 0 });
  await probe.send({ flags: ACK, seq: 5000, ack: 777 });
  probe.expect({ flags: RST, seq: 777 });
  await probe.send({ flags: RST, seq: 5000 });
  probe.expectNone("never a RST for a RST");
  assert.equal(probe.layer.stats.drops["no-connection"], 3);
  assert.equal(probe.layer.stats.resetsOut, 2);
  await probe.close();
});

Deno.test("tcp handshake: LISTEN answers an ACK with RST and ignores RST (§3.10.7.2)", async () => {
  const probe = new Probe();
  probe.layer.listen({ port: 80 });
  await probe.send({ flags: ACK, seq: 1, ack: 4242 });
  probe.expect({ flags: RST, seq: 4242 });
  await probe.send({ flags: RST, seq: 1 });
  await probe.send({ flags: FIN, seq: 1 });
  probe.expectNone();
  await probe.close();
});

Deno.test("tcp handshake: listen on a used port throws AddrInUse", async () => {
  const probe = new Probe();
  const l = probe.layer.listen({ port: 80 });
  assert.throws(() => probe.layer.listen({ port: 80 }), Deno.errors.AddrInUse);
  l.close();
  assert.throws(() => l.close(), Deno.errors.BadResource);
  await assert.rejects(() => l.accept(), Deno.errors.BadResource);
  probe.layer.listen({ port: 80 }); // free again
  await probe.close();
});

Deno.test("tcp handshake: RST,ACK to our SYN refuses the connection (§3.10.7.3)", async () => {
  const probe = new Probe();
  const connecting = probe.layer.connect({ hostname: ADDR_A, port: 40000, localPort: 5555 });
  await probe.settle();
  const syn = probe.expect({ flags: SYN });
  probe.remotePort = 5555;
  // A RST without an acceptable ACK is ignored; with one it refuses.
  await probe.send({ flags: RST | ACK, seq: 0, ack: syn.seq + 7 });
  probe.expectNone("a RST is never answered");
  await probe.send({ flags: RST | ACK, seq: 0, ack: syn.seq + 1 });
  await assert.rejects(connecting, Deno.errors.ConnectionRefused);
  assert.equal(probe.layer.stats.activeConnections, 0);
  await probe.close();
});

Deno.test("tcp handshake: SYN-SENT answers a bad ACK with RST <SEQ=SEG.ACK>", async () => {
  const probe = new Probe();
  const connecting = probe.layer.connect({ hostname: ADDR_A, port: 40000, localPort: 5555 });
  await probe.settle();
  const syn = probe.expect({ flags: SYN });
  probe.remotePort = 5555;
  await probe.send({ flags: SYN | ACK, seq: 9, ack: syn.seq + 2 });
  probe.expect({ flags: RST, seq: syn.seq + 2 });
  await probe.send({ flags: SYN | ACK, seq: 9, ack: syn.seq + 1 });
  probe.expect({ flags: ACK, seq: syn.seq + 1, ack: 10 });
  (await connecting).close();
  await probe.close();
});

Deno.test("tcp handshake: SYN retransmissions back off 1,2,4.. s then TimedOut (RFC 6298)", async () => {
  const probe = new Probe({ tcb: { synRetries: 3 } });
  const connecting = probe.layer.connect({ hostname: ADDR_A, port: 40000 });
  let failed: unknown;
  connecting.catch((e) => failed = e);
  await probe.settle();
  const syn = probe.expect({ flags: SYN });
  for (const wait of [1000, 2000, 4000]) {
    await probe.advance(wait - 1);
    probe.expectNone(`before ${wait} ms`);
    await probe.advance(1);
    probe.expect({ flags: SYN, seq: syn.seq }, `after ${wait} ms`);
  }
  await probe.advance(7999);
  assert.equal(failed, undefined);
  await probe.advance(1);
  assert.ok((failed as unknown) instanceof Deno.errors.TimedOut, `got ${failed}`);
  probe.expectNone();
  await probe.close();
});

Deno.test("tcp handshake: SYN-RECEIVED resends SYN-ACK for a repeated SYN, RST for bad ACK", async () => {
  const probe = new Probe();
  probe.layer.listen({ port: 80 });
  await probe.send({ flags: SYN, seq: PEER_ISS });
  const synAck = probe.expect({ flags: SYN | ACK, ack: PEER_ISS + 1 });
  await probe.send({ flags: SYN, seq: PEER_ISS });
  probe.expect({ flags: SYN | ACK, seq: synAck.seq, ack: PEER_ISS + 1 });
  // RFC 9293 §3.10.7.4 fifth, SYN-RECEIVED: unacceptable ACK -> <SEQ=SEG.ACK><CTL=RST>.
  await probe.send({ flags: ACK, seq: PEER_ISS + 1, ack: synAck.seq + 50 });
  probe.expect({ flags: RST, seq: synAck.seq + 50 });
  assert.equal(probe.layer.connectionState(ADDR_A, 40000, 80), TcpState.SynReceived);
  // SYN-ACK retransmitted after the initial RTO of 1 s.
  await probe.advance(1000);
  probe.expect({ flags: SYN | ACK, seq: synAck.seq });
  await probe.close();
});

Deno.test("tcp handshake: simultaneous open (RFC 9293 §3.5 Figure 8)", async () => {
  const probe = new Probe();
  const connecting = probe.layer.connect({ hostname: ADDR_A, port: 40000, localPort: 5555 });
  await probe.settle();
  const syn = probe.expect({ flags: SYN });
  probe.remotePort = 5555;
  // The peer's SYN crosses ours.
  await probe.send({ flags: SYN, seq: PEER_ISS, options: { mss: 1460 } });
  probe.expect({ flags: SYN | ACK, seq: syn.seq, ack: PEER_ISS + 1 });
  assert.equal(probe.layer.connectionState(ADDR_A, 40000, 5555), TcpState.SynReceived);
  // The peer's SYN-ACK arrives: established.
  await probe.send({ flags: SYN | ACK, seq: PEER_ISS, ack: syn.seq + 1 });
  const conn = await connecting;
  assert.equal(probe.layer.connectionState(ADDR_A, 40000, 5555), TcpState.Established);
  // Data flows both ways afterwards.
  await probe.send({
    flags: ACK | PSH,
    seq: PEER_ISS + 1,
    ack: syn.seq + 1,
    payload: new Uint8Array([7]),
  });
  const buf = new Uint8Array(4);
  assert.equal(await conn.read(buf), 1);
  assert.equal(buf[0], 7);
  conn.close();
  await probe.close();
});

Deno.test("tcp handshake: simultaneous open between two stacks", async () => {
  const net = new Net();
  const ca = net.a.connect({ hostname: 0x0a000002, port: 6000, localPort: 7000 });
  const cb = net.b.connect({ hostname: 0x0a000001, port: 7000, localPort: 6000 });
  const [a, b] = await Promise.all([net.await(ca), net.await(cb)]);
  await net.await(a.write(new TextEncoder().encode("hi")));
  const buf = new Uint8Array(8);
  assert.equal(await net.await(b.read(buf)), 2);
  a.close();
  b.close();
  await net.close();
});

Deno.test("tcp RST: exact sequence resets, in-window gets a challenge ACK (RFC 5961 §3.2)", async () => {
  const probe = new Probe();
  const { conn, iss } = await passiveOpen(probe);
  let readError: unknown;
  const reading = conn.read(new Uint8Array(10)).catch((e) => readError = e);
  await probe.send({ flags: RST, seq: PEER_ISS + 1 + 100 });
  probe.expect({ flags: ACK, seq: iss + 1, ack: PEER_ISS + 1 }, "challenge ACK");
  await probe.send({ flags: RST, seq: PEER_ISS + 1 + 10_000_000 });
  probe.expectNone("out-of-window RST is dropped silently");
  assert.equal(probe.layer.connectionState(ADDR_A, 40000, 80), TcpState.Established);
  await probe.send({ flags: RST, seq: PEER_ISS + 1 });
  await reading;
  assert.ok(readError instanceof Deno.errors.ConnectionReset);
  assert.equal(probe.layer.stats.activeConnections, 0);
  assert.equal(probe.layer.stats.challengeAcks, 1);
  await assert.rejects(() => conn.write(new Uint8Array(1)), Deno.errors.ConnectionReset);
  await probe.close();
});

Deno.test("tcp RST: SYN in a synchronized state gets a challenge ACK (RFC 5961 §4.2)", async () => {
  const probe = new Probe();
  const { conn, iss } = await passiveOpen(probe);
  await probe.send({ flags: SYN, seq: PEER_ISS + 50 });
  probe.expect({ flags: ACK, seq: iss + 1, ack: PEER_ISS + 1 });
  assert.equal(probe.layer.connectionState(ADDR_A, 40000, 80), TcpState.Established);
  conn.close();
  await probe.close();
});

Deno.test("tcp RST: ACK of unsent data is answered and dropped (RFC 5961 §5.2)", async () => {
  const probe = new Probe();
  const { conn, iss } = await passiveOpen(probe);
  await probe.send({
    flags: ACK | PSH,
    seq: PEER_ISS + 1,
    ack: iss + 1000,
    payload: new Uint8Array([1, 2]),
  });
  probe.expect({ flags: ACK, seq: iss + 1, ack: PEER_ISS + 1 }, "data not accepted");
  assert.equal(probe.layer.connectionTcb(ADDR_A, 40000, 80)!.readableBytes, 0);
  conn.close();
  await probe.close();
});

Deno.test("tcp handshake: checksum errors and garbage are counted, not answered", async () => {
  const probe = new Probe();
  probe.layer.listen({ port: 80 });
  probe.sendRaw(new Uint8Array(10));
  const bad = new Uint8Array(20);
  bad[12] = 0x50;
  bad[13] = SYN;
  probe.sendRaw(bad); // checksum 0 is wrong
  await probe.settle();
  probe.expectNone();
  assert.equal(probe.layer.stats.drops["truncated"], 1);
  assert.equal(probe.layer.stats.drops["bad-checksum"], 1);
  await probe.close();
});

Deno.test("tcp handshake: SYN cookies when the backlog is full (RFC 4987 §3.6)", async () => {
  const probe = new Probe();
  const listener = probe.layer.listen({ port: 80, backlog: 1 });
  await probe.send({ flags: SYN, seq: PEER_ISS, options: { mss: 1460 } });
  probe.expect({ flags: SYN | ACK, ack: PEER_ISS + 1 });
  // The backlog (1) is taken by the half-open connection: the next SYN gets a cookie.
  await probe.send({
    flags: SYN,
    seq: 7000,
    sourcePort: 40001,
    options: { mss: 1460, sackPermitted: true },
  });
  const cookie = probe.expect({
    flags: SYN | ACK,
    ack: 7001,
    window: 65535,
    options: { mss: 1460 },
  });
  assert.equal(probe.layer.stats.synCookiesSent, 1);
  assert.equal(probe.layer.connectionState(ADDR_A, 40001, 80), undefined, "no state kept");
  // The returning ACK, with data, creates the connection.
  await probe.send({
    flags: ACK | PSH,
    seq: 7001,
    ack: cookie.seq + 1,
    sourcePort: 40001,
    payload: new TextEncoder().encode("hi"),
  });
  assert.equal(probe.layer.connectionState(ADDR_A, 40001, 80), TcpState.Established);
  assert.equal(probe.layer.stats.synCookiesAccepted, 1);
  const conn = await listener.accept();
  assert.equal(conn.remoteAddr.port, 40001);
  const buf = new Uint8Array(8);
  assert.equal(await conn.read(buf), 2);
  // A forged cookie is answered like any stray ACK at a listener.
  await probe.advance(40);
  probe.expect({ flags: ACK, ack: 7003 });
  await probe.send({ flags: ACK, seq: 9, ack: 12345, sourcePort: 40002 });
  probe.expect({ flags: RST, seq: 12345 });
  conn.close();
  await probe.close();
});

Deno.test("tcp handshake: without SYN cookies a full backlog drops SYNs", async () => {
  const probe = new Probe({ synCookies: false });
  probe.layer.listen({ port: 80, backlog: 1 });
  await probe.send({ flags: SYN, seq: PEER_ISS });
  probe.expect({ flags: SYN | ACK });
  await probe.send({ flags: SYN, seq: 7000, sourcePort: 40001 });
  probe.expectNone();
  assert.equal(probe.layer.stats.drops["backlog-full"], 1);
  await probe.close();
});

Deno.test("tcp handshake: ICMP port unreachable refuses a connecting socket (RFC 1122 §4.2.3.9)", async () => {
  const probe = new Probe();
  const connecting = probe.layer.connect({ hostname: ADDR_A, port: 40000, localPort: 5555 });
  await probe.settle();
  const syn = probe.expect({ flags: SYN });
  // Quote our SYN: ports 5555 -> 40000 and its sequence number.
  const quoted = probe.ip.sent[0].payload.subarray(0, 8);
  const stale = quoted.slice();
  stale[4] ^= 0x80; // a sequence number outside SND.UNA..SND.MAX is ignored (RFC 5927 §4.1)
  probe.sendIcmp({ type: 3, code: 3, quoted: stale });
  await probe.settle();
  assert.equal(probe.layer.connectionState(ADDR_A, 40000, 5555), TcpState.SynSent);
  probe.sendIcmp({ type: 3, code: 3, quoted });
  await assert.rejects(connecting, Deno.errors.ConnectionRefused);
  assert.equal(probe.layer.stats.icmpErrors, 2);
  assert.equal(syn.sourcePort, 5555);
  await probe.close();
});

Deno.test("tcp data: ICMP fragmentation needed shrinks the MSS (RFC 1191 §6.2)", async () => {
  const probe = new Probe();
  const { conn, iss } = await passiveOpen(probe);
  await conn.write(new Uint8Array(1460));
  await probe.settle();
  const big = probe.expect({ seq: iss + 1, length: 1460 });
  probe.sendIcmp({ type: 3, code: 4, nextHopMtu: 1000, quoted: big.bytes.subarray(0, 8) });
  await probe.settle();
  probe.expect({ seq: iss + 1, length: 960 });
  conn.close();
  await probe.close();
});

Deno.test("tcp handshake: connect takes dotted-quad text and rejects garbage", async () => {
  const net = new Net();
  const listener = net.b.listen({ port: 9 });
  const conn = await net.await(net.a.connect({ hostname: "10.0.0.2", port: 9 }));
  assert.equal(conn.remoteAddr.hostname, "10.0.0.2");
  assert.ok(conn.localAddr.port >= 49152);
  await assert.rejects(() => net.a.connect({ hostname: "10.0.0", port: 9 }), TypeError);
  await assert.rejects(() => net.a.connect({ hostname: "10.0.0.2", port: 70000 }), RangeError);
  await assert.rejects(
    () => net.a.connect({ hostname: "10.0.0.2", port: 9, localPort: conn.localAddr.port }),
    Deno.errors.AddrInUse,
  );
  conn.close();
  listener.close();
  await net.close();
});

Deno.test("tcp api: using / await using close connections and listeners", async () => {
  const net = new Net();
  let port = 0;
  {
    using listener = net.b.listen({ port: 9 });
    const accepted = listener.accept();
    await using conn = await net.await(net.a.connect({ hostname: "10.0.0.2", port: 9 }));
    using server = await net.await(accepted);
    assert.equal(server.remoteAddr.port, conn.localAddr.port);
    port = conn.localAddr.port;
  }
  await net.run(10);
  // Both sides closed: their FINs crossed, so both wait in TIME-WAIT; the port is free again.
  assert.equal(net.a.connectionState(ADDR_B, 9, port), TcpState.TimeWait);
  assert.equal(net.b.connectionState(ADDR_A, port, 9), TcpState.TimeWait);
  net.b.listen({ port: 9 }).close();
  await net.close();
});

Deno.test("tcp handshake: a checksum the link verified (offload) is not checked again", async () => {
  const probe = new Probe();
  probe.layer.listen({ port: 80 });
  const syn = new Uint8Array(20);
  syn.set([0x9c, 0x40, 0x00, 0x50]); // 40000 -> 80
  syn.set([0, 0, 0x03, 0xe8], 4); // seq 1000
  syn[12] = 0x50;
  syn[13] = SYN;
  syn.set([0xff, 0xff], 14);
  // Checksum left at 0, as with TX checksum offload on the sending side.
  probe.sendRaw(syn, ADDR_A, true);
  await probe.settle();
  probe.expect({ flags: SYN | ACK, ack: 1001 });
  probe.sendRaw(syn, ADDR_A, false);
  await probe.settle();
  assert.equal(probe.layer.stats.drops["bad-checksum"], 1);
  await probe.close();
});
