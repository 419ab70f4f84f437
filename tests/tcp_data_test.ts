// Data transfer rules checked segment by segment: delayed ACKs, out-of-order handling and SACK,
// corking until the end of the turn, Nagle, MSS, window scaling, zero windows and persist probes, retransmission timing and backoff,
// fast retransmit, PAWS and keepalive.
import assert from "node:assert/strict";
import { ADDR_A, Probe } from "../stack/tcp/_testing.ts";
import type { TcpLayerOptions } from "../stack/tcp/layer.ts";
import { TcpState } from "../stack/tcp/state.ts";
import { TcpFlags, type TcpOptions } from "../stack/wire/tcp.ts";
import { TurnEnd } from "../stack/turn_end.ts";

const { SYN, ACK, FIN, PSH } = TcpFlags;
const P = 1000;

async function open(
  layerOptions: Partial<TcpLayerOptions> = {},
  synOptions: TcpOptions = { mss: 1460 },
  ackWindow = 65535,
  synWindow = 65535,
) {
  const probe = new Probe(layerOptions);
  const listener = probe.layer.listen({ port: 80 });
  await probe.send({ flags: SYN, seq: P, options: synOptions, window: synWindow });
  const synAck = probe.expect({ flags: SYN | ACK, ack: P + 1 });
  const iss = synAck.seq;
  await probe.send({
    flags: ACK,
    seq: P + 1,
    ack: iss + 1,
    window: ackWindow,
    options: synOptions.timestamps
      ? {
        timestamps: {
          value: synOptions.timestamps.value + 1,
          echo: synAck.options.timestamps!.value,
        },
      }
      : undefined,
  });
  const conn = await listener.accept();
  const tcb = probe.layer.connectionTcb(ADDR_A, 40000, 80)!;
  return { probe, conn, iss, tcb, synAck };
}

const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

Deno.test("tcp data: delayed ACK after 40 ms, immediate on the second full segment", async () => {
  const { probe, conn, iss } = await open();
  await probe.send({ flags: ACK | PSH, seq: P + 1, ack: iss + 1, payload: bytes(100) });
  await probe.advance(39);
  probe.expectNone("ACK is delayed (RFC 9293 §3.8.6.3)");
  await probe.advance(1);
  probe.expect({ flags: ACK, seq: iss + 1, ack: P + 101, window: 65535 });
  await probe.send({ flags: ACK, seq: P + 101, ack: iss + 1, payload: bytes(1460) });
  probe.expectNone();
  await probe.send({ flags: ACK, seq: P + 1561, ack: iss + 1, payload: bytes(1460) });
  // RFC 5681 §4.2: at least every second full-sized segment.
  probe.expect({ flags: ACK, ack: P + 3021 });
  const buf = new Uint8Array(5000);
  assert.equal(await conn.read(buf), 3020);
  conn.close();
  await probe.close();
});

Deno.test("tcp data: a response carries the ACK of its request; no window update before it", async () => {
  // Window scaling on: the SYN-ACK could only offer 65,535 of the 256 KiB buffer, so the first
  // read finds far more room than was advertised. That is not a window shrunk by unread data
  // (RFC 9293 §3.8.6.2.2): the response advertises the larger window itself.
  const { probe, conn, iss } = await open({}, { mss: 1460, windowScale: 7 });
  await probe.send({ flags: ACK | PSH, seq: P + 1, ack: iss + 1, payload: bytes(32) });
  const buf = new Uint8Array(100);
  assert.equal(await conn.read(buf), 32);
  assert.equal(await conn.write(bytes(32, 2)), 32);
  await probe.settle();
  const response = probe.expect({ flags: ACK | PSH, seq: iss + 1, ack: P + 33, length: 32 });
  assert.ok(response.window << 7 > 65535, `window ${response.window} << 7 covers the buffer`);
  probe.expectNone("one segment: the response");
  conn.close();
  await probe.close();
});

Deno.test("tcp data: a response and a close in one turn leave as one segment with the FIN", async () => {
  // The turn ends only when the test says so.
  const turnEnd = new TurnEnd(() => {});
  const { probe, conn, iss } = await open({ turnEnd });
  await probe.send({ flags: ACK | PSH, seq: P + 1, ack: iss + 1, payload: bytes(32) });
  const buf = new Uint8Array(100);
  assert.equal(await conn.read(buf), 32);
  assert.equal(await conn.write(bytes(32, 2)), 32);
  await probe.settle();
  probe.expectNone("a write of less than a segment is corked until the turn ends");
  conn.close();
  await probe.settle();
  const response = probe.expect({ flags: ACK | PSH | FIN, seq: iss + 1, ack: P + 33, length: 32 });
  assert.deepEqual(response.payload, bytes(32, 2));
  probe.expectNone("the FIN rode on the response");
  turnEnd.run();
  await probe.settle();
  probe.expectNone("the end of the turn finds nothing left to send");
  await probe.close();
});

