import assert from "node:assert/strict";
import { SPIN_AHEAD_MIN_LEAD_MS, SpinAhead } from "./spin_ahead.ts";

/** A predictor with a 2 ms lead at most, following periods up to 10 s, fed bursts at `times`. */
function fedWith(times: number[]): SpinAhead {
  const spin = new SpinAhead(2, 10_000);
  for (const at of times) spin.burstStarted(at);
  return spin;
}

Deno.test("spin-ahead: two agreeing gaps open a window one period on, from a lead before to four after", () => {
  // ping's 0.2 s interval as seen here (204 ms with its own processing): the lead is 1%, capped
  // at 2 ms.
  const spin = fedWith([1000, 1204, 1408]);
  assert.equal(spin.stats.windows, 1);
  assert.equal(spin.nextWindowAt(1408), 1612 - 2);
  assert.equal(spin.spinUntil(1609.9), -Infinity);
  assert.equal(spin.spinUntil(1610), 1620);
  assert.equal(spin.spinUntil(1619.9), 1620);
  assert.equal(spin.spinUntil(1620), -Infinity);
});

Deno.test("spin-ahead: one gap, or gaps that disagree, open no window", () => {
  for (const times of [[1000, 1204], [1000, 1204, 1420], [0, 50, 80, 200, 230]]) {
    const spin = fedWith(times);
    assert.equal(spin.stats.windows, 0, `${times}`);
    assert.equal(spin.nextWindowAt(times.at(-1)!), Infinity);
    assert.equal(spin.spinUntil(times.at(-1)! + 1), -Infinity);
  }
});

Deno.test("spin-ahead: the lead is 1% of the period, from 0.25 ms up to the maximum", () => {
  // 50 ms: 0.5 ms.
  assert.equal(fedWith([0, 50, 100]).nextWindowAt(100), 149.5);
  // 10 ms: 0.1 ms would be shorter than the sender's jitter, so 0.25.
  assert.equal(fedWith([0, 10, 20]).nextWindowAt(20), 30 - SPIN_AHEAD_MIN_LEAD_MS);
  // 1 s: 10 ms would spin too long, so the maximum, 2 ms.
  assert.equal(fedWith([0, 1000, 2000]).nextWindowAt(2000), 2998);
  // The gaps may differ by up to the lead.
  assert.equal(fedWith([0, 1000, 2001.9]).stats.windows, 1);
  assert.equal(fedWith([0, 1000, 2002.1]).stats.windows, 0);
});

Deno.test("spin-ahead: periods under 2 ms or over the longest followed are left alone", () => {
  assert.equal(fedWith([0, 1.5, 3]).stats.windows, 0);
  const spin = new SpinAhead(2, 500);
  for (const at of [0, 600, 1200]) spin.burstStarted(at);
  assert.equal(spin.stats.windows, 0);
});

Deno.test("spin-ahead: bursts on the beat are hits and set the next window from where they came", () => {
  const spin = fedWith([0, 200, 400]);
  // Due at 600, came 0.4 ms late: the next is due a period after it, and the period moves a
  // quarter of the error, to 200.1.
  spin.burstStarted(600.4);
  assert.equal(spin.stats.hits, 1);
  assert.equal(spin.nextWindowAt(600.4), 600.4 + 200.1 - 2);
  spin.burstStarted(800.5);
  assert.equal(spin.stats.hits, 2);
});

Deno.test("spin-ahead: a burst up to four leads late is a hit, and moves the period by a quarter lead at most", () => {
  const spin = fedWith([0, 200, 400]);
  // Due at 600, came 6 ms late (the sender's timer fired late): caught spinning, and the next is
  // due a period after it, the period longer by a quarter of the 2 ms lead, not of 6 ms.
  spin.burstStarted(606);
  assert.equal(spin.stats.hits, 1);
  assert.equal(spin.nextWindowAt(606), 606 + 200.5 - 2);
  // 8.1 ms late is past the window.
  spin.burstStarted(606 + 200.5 + 8.1);
  assert.equal(spin.stats.hits, 1);
});

Deno.test("spin-ahead: a frame off the beat leaves the beat alone", () => {
  const spin = fedWith([0, 200, 400]);
  // An unrelated frame (an IPv6 router solicitation from the kernel) halfway through the period.
  spin.burstStarted(500);
  assert.equal(spin.nextWindowAt(500), 598);
  spin.burstStarted(600);
  assert.equal(spin.stats.hits, 1);
  assert.equal(spin.nextWindowAt(600), 798);
});

