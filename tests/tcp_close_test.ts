// Connection teardown state by state (RFC 9293 §3.6, Figures 12-13; §3.10.4; §3.10.7.4 eighth),
// checked segment by segment against the layer under test.
import assert from "node:assert/strict";
import { ADDR_A, Probe } from "../stack/tcp/_testing.ts";
import { TcpState } from "../stack/tcp/state.ts";
import { TcpFlags } from "../stack/wire/tcp.ts";

const { SYN, ACK, RST, FIN, PSH } = TcpFlags;
const P = 1000; // the probe's ISS

async function open(probe: Probe) {
  const listener = probe.layer.listen({ port: 80 });
  await probe.send({ flags: SYN, seq: P, options: { mss: 1460 } });
  const iss = probe.expect({ flags: SYN | ACK, ack: P + 1 }).seq;
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 1 });
  const conn = await listener.accept();
  const state = () => probe.layer.connectionState(ADDR_A, 40000, 80);
  return { conn, iss, state };
}

Deno.test("tcp close: active close through FIN-WAIT-1/2 and TIME-WAIT expiry", async () => {
  const probe = new Probe({ tcb: { timeWaitMs: 60_000 } });
  const { conn, iss, state } = await open(probe);
  conn.close();
  await probe.settle();
  probe.expect({ flags: FIN | ACK, seq: iss + 1, ack: P + 1 });
  assert.equal(state(), TcpState.FinWait1);
  await assert.rejects(() => conn.read(new Uint8Array(1)), Deno.errors.BadResource);
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 2 });
  assert.equal(state(), TcpState.FinWait2);
  probe.expectNone();
  await probe.send({ flags: FIN | ACK, seq: P + 1, ack: iss + 2 });
  probe.expect({ flags: ACK, seq: iss + 2, ack: P + 2 });
  assert.equal(state(), TcpState.TimeWait);
  // A retransmitted FIN is acknowledged again and restarts the 2*MSL timer.
  await probe.advance(30_000);
  await probe.send({ flags: FIN | ACK, seq: P + 1, ack: iss + 2 });
  probe.expect({ flags: ACK, seq: iss + 2, ack: P + 2 });
  await probe.advance(59_999);
  assert.equal(state(), TcpState.TimeWait);
  await probe.advance(1);
  assert.equal(state(), undefined);
  assert.equal(probe.layer.stats.activeConnections, 0);
  probe.expectNone();
  await probe.close();
});

Deno.test("tcp close: FIN-WAIT-1 to TIME-WAIT when FIN and ACK arrive together", async () => {
  const probe = new Probe();
  const { conn, iss, state } = await open(probe);
  await conn.closeWrite();
  await probe.settle();
  probe.expect({ flags: FIN | ACK, seq: iss + 1 });
  await probe.send({ flags: FIN | ACK, seq: P + 1, ack: iss + 2 });
  probe.expect({ flags: ACK, seq: iss + 2, ack: P + 2 });
  assert.equal(state(), TcpState.TimeWait);
  assert.equal(await conn.read(new Uint8Array(4)), null);
  conn.close();
  await probe.close();
});

Deno.test("tcp close: passive close through CLOSE-WAIT and LAST-ACK", async () => {
  const probe = new Probe();
  const { conn, iss, state } = await open(probe);
  await probe.send({ flags: FIN | ACK, seq: P + 1, ack: iss + 1 });
  // The FIN is acknowledged at once (RFC 9293 §3.10.7.4 eighth).
  probe.expect({ flags: ACK, seq: iss + 1, ack: P + 2 });
  assert.equal(state(), TcpState.CloseWait);
  assert.equal(await conn.read(new Uint8Array(4)), null);
  // Half-closed by the peer: we may still send.
  await conn.write(new TextEncoder().encode("bye"));
  await probe.settle();
  probe.expect({ flags: ACK | PSH, seq: iss + 1, ack: P + 2, length: 3 });
  await conn.closeWrite();
  await probe.settle();
  probe.expect({ flags: FIN | ACK, seq: iss + 4, ack: P + 2 });
  assert.equal(state(), TcpState.LastAck);
  // Our FIN is retransmitted until acknowledged. The handshake's RTT sample was 0 ms, so the
  // RTO is the 200 ms minimum, restarted by the ACK of "bye" (RFC 6298 §5.3).
  await probe.send({ flags: ACK, seq: P + 2, ack: iss + 4 });
  assert.equal(state(), TcpState.LastAck);
  await probe.advance(199);
  probe.expectNone();
  await probe.advance(1);
  probe.expect({ flags: FIN | ACK, seq: iss + 4 });
  await probe.send({ flags: ACK, seq: P + 2, ack: iss + 5 });
  assert.equal(state(), undefined);
  probe.expectNone();
  conn.close();
  await probe.close();
});

