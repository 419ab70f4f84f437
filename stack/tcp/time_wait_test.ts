// TIME-WAIT's rules (RFC 9293 §3.6.1, §3.10.7.4; RFC 1337; RFC 5961; RFC 7323) on an entry, and
// the table's expiry. The connection: our FIN was 5000 (SND.NXT 5001), the peer's 9000 (RCV.NXT
// 9001), a 1000-byte window advertised.
import assert from "node:assert/strict";
import { ManualClock } from "../clock.ts";
import { TcpFlags, type TcpOptions } from "../wire/tcp.ts";
import {
  acceptsNewSyn,
  onTimeWaitSegment,
  type TimeWaitCounters,
  TimeWaitEntry,
  type TimeWaitSnapshot,
  TimeWaitTable,
} from "./time_wait.ts";
import type { InSegment } from "./segment.ts";

const { SYN, ACK, RST, FIN } = TcpFlags;
const RULES = { timeWaitMs: 60_000, invalidAckIntervalMs: 500 };
const TUPLE = { key: "k", localPort: 80, remoteAddress: 0x0a000001, remotePort: 40000 };
const SNAPSHOT: TimeWaitSnapshot = {
  sndNxt: 5001,
  rcvNxt: 9001,
  windowBytes: 1000,
  windowField: 250,
  timestamps: { offset: 7, recent: 100, recentAt: 0 },
};

function entry(snapshot: TimeWaitSnapshot = SNAPSHOT, key = "k", expiresAt = 60_000) {
  return new TimeWaitEntry({ ...TUPLE, key }, snapshot, expiresAt);
}

function counters(): TimeWaitCounters {
  return { pawsDrops: 0, outOfWindow: 0, challengeAcks: 0 };
}

function seg(
  flags: number,
  seq: number,
  ack = 5001,
  options: TcpOptions = { timestamps: { value: 200, echo: 0 } },
  payload = new Uint8Array(0),
): InSegment {
  return { seq, ack, flags, window: 100, options, payload };
}

/** The ACK TIME-WAIT sends at `now`: SND.NXT, RCV.NXT, our window, TSval = now + offset. */
const ackAt = (now: number, echo = 100) => ({
  seq: 5001,
  ack: 9001,
  flags: ACK,
  window: 250,
  payload: new Uint8Array(0),
  options: { timestamps: { value: now + 7, echo } },
});

Deno.test("time-wait: a retransmitted FIN is acknowledged and 2 MSL start over", () => {
  const e = entry();
  const c = counters();
  assert.deepEqual(onTimeWaitSegment(e, seg(FIN | ACK, 9000), 30_000, RULES, c), ackAt(30_000));
  assert.equal(e.expiresAt, 90_000);
  assert.equal(c.outOfWindow, 1);
});

Deno.test("time-wait: a RST at RCV.NXT is ignored (RFC 1337 §4), one in the window is challenged", () => {
  const e = entry();
  const c = counters();
  assert.equal(onTimeWaitSegment(e, seg(RST, 9001, 0, {}), 10, RULES, c), undefined);
  assert.deepEqual(onTimeWaitSegment(e, seg(RST, 9500, 0, {}), 20, RULES, c), ackAt(20));
  assert.equal(c.challengeAcks, 1);
  // Outside the window a RST is dropped without an answer.
  assert.equal(onTimeWaitSegment(e, seg(RST, 20_000, 0, {}), 30, RULES, c), undefined);
  assert.equal(e.expiresAt, 60_000);
});

Deno.test("time-wait: a SYN in the window gets a challenge ACK (RFC 5961 §4.2), rate-limited", () => {
  const e = entry();
  const c = counters();
  assert.deepEqual(onTimeWaitSegment(e, seg(SYN, 9100, 0), 1000, RULES, c), ackAt(1000));
  assert.equal(onTimeWaitSegment(e, seg(SYN, 9100, 0), 1200, RULES, c), undefined);
  assert.deepEqual(onTimeWaitSegment(e, seg(SYN, 9100, 0), 1500, RULES, c), ackAt(1500));
  assert.equal(c.challengeAcks, 2);
});

