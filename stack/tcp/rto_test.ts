import assert from "node:assert/strict";
import { RtoEstimator } from "./rto.ts";

Deno.test("rto: initial 1 s, first sample, smoothing (RFC 6298 §2)", () => {
  const rto = new RtoEstimator({ minRtoMs: 200 });
  assert.equal(rto.rtoMs, 1000);
  rto.sample(100);
  // SRTT = 100, RTTVAR = 50, RTO = 100 + 4*50 = 300.
  assert.equal(rto.srttMs, 100);
  assert.equal(rto.rttvarMs, 50);
  assert.equal(rto.rtoMs, 300);
  rto.sample(200);
  // RTTVAR = 0.75*50 + 0.25*|100-200| = 62.5; SRTT = 0.875*100 + 0.125*200 = 112.5.
  assert.equal(rto.rttvarMs, 62.5);
  assert.equal(rto.srttMs, 112.5);
  assert.equal(rto.rtoMs, 112.5 + 250);
});

Deno.test("rto: clamps to min and max, backs off and resets", () => {
  const rto = new RtoEstimator({ minRtoMs: 200, maxRtoMs: 1000 });
  rto.sample(1);
  assert.equal(rto.rtoMs, 200);
  rto.backoff();
  assert.equal(rto.rtoMs, 400);
  rto.backoff();
  rto.backoff();
  assert.equal(rto.rtoMs, 1000);
  assert.equal(rto.backoffCount, 3);
  rto.backoff();
  assert.equal(rto.backoffCount, 3);
  rto.sample(1);
  assert.equal(rto.rtoMs, 200);
});

Deno.test("rto: 3 s after a SYN timeout without samples (RFC 6298 §5.7)", () => {
  const rto = new RtoEstimator();
  rto.afterSynTimeout();
  assert.equal(rto.rtoMs, 3000);
});