Deno.test("tcp close: simultaneous close through CLOSING (RFC 9293 Figure 13)", async () => {
  const probe = new Probe();
  const { conn, iss, state } = await open(probe);
  await conn.closeWrite();
  await probe.settle();
  probe.expect({ flags: FIN | ACK, seq: iss + 1, ack: P + 1 });
  // The peer's FIN crossed ours: it does not acknowledge our FIN.
  await probe.send({ flags: FIN | ACK, seq: P + 1, ack: iss + 1 });
  probe.expect({ flags: ACK, seq: iss + 2, ack: P + 2 });
  assert.equal(state(), TcpState.Closing);
  await probe.send({ flags: ACK, seq: P + 2, ack: iss + 2 });
  assert.equal(state(), TcpState.TimeWait);
  conn.close();
  await probe.close();
});

Deno.test("tcp close: after closeWrite we still receive (FIN-WAIT-2 half-close)", async () => {
  const probe = new Probe();
  const { conn, iss, state } = await open(probe);
  await conn.closeWrite();
  await probe.settle();
  probe.expect({ flags: FIN | ACK, seq: iss + 1 });
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 2 });
  assert.equal(state(), TcpState.FinWait2);
  await assert.rejects(() => conn.write(new Uint8Array(1)), Deno.errors.BrokenPipe);
  await probe.send({ flags: ACK | PSH, seq: P + 1, ack: iss + 2, payload: new Uint8Array([1, 2]) });
  const buf = new Uint8Array(8);
  assert.equal(await conn.read(buf), 2);
  assert.deepEqual([...buf.subarray(0, 2)], [1, 2]);
  conn.close();
  await probe.close();
});

Deno.test("tcp close: close with unread data sends RST (RFC 1122 §4.2.2.13)", async () => {
  const probe = new Probe();
  const { conn, iss } = await open(probe);
  await probe.send({ flags: ACK | PSH, seq: P + 1, ack: iss + 1, payload: new Uint8Array(10) });
  await probe.advance(40); // delayed ACK
  probe.expect({ flags: ACK, ack: P + 11 });
  conn.close();
  await probe.settle();
  probe.expect({ flags: RST, seq: iss + 1 });
  assert.equal(probe.layer.stats.activeConnections, 0);
  await probe.close();
});

Deno.test("tcp close: data arriving after a full close is answered with RST", async () => {
  const probe = new Probe();
  const { conn, iss, state } = await open(probe);
  conn.close();
  await probe.settle();
  probe.expect({ flags: FIN | ACK, seq: iss + 1 });
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 2 });
  assert.equal(state(), TcpState.FinWait2);
  await probe.send({ flags: ACK | PSH, seq: P + 1, ack: iss + 2, payload: new Uint8Array(5) });
  probe.expect({ flags: RST, seq: iss + 2 });
  assert.equal(state(), undefined);
  await probe.close();
});

Deno.test("tcp close: an orphaned FIN-WAIT-2 times out", async () => {
  const probe = new Probe({ tcb: { finWait2TimeoutMs: 5000 } });
  const { conn, iss, state } = await open(probe);
  conn.close();
  await probe.settle();
  probe.expect({ flags: FIN | ACK, seq: iss + 1 });
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 2 });
  await probe.advance(4999);
  assert.equal(state(), TcpState.FinWait2);
  await probe.advance(1);
  assert.equal(state(), undefined);
  await probe.close();
});

Deno.test("tcp close: in TIME-WAIT the layer keeps an entry, the user's handle its unread data", async () => {
  const probe = new Probe();
  const { conn, iss, state } = await open(probe);
  await conn.closeWrite();
  await probe.settle();
  probe.expect({ flags: FIN | ACK, seq: iss + 1 });
  // Data, the peer's FIN and the ACK of ours in one segment: straight to TIME-WAIT, unread.
  const dataAndFin = {
    flags: FIN | ACK | PSH,
    seq: P + 1,
    ack: iss + 2,
    payload: Uint8Array.of(7, 8),
  };
  await probe.send(dataAndFin);
  probe.expect({ flags: ACK, seq: iss + 2, ack: P + 4 });
  assert.equal(state(), TcpState.TimeWait);
  assert.equal(probe.layer.connectionTcb(ADDR_A, 40000, 80), undefined, "the TCB was let go");
  assert.equal(probe.layer.stats.timeWaitConnections, 1);
  assert.equal(probe.layer.stats.activeConnections, 1);
  const buf = new Uint8Array(4);
  assert.equal(await conn.read(buf), 2);
  assert.deepEqual(buf.subarray(0, 2), Uint8Array.of(7, 8));
  assert.equal(await conn.read(buf), null);
  conn.close();
  // The entry still answers for the connection: a retransmitted FIN gets its ACK again.
  await probe.send(dataAndFin);
  probe.expect({ flags: ACK, seq: iss + 2, ack: P + 4 });
  await probe.close();
});