Deno.test("tcp data: small writes of one turn share a segment; a full segment is not held", async () => {
  const turnEnd = new TurnEnd(() => {});
  const { probe, conn, iss } = await open({ turnEnd });
  assert.equal(await conn.write(bytes(10, 1)), 10);
  assert.equal(await conn.write(bytes(20, 2)), 20);
  await probe.settle();
  probe.expectNone("corked");
  assert.equal(turnEnd.pending, 1, "one end-of-turn task for the connection");
  turnEnd.run();
  await probe.settle();
  const seg = probe.expect({ flags: ACK | PSH, seq: iss + 1, length: 30 });
  assert.deepEqual(seg.payload, new Uint8Array([...bytes(10, 1), ...bytes(20, 2)]));
  probe.expectNone();
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 31 });
  // A write that fills a segment goes at once, without waiting for the turn to end.
  assert.equal(await conn.write(bytes(1460, 3)), 1460);
  await probe.settle();
  probe.expect({ flags: ACK | PSH, seq: iss + 31, length: 1460 });
  probe.expectNone();
  assert.equal(turnEnd.pending, 0);
  conn.close();
  await probe.close();
});

Deno.test("tcp data: a write that finds the send buffer full waits for ACKs, not for turns", async () => {
  const turnEnd = new TurnEnd(() => {});
  const { probe, conn, iss } = await open({ tcb: { sendBufferBytes: 3000 }, turnEnd });
  const writing = conn.write(bytes(10_000));
  await probe.settle();
  probe.expect({ seq: iss + 1, length: 1460 });
  probe.expect({ seq: iss + 1461, length: 1460 });
  probe.expectNone("Nagle holds the 80-byte tail");
  // 100 bytes acknowledged: the write takes 100 more, which leaves a tail shorter than a segment.
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 101 });
  assert.equal(turnEnd.pending, 0, "a write not taken whole is not corked");
  turnEnd.run();
  await probe.settle();
  assert.equal(turnEnd.pending, 0, "and the end of the turn does not wake it to cork again");
  probe.expectNone();
  // The rest goes as ACKs free the buffer.
  let acked = iss + 101;
  while (acked < iss + 10_001) {
    await probe.settle();
    const sent = probe.pending();
    for (const _ of sent) probe.expect({});
    acked = Math.max(acked, ...sent.map((seg) => seg.seq + seg.payload.length));
    await probe.send({ flags: ACK, seq: P + 1, ack: acked });
  }
  assert.equal(await writing, 10_000);
  conn.close();
  await probe.close();
});

Deno.test("tcp data: a corked tail sent with the FIN still gets its tail loss probe", async () => {
  const turnEnd = new TurnEnd(() => {});
  const { probe, conn, iss } = await open({ turnEnd }, { mss: 1000, sackPermitted: true });
  assert.equal(await conn.write(bytes(2000)), 2000);
  await probe.settle();
  probe.expect({ seq: iss + 1, length: 1000 });
  probe.expect({ seq: iss + 1001, length: 1000 });
  assert.equal(await conn.write(bytes(100, 2)), 100);
  conn.close();
  await probe.settle();
  probe.expect({ flags: ACK | PSH | FIN, seq: iss + 2001, length: 100 });
  // PTO = max(2 * SRTT, 10 ms) with SRTT 0, as for an uncorked tail (RFC 8985 §7.2).
  await probe.advance(9);
  probe.expectNone();
  await probe.advance(1);
  // The probe repeats the last segment's worth of data, the FIN with it.
  probe.expect({ flags: ACK | PSH | FIN, seq: iss + 1101, length: 1000 }, "the probe");
  assert.equal(probe.layer.stats.tailLossProbes, 1);
  await probe.close();
});

