import assert from "node:assert/strict";
import { TokenBucket } from "./token_bucket.ts";

/** Calls take(now) `n` times and returns how many succeeded. */
function takeMany(bucket: TokenBucket, now: number, n: number): number {
  let ok = 0;
  for (let i = 0; i < n; i++) if (bucket.take(now)) ok++;
  return ok;
}

Deno.test("token bucket: starts full, allows a burst, then refuses", () => {
  const bucket = new TokenBucket(1, 3, 0);
  assert.equal(bucket.take(0), true);
  assert.equal(bucket.take(0), true);
  assert.equal(bucket.take(0), true);
  assert.equal(bucket.take(0), false);
  assert.equal(bucket.take(0), false);
});

Deno.test("token bucket: after the burst, one token per 1/rate seconds", () => {
  const bucket = new TokenBucket(1, 3, 0); // 1 token/s
  assert.equal(takeMany(bucket, 0, 3), 3);
  assert.equal(bucket.take(999), false);
  assert.equal(bucket.take(1000), true);
  assert.equal(bucket.take(1000), false);
  assert.equal(bucket.take(1999), false);
  assert.equal(bucket.take(2000), true);
});

Deno.test("token bucket: refused takes do not lose the fraction accrued so far", () => {
  const bucket = new TokenBucket(2, 1, 0); // one token per 500 ms
  assert.equal(bucket.take(0), true);
  assert.equal(bucket.take(250), false); // half a token so far
  assert.equal(bucket.take(500), true); // the other half arrives; total one
  assert.equal(bucket.take(500), false);
});

Deno.test("token bucket: refill is capped at the burst size", () => {
  const bucket = new TokenBucket(10, 4, 0);
  assert.equal(takeMany(bucket, 0, 4), 4);
  // An hour idle accrues far more than 4 tokens, but only 4 fit.
  assert.equal(takeMany(bucket, 3_600_000, 10), 4);
});

Deno.test("token bucket: steady rate over a long run (1000 requests per second offered)", () => {
  // 100 tokens/s, burst 10: over 10 s at 1 request/ms, 10 + 100 * 10 are allowed.
  const bucket = new TokenBucket(100, 10, 0);
  let allowed = 0;
  for (let t = 0; t < 10_000; t++) if (bucket.take(t)) allowed++;
  // t runs to 9999 ms: tokens earned by then are floor(9999 / 10) = 999.
  assert.equal(allowed, 10 + 999);
});

Deno.test("token bucket: starting time is honoured", () => {
  const bucket = new TokenBucket(1, 1, 50_000);
  assert.equal(bucket.take(50_000), true);
  assert.equal(bucket.take(50_999), false);
  assert.equal(bucket.take(51_000), true);
});

Deno.test("token bucket: hasToken looks without spending; giveBack returns one, up to the burst", () => {
  const bucket = new TokenBucket(1, 2, 0);
  assert.equal(bucket.hasToken(0), true);
  assert.equal(takeMany(bucket, 0, 5), 2, "looking spent nothing");
  assert.equal(bucket.hasToken(0), false);
  bucket.giveBack();
  assert.equal(bucket.hasToken(0), true);
  assert.equal(takeMany(bucket, 0, 5), 1);
  // Full again after 2 s; three given back still leave only the burst's two.
  for (let i = 0; i < 3; i++) bucket.giveBack();
  assert.equal(takeMany(bucket, 2000, 5), 2);
});