Deno.test("time-wait: pure ACKs outside the window are answered at most once per interval", () => {
  const e = entry();
  const c = counters();
  assert.deepEqual(onTimeWaitSegment(e, seg(ACK, 20_000), 1000, RULES, c), ackAt(1000));
  assert.equal(onTimeWaitSegment(e, seg(ACK, 20_000), 1499, RULES, c), undefined);
  assert.equal(c.outOfWindow, 2);
  // Data outside the window is always answered.
  const data = seg(ACK, 100, 5001, {}, new Uint8Array(10));
  assert.deepEqual(onTimeWaitSegment(e, data, 1499, RULES, c), ackAt(1499));
});

Deno.test("time-wait: an ACK of data never sent is answered; an in-window ACK is not", () => {
  const e = entry();
  const c = counters();
  assert.deepEqual(onTimeWaitSegment(e, seg(ACK, 9001, 6000), 10, RULES, c), ackAt(10));
  assert.equal(onTimeWaitSegment(e, seg(ACK, 9001, 5001), 10, RULES, c), undefined);
  assert.equal(c.outOfWindow + c.challengeAcks + c.pawsDrops, 0);
});

Deno.test("time-wait: PAWS drops an old timestamp with an ACK; a newer one at RCV.NXT is recorded", () => {
  const e = entry();
  const c = counters();
  const old = seg(ACK, 9001, 5001, { timestamps: { value: 99, echo: 0 } });
  assert.deepEqual(onTimeWaitSegment(e, old, 50, RULES, c), ackAt(50));
  assert.equal(c.pawsDrops, 1);
  const newer = seg(ACK, 9001, 5001, { timestamps: { value: 300, echo: 0 } });
  assert.equal(onTimeWaitSegment(e, newer, 60, RULES, c), undefined);
  assert.equal(e.tsRecent, 300);
  assert.equal(e.tsRecentAt, 60);
});

Deno.test("time-wait: without timestamps the ACK carries no options", () => {
  const e = entry({ ...SNAPSHOT, timestamps: undefined });
  const ack = onTimeWaitSegment(e, seg(FIN | ACK, 9000, 5001, {}), 10, RULES, counters());
  assert.deepEqual(ack, {
    seq: 5001,
    ack: 9001,
    flags: ACK,
    window: 250,
    payload: new Uint8Array(0),
  });
});

Deno.test("time-wait: only a bare SYN above RCV.NXT may start a new incarnation", () => {
  const e = entry();
  assert.equal(acceptsNewSyn(e, seg(SYN, 9002, 0)), true);
  assert.equal(acceptsNewSyn(e, seg(SYN, 9001, 0)), false);
  assert.equal(acceptsNewSyn(e, seg(SYN, 8000, 0)), false);
  assert.equal(acceptsNewSyn(e, seg(SYN | ACK, 9002)), false);
  assert.equal(acceptsNewSyn(e, seg(ACK, 9002)), false);
});

Deno.test("time-wait table: entries expire in order, a restart moves one on, the oldest gives way", () => {
  const clock = new ManualClock();
  const table = new TimeWaitTable(clock);
  const a = entry(SNAPSHOT, "a", 100);
  const b = entry(SNAPSHOT, "b", 200);
  const c = entry(SNAPSHOT, "c", 300);
  table.add(a);
  table.add(b);
  table.add(c);
  assert.equal(clock.pendingTimers, 1);
  a.expiresAt = 400;
  table.restart(a);
  clock.advance(250);
  assert.deepEqual([table.get("a"), table.get("b"), table.get("c")], [a, undefined, c]);
  assert.equal(table.dropOldest(), true);
  assert.equal(table.get("c"), undefined);
  clock.advance(150);
  assert.equal(table.size, 0);
  assert.equal(table.dropOldest(), false);
  assert.equal(clock.pendingTimers, 0);
});
