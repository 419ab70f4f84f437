// The control block on its own, without channels or timers: segments are passed by hand and
// time is a plain number, which is what makes the state machine replayable.
import assert from "node:assert/strict";
import { TcpFlags } from "../wire/tcp.ts";
import { TcpState } from "./state.ts";
import { DEFAULT_TCB_CONFIG, newTcbCounters } from "./config.ts";
import { type InSegment, type OutSegment, resetFor } from "./segment.ts";
import { Tcb } from "./tcb.ts";

const { SYN, ACK, RST, FIN } = TcpFlags;

function toIn(seg: OutSegment): InSegment {
  return {
    seq: seg.seq,
    ack: seg.ack,
    flags: seg.flags,
    window: seg.window,
    options: seg.options ?? {},
    payload: seg.payload,
  };
}

/** Moves every queued segment between the two TCBs until both are quiet. */
function exchange(a: Tcb, b: Tcb, now: number): number {
  let moved = 0;
  for (;;) {
    const fromA = a.takeOutput();
    const fromB = b.takeOutput();
    if (fromA.length === 0 && fromB.length === 0) return moved;
    for (const s of fromA) b.onSegment(toIn(s), now);
    for (const s of fromB) a.onSegment(toIn(s), now);
    moved += fromA.length + fromB.length;
  }
}

Deno.test("tcb: handshake, data across the sequence wrap and close, driven by hand", () => {
  const config = { ...DEFAULT_TCB_CONFIG, delayedAckMs: 0 };
  const counters = newTcbCounters();
  const client = new Tcb({ ...config }, { iss: 0xffff_fff0, tsOffset: 7, counters });
  const server = new Tcb({ ...config }, { iss: 5000, tsOffset: 9, counters });
  client.openActive(0);
  const [syn] = client.takeOutput();
  assert.equal(syn.flags, SYN);
  assert.equal(syn.seq, 0xffff_fff0);
  server.openPassive(toIn(syn), 0);
  exchange(client, server, 1);
  assert.equal(client.state, TcpState.Established);
  assert.equal(server.state, TcpState.Established);
  // The ISS sits just below 2^32, so the data crosses the wrap.
  const data = new Uint8Array(100).map((_, i) => i);
  assert.equal(client.write(data, 2), 100);
  exchange(client, server, 3);
  const got = new Uint8Array(200);
  assert.equal(server.read(got, 4), 100);
  assert.deepEqual(got.subarray(0, 100), data);
  assert.equal(client.sndUna, (0xffff_fff0 + 101) >>> 0);
  client.closeWrite(5);
  exchange(client, server, 5);
  assert.equal(client.state, TcpState.FinWait2);
  assert.equal(server.state, TcpState.CloseWait);
  assert.equal(server.eof, true);
  server.closeWrite(6);
  exchange(client, server, 6);
  assert.equal(client.state, TcpState.TimeWait);
  assert.equal(server.state, TcpState.Closed);
  assert.equal(client.nextDeadline(), 6 + DEFAULT_TCB_CONFIG.timeWaitMs);
  client.onTimer(6 + DEFAULT_TCB_CONFIG.timeWaitMs);
  assert.equal(client.state, TcpState.Closed);
  assert.equal(counters.retransmissions, 0);
});

Deno.test("tcb: RST for segments without a connection (RFC 9293 §3.10.7.1)", () => {
  const empty = new Uint8Array(0);
  const base = { window: 0, options: {}, payload: empty };
  assert.equal(resetFor({ ...base, seq: 1, ack: 2, flags: RST }), undefined);
  assert.deepEqual(resetFor({ ...base, seq: 1, ack: 2, flags: ACK }), {
    seq: 2,
    ack: 0,
    flags: RST,
    window: 0,
    payload: empty,
  });
  assert.deepEqual(resetFor({ ...base, seq: 0xffff_ffff, ack: 0, flags: SYN | FIN }), {
    seq: 0,
    ack: 1,
    flags: RST | ACK,
    window: 0,
    payload: empty,
  });
});

Deno.test("tcb: deadlines are reported, not scheduled", () => {
  const tcb = new Tcb({ ...DEFAULT_TCB_CONFIG }, {
    iss: 1,
    tsOffset: 0,
    counters: newTcbCounters(),
  });
  tcb.openActive(100);
  assert.equal(tcb.nextDeadline(), 1100); // initial RTO 1 s (RFC 6298 §2.1)
  tcb.takeOutput();
  tcb.onTimer(1100);
  assert.equal(tcb.takeOutput()[0].flags, SYN);
  assert.equal(tcb.nextDeadline(), 3100); // backed off to 2 s
});