Deno.test("tcp close: a new SYN ends TIME-WAIT for a listener (RFC 9293 §3.6.1)", async () => {
  const probe = new Probe();
  const { conn, iss, state } = await open(probe);
  conn.close();
  await probe.settle();
  probe.expect({ flags: FIN | ACK });
  await probe.send({ flags: FIN | ACK, seq: P + 1, ack: iss + 2 });
  probe.expect({ flags: ACK, ack: P + 2 });
  assert.equal(state(), TcpState.TimeWait);
  await probe.send({ flags: SYN, seq: P + 100_000 });
  probe.expect({ flags: SYN | ACK, ack: P + 100_001 });
  assert.equal(state(), TcpState.SynReceived);
  await probe.close();
});

Deno.test("tcp close: layer close resets connections and listeners", async () => {
  const probe = new Probe();
  const { conn, iss } = await open(probe);
  const reading = conn.read(new Uint8Array(1));
  await probe.layer.close();
  await probe.settle();
  probe.expect({ flags: RST, seq: iss + 1 });
  assert.equal(await reading, null);
  await assert.rejects(
    () => probe.layer.connect({ hostname: ADDR_A, port: 1 }),
    Deno.errors.BadResource,
  );
  await probe.close();
});

Deno.test("tcp close: TIME-WAIT ignores RST (RFC 1337 §4)", async () => {
  const probe = new Probe();
  const { conn, iss, state } = await open(probe);
  conn.close();
  await probe.settle();
  probe.expect({ flags: FIN | ACK });
  await probe.send({ flags: FIN | ACK, seq: P + 1, ack: iss + 2 });
  probe.expect({ flags: ACK, ack: P + 2 });
  await probe.send({ flags: RST, seq: P + 2 });
  assert.equal(state(), TcpState.TimeWait);
  probe.expectNone();
  await probe.close();
});

// RFC 9293 §3.10.7.4 second check: a RST at RCV.NXT ends the connection in every synchronized
// state but TIME-WAIT (RFC 1337); the user sees ConnectionReset where data could still flow.
const RST_STATES: [
  string,
  TcpState,
  (p: Probe, c: Awaited<ReturnType<typeof open>>) => Promise<number>,
][] = [
  ["ESTABLISHED", TcpState.Established, () => Promise.resolve(P + 1)],
  ["FIN-WAIT-1", TcpState.FinWait1, async (p, c) => {
    await c.conn.closeWrite();
    await p.settle();
    return P + 1;
  }],
  ["FIN-WAIT-2", TcpState.FinWait2, async (p, c) => {
    await c.conn.closeWrite();
    await p.settle();
    await p.send({ flags: ACK, seq: P + 1, ack: c.iss + 2 });
    return P + 1;
  }],
  ["CLOSE-WAIT", TcpState.CloseWait, async (p, c) => {
    await p.send({ flags: FIN | ACK, seq: P + 1, ack: c.iss + 1 });
    return P + 2;
  }],
  ["CLOSING", TcpState.Closing, async (p, c) => {
    await c.conn.closeWrite();
    await p.settle();
    await p.send({ flags: FIN | ACK, seq: P + 1, ack: c.iss + 1 });
    return P + 2;
  }],
  ["LAST-ACK", TcpState.LastAck, async (p, c) => {
    await p.send({ flags: FIN | ACK, seq: P + 1, ack: c.iss + 1 });
    await c.conn.closeWrite();
    await p.settle();
    return P + 2;
  }],
];
for (const [name, expected, reach] of RST_STATES) {
  Deno.test(`tcp close: RST at RCV.NXT in ${name} closes the connection`, async () => {
    const probe = new Probe();
    const c = await open(probe);
    const rcvNxt = await reach(probe, c);
    assert.equal(c.state(), expected);
    await probe.send({ flags: RST, seq: rcvNxt + 1 });
    assert.equal(c.state(), expected, "off by one: challenge ACK only");
    await probe.send({ flags: RST, seq: rcvNxt });
    assert.equal(c.state(), undefined);
    c.conn.close();
    await probe.close();
  });
}

Deno.test("tcp close: RST in SYN-RECEIVED drops the embryonic connection (back to LISTEN)", async () => {
  const probe = new Probe();
  const listener = probe.layer.listen({ port: 80 });
  await probe.send({ flags: SYN, seq: P });
  const iss = probe.expect({ flags: SYN | ACK }).seq;
  await probe.send({ flags: RST, seq: P + 1 });
  assert.equal(probe.layer.connectionState(ADDR_A, 40000, 80), undefined);
  // The listener still works.
  await probe.send({ flags: SYN, seq: P + 5000 });
  const iss2 = probe.expect({ flags: SYN | ACK, ack: P + 5001 }).seq;
  assert.equal(iss2, iss, "same tuple, same clock: same RFC 6528 ISN");
  await probe.send({ flags: ACK, seq: P + 5001, ack: iss2 + 1 });
  const conn = await listener.accept();
  conn.close();
  await probe.close();
});