Deno.test("tcp data: an idle connection runs no task; the next segment or write starts one", async () => {
  const { probe, conn, iss } = await open();
  await probe.settle();
  assert.deepEqual(
    [probe.layer.stats.activeConnections, probe.layer.stats.runningTasks],
    [1, 0],
    "established and idle",
  );
  // A segment starts the segment task, which ends once the segment went through the TCB.
  await probe.send({ flags: ACK | PSH, seq: P + 1, ack: iss + 1, payload: bytes(10) });
  assert.equal(probe.layer.stats.runningTasks, 0);
  const buf = new Uint8Array(100);
  assert.equal(await conn.read(buf), 10);
  // A write starts the send task, which ends once the data is in the send buffer.
  assert.equal(await conn.write(bytes(20)), 20);
  await probe.settle();
  assert.equal(probe.layer.stats.runningTasks, 0);
  const sent = probe.pending();
  assert.deepEqual(sent.at(-1)!.payload, bytes(20), "the write went out");
  conn.close();
  await probe.close();
});

Deno.test("tcp data: out-of-order data gets an immediate duplicate ACK with SACK blocks", async () => {
  const { probe, conn, iss } = await open({}, { mss: 1460, sackPermitted: true });
  await probe.send({ flags: ACK, seq: P + 201, ack: iss + 1, payload: bytes(100, 2) });
  probe.expect({
    flags: ACK,
    ack: P + 1,
    options: { sackBlocks: [{ start: P + 201, end: P + 301 }] },
  });
  await probe.send({ flags: ACK, seq: P + 401, ack: iss + 1, payload: bytes(100, 4) });
  // The most recent block first (RFC 2018 §4).
  probe.expect({
    flags: ACK,
    ack: P + 1,
    options: {
      sackBlocks: [{ start: P + 401, end: P + 501 }, { start: P + 201, end: P + 301 }],
    },
  });
  // Filling the first hole is acknowledged at once (RFC 5681 §4.2).
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 1, payload: bytes(200, 1) });
  probe.expect({
    flags: ACK,
    ack: P + 301,
    options: { sackBlocks: [{ start: P + 401, end: P + 501 }] },
  });
  await probe.send({ flags: ACK, seq: P + 301, ack: iss + 1, payload: bytes(100, 3) });
  probe.expect({ flags: ACK, ack: P + 501, options: {} });
  const buf = new Uint8Array(1000);
  assert.equal(await conn.read(buf), 500);
  assert.deepEqual(
    [buf[0], buf[199], buf[200], buf[299], buf[300], buf[399], buf[400], buf[499]],
    [1, 1, 2, 2, 3, 3, 4, 4],
  );
  conn.close();
  await probe.close();
});

Deno.test("tcp data: duplicate data is reported in a D-SACK block, first (RFC 2883)", async () => {
  const { probe, conn, iss } = await open({}, { mss: 1460, sackPermitted: true });
  const expectSack = (ack: number, blocks: [number, number][]) =>
    probe.expect({
      flags: ACK,
      ack,
      options: { sackBlocks: blocks.map(([start, end]) => ({ start, end })) },
    });
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 1, payload: bytes(100) });
  await probe.advance(40);
  probe.expect({ flags: ACK, ack: P + 101 }, "the delayed ACK");
  // A whole segment again (a sender's tail loss probe that crossed our ACK): §4.1.1.
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 1, payload: bytes(100) });
  expectSack(P + 101, [[P + 1, P + 101]]);
  // Partly old, partly new: the old part is reported, the new part acknowledged (§4.1.1).
  await probe.send({ flags: ACK, seq: P + 51, ack: iss + 1, payload: bytes(150) });
  expectSack(P + 201, [[P + 51, P + 101]]);
  // With out-of-order data held: the duplicate first, then the held block (§4.2.1).
  await probe.send({ flags: ACK, seq: P + 301, ack: iss + 1, payload: bytes(100) });
  expectSack(P + 201, [[P + 301, P + 401]]);
  await probe.send({ flags: ACK, seq: P + 101, ack: iss + 1, payload: bytes(50) });
  expectSack(P + 201, [[P + 101, P + 151], [P + 301, P + 401]]);
  // Reported once: the next ACK carries only the usual block.
  await probe.send({ flags: ACK, seq: P + 201, ack: iss + 1, payload: bytes(100) });
  probe.expect({ flags: ACK, ack: P + 401, options: {} });
  probe.expectNone();
  const buf = new Uint8Array(1000);
  assert.equal(await conn.read(buf), 400);
  conn.close();
  await probe.close();
});