Deno.test("spin-ahead: a sender that moves its beat is followed from its second burst on it", () => {
  const spin = fedWith([0, 200, 400, 600]);
  assert.equal(spin.stats.hits, 1);
  // ping's timer fired 3.6 ms early, and it keeps the new beat: 796.4 is outside the window
  // (798-802), and 200 ms after the burst before only by chance, 3.6 ms out.
  spin.burstStarted(796.4);
  assert.equal(spin.nextWindowAt(796.4), 798);
  // 996.4 misses its window too, but comes a period after 796.4: the beat moved.
  spin.burstStarted(996.4);
  assert.equal(spin.stats.hits, 1);
  assert.equal(spin.nextWindowAt(996.4), 1194.4);
  spin.burstStarted(1196.4);
  assert.equal(spin.stats.hits, 2);
});

Deno.test("spin-ahead: a followed period that changes is taken up from two gaps that agree", () => {
  const spin = fedWith([0, 200, 400]);
  // The sender now sends every 196 ms (its timer runs differently while its machine is busy):
  // 596 is 4 ms early for its window, and neither on the old beat nor a period after 400.
  spin.burstStarted(596);
  assert.equal(spin.stats.hits, 0);
  // 792 is 196 after 596, which was 196 after 400: the new period, with a lead of 1.96 ms.
  spin.burstStarted(792);
  assert.ok(Math.abs(spin.nextWindowAt(792) - (988 - 1.96)) < 1e-9);
  spin.burstStarted(988);
  assert.equal(spin.stats.hits, 1);
});

Deno.test("spin-ahead: a window without a burst moves on a period; three in a row give it up", () => {
  const spin = fedWith([0, 200, 400]);
  // Nothing came at 600 (by 608): the next window is the one due at 800.
  assert.equal(spin.spinUntil(609), -Infinity);
  assert.equal(spin.nextWindowAt(609), 798);
  // Nothing at 800 either; the beat still holds at 1000, and a burst there is a hit.
  assert.equal(spin.spinUntil(999), 1008);
  spin.burstStarted(1000);
  assert.equal(spin.stats.hits, 1);
  // Now three empty windows (1200, 1400, 1600): the sender stopped, so no more spinning.
  assert.equal(spin.nextWindowAt(1409), 1598);
  assert.equal(spin.nextWindowAt(1609), Infinity);
  assert.equal(spin.spinUntil(1799), -Infinity);
  // Two agreeing gaps find a period again.
  spin.burstStarted(5000);
  spin.burstStarted(5100);
  spin.burstStarted(5200);
  assert.equal(spin.nextWindowAt(5200), 5299);
});

Deno.test("spin-ahead: a period followed out of the range worth predicting is given up", () => {
  // Bursts every 2 ms, then ever closer together: each is a hit, and the period follows them
  // down, until it would be under 2 ms.
  const spin = new SpinAhead(0.25, 10);
  let at = 0;
  for (const gap of [2, 2, 2]) spin.burstStarted(at += gap);
  assert.equal(spin.stats.windows, 1);
  for (let gap = 1.98; gap > 1.5 && spin.nextWindowAt(at) !== Infinity; gap -= 0.02) {
    spin.burstStarted(at += gap);
  }
  assert.equal(spin.nextWindowAt(at), Infinity);
  assert.ok(spin.stats.hits >= 1);
});

Deno.test("spin-ahead: a window replaced before it came is not counted", () => {
  const spin = fedWith([0, 10, 20]);
  assert.equal(spin.stats.windows, 1);
  // 29.4 is early for the window due at 30 (29.75-31), which is then missed; 39.4 is early for
  // the next, due at 40, but a period after 29.4: the beat moved, and the window due at 40 gives
  // way to one due at 49.4 without counting as a miss.
  spin.burstStarted(29.4);
  spin.burstStarted(39.4);
  assert.equal(spin.stats.windows, 2);
  assert.equal(spin.stats.hits, 0);
  assert.equal(spin.nextWindowAt(39.4), 49.4 - 0.25);
});

Deno.test("spin-ahead: a lead under 0.25 ms is rejected", () => {
  assert.throws(() => new SpinAhead(0.2, 1000), RangeError);
  assert.throws(() => new SpinAhead(Number.NaN, 1000), RangeError);
});
