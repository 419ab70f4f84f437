import assert from "node:assert/strict";
import { Cubic } from "./cubic.ts";
import { NewReno } from "./newreno.ts";
import { initialWindow } from "./types.ts";

const MSS = 1000;

Deno.test("congestion: RFC 6928 initial window", () => {
  assert.equal(initialWindow(1460), 14600);
  assert.equal(initialWindow(536), 5360);
  assert.equal(initialWindow(9000), 18000);
});

Deno.test("newreno: slow start, loss, congestion avoidance, timeout", () => {
  const cc = new NewReno(MSS);
  assert.equal(cc.cwnd, 10 * MSS);
  cc.onAck(MSS, 0, undefined);
  assert.equal(cc.cwnd, 11 * MSS);
  cc.onAck(5 * MSS, 0, undefined); // ABC limit L = 2 SMSS (RFC 3465)
  assert.equal(cc.cwnd, 13 * MSS);
  cc.onLoss(0, 20 * MSS);
  assert.equal(cc.ssthresh, 10 * MSS); // FlightSize / 2
  cc.onRecoveryEnd(0);
  assert.equal(cc.cwnd, 10 * MSS);
  // One SMSS per window of acknowledged bytes.
  for (let i = 0; i < 9; i++) cc.onAck(MSS, 0, undefined);
  assert.equal(cc.cwnd, 10 * MSS);
  cc.onAck(MSS, 0, undefined);
  assert.equal(cc.cwnd, 11 * MSS);
  cc.onTimeout(0, 2 * MSS);
  assert.equal(cc.cwnd, MSS);
  assert.equal(cc.ssthresh, 2 * MSS); // never below 2 SMSS
});

Deno.test("cubic: beta 0.7 decrease and growth back towards W_max (RFC 9438)", () => {
  const cc = new Cubic(MSS);
  // Leave slow start at 100 segments.
  cc.cwnd = 100 * MSS;
  cc.onLoss(0, 100 * MSS);
  assert.equal(cc.ssthresh, 70 * MSS);
  assert.equal(cc.wMaxSegments, 100);
  cc.onRecoveryEnd(0);
  assert.equal(cc.cwnd, 70 * MSS);
  // First ACK in congestion avoidance starts the epoch: K = cbrt((100 - 70) / 0.4) = cbrt(75).
  cc.onAck(MSS, 1000, 100);
  assert.ok(Math.abs(cc.kSeconds - Math.cbrt(75)) < 1e-9);
  // Ack a full window every RTT (100 ms) for K seconds: the window approaches W_max = 100 segs
  // and stays within it until t = K (~4.2 s), then grows past it.
  let now = 1000;
  while (now < 1000 + cc.kSeconds * 1000 - 200) {
    now += 100;
    const segs = cc.cwnd / MSS;
    for (let i = 0; i < segs; i++) cc.onAck(MSS, now, 100);
  }
  const nearK = cc.cwnd / MSS;
  assert.ok(nearK > 95 && nearK <= 101, `cwnd near K was ${nearK}`);
  for (let r = 0; r < 30; r++) {
    now += 100;
    const segs = cc.cwnd / MSS;
    for (let i = 0; i < segs; i++) cc.onAck(MSS, now, 100);
  }
  assert.ok(cc.cwnd / MSS > 105, `cwnd after K was ${cc.cwnd / MSS}`);
});

Deno.test("cubic: fast convergence lowers W_max on a second, smaller loss (RFC 9438 §4.7)", () => {
  const cc = new Cubic(MSS);
  cc.cwnd = 100 * MSS;
  cc.onLoss(0, 0);
  cc.onRecoveryEnd(0);
  cc.onLoss(0, 0); // at 70 < W_max 100
  assert.equal(cc.wMaxSegments, 70 * (1 + 0.7) / 2);
  cc.onTimeout(0, 0);
  assert.equal(cc.cwnd, MSS);
});