Deno.test("tcp data: without SACK a duplicate gets a plain ACK", async () => {
  const { probe, conn, iss } = await open();
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 1, payload: bytes(100) });
  await probe.advance(40);
  probe.expect({ flags: ACK, ack: P + 101 });
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 1, payload: bytes(100) });
  probe.expect({ flags: ACK, ack: P + 101, options: {} });
  conn.close();
  await probe.close();
});

Deno.test("tcp data: segments beyond the window are trimmed; old ones re-ACKed", async () => {
  const { probe, conn, iss } = await open({ tcb: { recvBufferBytes: 1000 } });
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 1, payload: bytes(1500) });
  // Only the 1000 bytes of the advertised window are taken; the window is now closed.
  probe.expect({ flags: ACK, ack: P + 1001, window: 0 });
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 1, payload: bytes(10) });
  probe.expect({ flags: ACK, ack: P + 1001, window: 0 }, "duplicate is re-acknowledged");
  // Reading opens the window and announces it (RFC 9293 §3.8.6.2.2).
  const buf = new Uint8Array(2000);
  assert.equal(await conn.read(buf), 1000);
  await probe.settle();
  probe.expect({ flags: ACK, ack: P + 1001, window: 1000 });
  conn.close();
  await probe.close();
});

Deno.test("tcp data: Nagle holds a small segment while data is unacknowledged", async () => {
  const { probe, conn, iss } = await open();
  await conn.write(bytes(10));
  await probe.settle();
  probe.expect({ flags: ACK | PSH, seq: iss + 1, length: 10 });
  await conn.write(bytes(10));
  await conn.write(bytes(5));
  await probe.settle();
  probe.expectNone("held by Nagle (RFC 1122 §4.2.3.4)");
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 11 });
  probe.expect({ flags: ACK | PSH, seq: iss + 11, length: 15 });
  conn.setNoDelay(true);
  await conn.write(bytes(3));
  await probe.settle();
  probe.expect({ flags: ACK | PSH, seq: iss + 26, length: 3 });
  conn.close();
  await probe.close();
});

Deno.test("tcp data: segments respect the peer's MSS; full segments are not held", async () => {
  const { probe, conn, iss } = await open({}, { mss: 500 });
  await conn.write(bytes(1200));
  await probe.settle();
  probe.expect({ flags: ACK, seq: iss + 1, length: 500 });
  probe.expect({ flags: ACK, seq: iss + 501, length: 500 });
  probe.expectNone("the last 200 bytes wait for an ACK (Nagle)");
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 1001 });
  probe.expect({ flags: ACK | PSH, seq: iss + 1001, length: 200 });
  conn.close();
  await probe.close();
});

Deno.test("tcp data: the peer's window limits sending and scaled windows are honoured", async () => {
  const { probe, conn, iss, tcb } = await open(
    {},
    { mss: 1460, windowScale: 2 },
    250, // 250 << 2 = 1000 bytes
    250, // the SYN's window is not scaled: 250 bytes
  );
  assert.equal(tcb.sndWnd, 1000);
  await conn.write(bytes(3000));
  await probe.settle();
  probe.expect({ flags: ACK, seq: iss + 1, length: 1000 });
  probe.expectNone();
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 1001, window: 500 }); // 2000 bytes
  probe.expect({ flags: ACK, seq: iss + 1001, length: 1460 });
  probe.expectNone("540 bytes held by Nagle");
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 2461, window: 500 });
  probe.expect({ flags: ACK | PSH, seq: iss + 2461, length: 540 });
  // Our own window field is scaled by 2^3 for the 256 KiB buffer: after 100 unread bytes,
  // (262144 - 100) >> 3 = 32755.
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 3001, window: 500, payload: bytes(100) });
  await probe.advance(40);
  probe.expect({ flags: ACK, ack: P + 101, window: 32755 });
  conn.close();
  await probe.close();
});

Deno.test("tcp data: zero window is probed with backoff until it opens (RFC 9293 §3.8.6.1)", async () => {
  const { probe, conn, iss } = await open({}, { mss: 1460 }, 0);
  await conn.write(bytes(100));
  await probe.settle();
  probe.expectNone("window closed");
  // First probe after one RTO (200 ms: the handshake's RTT sample was 0), then 400, 800.
  let elapsed = 0;
  for (const gap of [200, 400, 800]) {
    await probe.advance(gap - 1);
    probe.expectNone(`before probe at +${elapsed + gap}`);
    await probe.advance(1);
    elapsed += gap;
    probe.expect({ flags: ACK, seq: iss, ack: P + 1, length: 0 }, `probe at +${elapsed}`);
    await probe.send({ flags: ACK, seq: P + 1, ack: iss + 1, window: 0 });
  }
  assert.equal(probe.layer.stats.windowProbes, 3);
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 1, window: 4000 });
  probe.expect({ flags: ACK | PSH, seq: iss + 1, length: 100 });
  conn.close();
  await probe.close();
});

Deno.test("tcp data: retransmission timeout doubles and finally times out (RFC 6298 §5)", async () => {
  const { probe, conn, iss } = await open({ tcb: { maxRetries: 3 } });
  let readError: unknown;
  const reading = conn.read(new Uint8Array(10)).catch((e) => readError = e);
  await conn.write(bytes(100));
  await probe.settle();
  probe.expect({ flags: ACK | PSH, seq: iss + 1, length: 100 });
  for (const gap of [200, 400, 800]) {
    await probe.advance(gap - 1);
    probe.expectNone();
    await probe.advance(1);
    probe.expect({ flags: ACK | PSH, seq: iss + 1, length: 100 }, `after ${gap}`);
  }
  await probe.advance(1599);
  assert.equal(readError, undefined);
  await probe.advance(1);
  await reading;
  assert.ok((readError as unknown) instanceof Deno.errors.TimedOut);
  assert.equal(probe.layer.stats.timeouts, 3);
  assert.equal(probe.layer.stats.activeConnections, 0);
  await probe.close();
});

Deno.test("tcp data: RTT samples set the RTO; Karn ignores retransmissions", async () => {
  const { probe, conn, iss, tcb } = await open();
  await conn.write(bytes(100));
  await probe.settle();
  probe.expect({ flags: ACK | PSH, seq: iss + 1 });
  await probe.advance(100);
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 101 });
  // Samples 0 (handshake) then 100: RTTVAR = 0.75*0 + 0.25*100 = 25, SRTT = 12.5,
  // RTO = 12.5 + 4*25 = 112.5 -> clamped to 200.
  assert.equal(tcb.rto.srttMs, 12.5);
  assert.equal(tcb.rto.rtoMs, 200);
  await conn.write(bytes(100));
  await probe.settle();
  probe.expect({ flags: ACK | PSH, seq: iss + 101 });
  await probe.advance(200);
  probe.expect({ flags: ACK | PSH, seq: iss + 101 }, "retransmission");
  await probe.advance(300);
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 201 });
  assert.equal(tcb.rto.srttMs, 12.5, "no sample from a retransmitted segment");
  conn.close();
  await probe.close();
});

Deno.test("tcp data: three duplicate ACKs trigger fast retransmit (RFC 5681 §3.2)", async () => {
  const { probe, conn, iss, tcb } = await open({ tcb: { congestion: "newreno" } });
  await conn.write(bytes(5 * 1460));
  await probe.settle();
  for (let i = 0; i < 5; i++) probe.expect({ seq: iss + 1 + i * 1460, length: 1460 });
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 1461 });
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 1461 });
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 1461 });
  probe.expectNone("two duplicates are not enough");
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 1461 });
  probe.expect({ flags: ACK, seq: iss + 1461, length: 1460 }, "fast retransmit");
  assert.equal(tcb.inRecovery, true);
  // RFC 6582 partial ACK: the next hole is retransmitted at once.
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 1 + 2 * 1460 });
  probe.expect({ flags: ACK, seq: iss + 1 + 2 * 1460, length: 1460 }, "partial ACK");
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 1 + 5 * 1460 });
  assert.equal(tcb.inRecovery, false);
  assert.equal(probe.layer.stats.fastRetransmits, 1);
  conn.close();
  await probe.close();
});

Deno.test("tcp data: PAWS drops a segment with an old timestamp (RFC 7323 §5)", async () => {
  const { probe, conn, iss, synAck } = await open({}, {
    mss: 1460,
    timestamps: { value: 1000, echo: 0 },
  });
  const echo = synAck.options.timestamps!.value;
  await probe.send({
    flags: ACK,
    seq: P + 1,
    ack: iss + 1,
    payload: bytes(10),
    options: { timestamps: { value: 999, echo } },
  });
  const reply = probe.expect({ flags: ACK, ack: P + 1 }, "old duplicate is re-acknowledged");
  assert.equal(reply.options.timestamps!.echo, 1001, "TS.Recent unchanged");
  assert.equal(probe.layer.stats.pawsDrops, 1);
  await probe.send({
    flags: ACK,
    seq: P + 1,
    ack: iss + 1,
    payload: bytes(10),
    options: { timestamps: { value: 1002, echo } },
  });
  await probe.advance(40);
  const ack = probe.expect({ flags: ACK, ack: P + 11 });
  assert.equal(ack.options.timestamps!.echo, 1002);
  conn.close();
  await probe.close();
});

Deno.test("tcp data: keepalive probes an idle peer and gives up (RFC 9293 §3.8.4)", async () => {
  const { probe, conn, iss } = await open({
    tcb: { keepAliveIdleMs: 10_000, keepAliveIntervalMs: 1000, keepAliveProbes: 2 },
  });
  let readError: unknown;
  const reading = conn.read(new Uint8Array(1)).catch((e) => readError = e);
  conn.setKeepAlive(true);
  await probe.advance(10_000);
  probe.expect({ flags: ACK, seq: iss, ack: P + 1, length: 0 });
  // An answer restarts the idle period.
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 1 });
  await probe.advance(9_999);
  probe.expectNone();
  await probe.advance(1);
  probe.expect({ flags: ACK, seq: iss });
  await probe.advance(1000);
  probe.expect({ flags: ACK, seq: iss });
  await probe.advance(1000);
  await reading;
  assert.ok((readError as unknown) instanceof Deno.errors.TimedOut);
  await probe.close();
});

Deno.test("tcp data: write waits for send-buffer space (backpressure)", async () => {
  const { probe, conn, iss } = await open({ tcb: { sendBufferBytes: 2000 } });
  let written = false;
  const writing = conn.write(bytes(5000)).then((n) => {
    written = true;
    return n;
  });
  await probe.settle();
  // Only 2000 bytes fit in the send buffer; the write resolves once the rest got in.
  let highest = iss + 1;
  let received = 0;
  let acks = 0;
  while (!written) {
    assert.ok(acks++ < 20, "write did not complete");
    const segs = probe.pending();
    probe.expect({ flags: segs[0]?.flags }); // consume
    for (let i = 1; i < segs.length; i++) probe.expect({});
    for (const seg of segs) {
      assert.equal(seg.seq, highest, "in order, no gaps");
      highest += seg.payload.length;
      received += seg.payload.length;
    }
    assert.ok(highest - iss - 1 <= 5000);
    await probe.send({ flags: ACK, seq: P + 1, ack: highest });
  }
  assert.ok(received >= 3000, `write resolved after ${received} bytes were sent`);
  assert.equal(await writing, 5000);
  assert.equal(probe.layer.connectionState(ADDR_A, 40000, 80), TcpState.Established);
  await conn.closeWrite();
  await probe.settle();
  // The FIN rides on the last data segment (or follows it): it sits at iss + 1 + 5000.
  const fin = probe.pending().at(-1)!;
  assert.ok(fin.has(FIN | ACK));
  assert.equal(fin.seq + fin.payload.length, iss + 5001);
  conn.close();
  await probe.close();
});

Deno.test("tcp data: SACK blocks drive loss recovery (RFC 6675)", async () => {
  const { probe, conn, iss, tcb } = await open({ tcb: { congestion: "newreno" } }, {
    mss: 1000,
    sackPermitted: true,
  });
  await conn.write(bytes(6000));
  await probe.settle();
  for (let i = 0; i < 6; i++) probe.expect({ seq: iss + 1 + i * 1000, length: 1000 });
  const base = iss + 1;
  // Segments 0 and 2 are lost; the receiver SACKs 1, then 3, 4, 5.
  const sack = (...blocks: [number, number][]) => ({
    sackBlocks: blocks.map(([s, e]) => ({ start: base + s * 1000, end: base + e * 1000 })),
  });
  await probe.send({ flags: ACK, seq: P + 1, ack: base, options: sack([1, 2]) });
  await probe.send({ flags: ACK, seq: P + 1, ack: base, options: sack([3, 4], [1, 2]) });
  probe.expectNone("one segment SACKed above the hole is not a loss yet");
  await probe.send({ flags: ACK, seq: P + 1, ack: base, options: sack([3, 5], [1, 2]) });
  // 3000 bytes SACKed above byte 0 > (DupThresh - 1) * SMSS = 2000: segment 0 is lost (IsLost).
  // Segment 2 has only 2000 bytes SACKed above it, so it is not lost yet.
  probe.expect({ seq: base, length: 1000 }, "first hole");
  assert.equal(tcb.inRecovery, true);
  probe.expectNone("segment 2 is not lost yet");
  // Now 3000 bytes are SACKed above segment 2; pipe = 6000 - 4000 SACKed - 2000 lost + 1000
  // retransmitted = 1000 < cwnd = ssthresh = 3000, so it goes out (RFC 6675 §5 step C).
  await probe.send({ flags: ACK, seq: P + 1, ack: base, options: sack([3, 6], [1, 2]) });
  probe.expect({ seq: base + 2000, length: 1000 }, "second hole");
  await probe.send({ flags: ACK, seq: P + 1, ack: base + 2000, options: sack([3, 6]) });
  await probe.send({ flags: ACK, seq: P + 1, ack: base + 6000 });
  assert.equal(tcb.inRecovery, false);
  probe.expectNone();
  conn.close();
  await probe.close();
});

Deno.test("tcp data: a peer answering with a zero window is never given up on", async () => {
  const { probe, conn, iss } = await open({ tcb: { maxRetries: 2 } });
  await conn.write(bytes(100));
  await probe.settle();
  probe.expect({ seq: iss + 1, length: 100 });
  // The peer's buffer filled up: it refuses the data and says so, again and again.
  let rto = 200;
  for (let i = 0; i < 5; i++) {
    await probe.send({ flags: ACK, seq: P + 1, ack: iss + 1, window: 0 });
    await probe.advance(rto);
    // Retransmissions shrink to the window, at least one byte: they double as probes.
    probe.expect({ seq: iss + 1, length: 1 }, `retransmission ${i + 1}`);
    rto *= 2;
  }
  assert.equal(probe.layer.connectionState(ADDR_A, 40000, 80), TcpState.Established);
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 1, window: 1000 });
  probe.expect({ seq: iss + 1, length: 100 }, "the window opened");
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 101, window: 1000 });
  assert.equal(probe.layer.connectionTcb(ADDR_A, 40000, 80)!.unacknowledgedBytes, 0);
  conn.close();
  await probe.close();
});

Deno.test("tcp data: out-of-order data beyond the cap is dropped and counted", async () => {
  const { probe, conn, iss } = await open({ tcb: { maxOutOfOrderBytes: 150 } });
  await probe.send({ flags: ACK, seq: P + 101, ack: iss + 1, payload: bytes(100, 2) });
  probe.expect({ flags: ACK, ack: P + 1 });
  await probe.send({ flags: ACK, seq: P + 301, ack: iss + 1, payload: bytes(100, 3) });
  probe.expect({ flags: ACK, ack: P + 1 });
  assert.equal(probe.layer.stats.outOfOrderDrops, 1);
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 1, payload: bytes(100, 1) });
  probe.expect({ flags: ACK, ack: P + 201 }, "the held segment was kept");
  conn.close();
  await probe.close();
});

Deno.test("tcp data: a segment straddling the whole window is accepted and trimmed", async () => {
  const { probe, conn, iss } = await open({ tcb: { recvBufferBytes: 1000, delayedAckMs: 0 } });
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 1, payload: bytes(500, 1) });
  probe.expect({ flags: ACK, ack: P + 501 });
  const buf = new Uint8Array(3000);
  assert.equal(await conn.read(buf), 500);
  await probe.settle();
  probe.expect({ flags: ACK, ack: P + 501, window: 1000 }, "window update");
  // Starts before RCV.NXT and ends beyond the window: neither end is in the window, yet the
  // middle is new (RFC 9293 §3.10.7.4 trimming).
  const payload = new Uint8Array(3000).map((_, i) => i & 0xff);
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 1, payload });
  probe.expect({ flags: ACK, ack: P + 1501, window: 0 });
  assert.equal(await conn.read(buf), 1000);
  assert.deepEqual(buf.subarray(0, 1000), payload.subarray(500, 1500));
  conn.close();
  await probe.close();
});

Deno.test("tcp data: ACKs carry SND.MAX after an RTO rewound SND.NXT", async () => {
  const { probe, conn, iss } = await open({ tcb: { delayedAckMs: 0 } }, { mss: 1000 });
  await conn.write(bytes(3000));
  await probe.settle();
  for (let i = 0; i < 3; i++) probe.expect({ seq: iss + 1 + i * 1000, length: 1000 });
  await probe.advance(200);
  probe.expect({ seq: iss + 1, length: 1000 }, "RTO resend; SND.NXT is back at SND.UNA");
  // The peer may already hold all 3000 bytes: an ACK numbered iss + 1001 would be below its
  // RCV.NXT and unacceptable there.
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 1, payload: bytes(10) });
  probe.expect({ flags: ACK, seq: iss + 3001, ack: P + 11, length: 0 });
  conn.close();
  await probe.close();
});

Deno.test("tcp data: answers to out-of-window pure ACKs are rate-limited (no ACK wars)", async () => {
  const { probe, conn, iss } = await open();
  await probe.send({ flags: ACK, seq: P - 5000, ack: iss + 1 });
  probe.expect({ flags: ACK, seq: iss + 1, ack: P + 1 });
  await probe.send({ flags: ACK, seq: P - 5000, ack: iss + 1 });
  await probe.advance(499);
  await probe.send({ flags: ACK, seq: P - 5000, ack: iss + 1 });
  probe.expectNone("within 500 ms of the last answer");
  await probe.advance(1);
  await probe.send({ flags: ACK, seq: P - 5000, ack: iss + 1 });
  probe.expect({ flags: ACK, seq: iss + 1, ack: P + 1 });
  // Old data is always answered.
  await probe.send({ flags: ACK, seq: P - 5000, ack: iss + 1, payload: bytes(10) });
  probe.expect({ flags: ACK, ack: P + 1 });
  conn.close();
  await probe.close();
});

Deno.test("tcp data: limited transmit sends new data on the first two duplicate ACKs (RFC 3042)", async () => {
  const { probe, conn, iss } = await open({ tcb: { congestion: "newreno" } }, { mss: 1000 });
  await conn.write(bytes(15_000));
  await probe.settle();
  // Initial window: min(10 * 1000, max(2 * 1000, 14600)) = 10 segments (RFC 6928).
  for (let i = 0; i < 10; i++) probe.expect({ seq: iss + 1 + i * 1000, length: 1000 });
  probe.expectNone("cwnd is full");
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 1 });
  probe.expect({ seq: iss + 10_001, length: 1000 }, "first duplicate ACK");
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 1 });
  probe.expect({ seq: iss + 11_001, length: 1000 }, "second duplicate ACK");
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 1 });
  probe.expect({ seq: iss + 1, length: 1000 }, "third: fast retransmit");
  conn.close();
  await probe.close();
});

Deno.test("tcp data: early retransmit with few segments outstanding (RFC 5827)", async () => {
  const { probe, conn, iss } = await open({ tcb: { congestion: "newreno" } }, { mss: 1000 });
  await conn.write(bytes(2000));
  await probe.settle();
  probe.expect({ seq: iss + 1, length: 1000 });
  probe.expect({ seq: iss + 1001, length: 1000 });
  // Two segments out, nothing new to send: one duplicate ACK is all the peer can produce.
  await probe.send({ flags: ACK, seq: P + 1, ack: iss + 1 });
  probe.expect({ seq: iss + 1, length: 1000 }, "retransmitted after one duplicate ACK");
  conn.close();
  await probe.close();
});

Deno.test("tcp data: a tail loss probe resends the last segment after 2*SRTT (RFC 8985 §7)", async () => {
  const { probe, conn, iss } = await open({}, { mss: 1000, sackPermitted: true });
  await conn.write(bytes(3000));
  await probe.settle();
  for (let i = 0; i < 3; i++) probe.expect({ seq: iss + 1 + i * 1000, length: 1000 });
  // SRTT is 0 (the handshake's sample): PTO = max(2 * SRTT, 10 ms).
  await probe.advance(9);
  probe.expectNone();
  await probe.advance(1);
  probe.expect({ seq: iss + 2001, length: 1000 }, "probe: the last segment again");
  assert.equal(probe.layer.stats.tailLossProbes, 1);
  // One probe per flight; then the RTO, re-armed when the probe went out.
  await probe.advance(199);
  probe.expectNone();
  await probe.advance(1);
  probe.expect({ seq: iss + 1, length: 1000 }, "RTO");
  conn.close();
  await probe.close();
});

Deno.test("tcp data: no tail loss probe without SACK", async () => {
  const { probe, conn, iss } = await open({}, { mss: 1000 });
  await conn.write(bytes(3000));
  await probe.settle();
  for (let i = 0; i < 3; i++) probe.expect({ seq: iss + 1 + i * 1000, length: 1000 });
  await probe.advance(199);
  probe.expectNone();
  await probe.advance(1);
  probe.expect({ seq: iss + 1, length: 1000 }, "RTO");
  conn.close();
  await probe.close();
});
