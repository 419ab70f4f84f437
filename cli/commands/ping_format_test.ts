import assert from "node:assert/strict";
import { describeIcmpError, formatRtt, PingSummary } from "./ping_format.ts";

// iputils ping prints a reply's time with 3 decimals below 1 ms, 2 below 10 ms, 1 below 100 ms
// and none above: "time=0.045 ms", "time=1.23 ms", "time=12.3 ms", "time=123 ms".
Deno.test("formatRtt: precision steps like iputils", () => {
  const cases: [number, string][] = [
    [0, "0.000"],
    [0.045, "0.045"],
    [0.123, "0.123"],
    [0.999, "0.999"],
    [1, "1.00"],
    [1.23, "1.23"],
    [9.87, "9.87"],
    [10, "10.0"],
    [12.3, "12.3"],
    [99.9, "99.9"],
    [100, "100"],
    [123, "123"],
    [1234, "1234"],
  ];
  for (const [ms, text] of cases) assert.equal(formatRtt(ms), text, `${ms} ms`);
});

Deno.test("formatRtt: extra digits are rounded away", () => {
  assert.equal(formatRtt(1.2345678), "1.23");
  assert.equal(formatRtt(12.34), "12.3");
  assert.equal(formatRtt(12.36), "12.4");
  assert.equal(formatRtt(123.4), "123");
  assert.equal(formatRtt(123.6), "124");
  assert.equal(formatRtt(0.0456), "0.046");
});

Deno.test({
  name: "formatRtt: values that round up across a step use the next step's precision",
  fn() {
    assert.equal(formatRtt(9.996), "10.0");
    assert.equal(formatRtt(99.96), "100");
  },
});

function summary(transmitted: number, rtts: number[], errors = 0): PingSummary {
  const s = new PingSummary();
  s.transmitted = transmitted;
  s.errors = errors;
  for (const rtt of rtts) s.addReply(rtt);
  return s;
}

Deno.test("PingSummary: all replies received", () => {
  const s = summary(4, [1, 2, 3, 4]);
  assert.equal(s.received, 4);
  assert.equal(s.lossPercent, 0);
  // mean 2.5; population variance ((1.5² + 0.5²) * 2) / 4 = 1.25; sqrt(1.25) = 1.1180...
  assert.deepEqual(s.lines("10.0.0.1", 3004.4), [
    "",
    "--- 10.0.0.1 ping statistics ---",
    "4 packets transmitted, 4 received, 0% packet loss, time 3004ms",
    "rtt min/avg/max/mdev = 1.000/2.500/4.000/1.118 ms",
  ]);
});

Deno.test("PingSummary: mdev is the population standard deviation", () => {
  // 0.1, 0.2, 0.6: mean 0.3; squared deviations 0.04, 0.01, 0.09; variance 0.14 / 3 = 0.04667;
  // sqrt = 0.2160 (the sample deviation would be sqrt(0.07) = 0.2646).
  const stats = summary(3, [0.2, 0.6, 0.1]).rttStats();
  assert.ok(stats);
  assert.equal(stats.min, 0.1);
  assert.equal(stats.max, 0.6);
  assert.ok(Math.abs(stats.avg - 0.3) < 1e-12);
  assert.ok(Math.abs(stats.mdev - Math.sqrt(0.14 / 3)) < 1e-12);
  assert.equal(
    summary(3, [0.2, 0.6, 0.1]).lines("h", 2000)[3],
    "rtt min/avg/max/mdev = 0.100/0.300/0.600/0.216 ms",
  );
  // Identical samples: in floating point, sum of squares / n - mean² comes out as about -1.7e-18
  // for three samples of 0.1 and +5.7e-14 for three of 12.7; mdev must be 0, not NaN, and print 0.
  assert.equal(summary(3, [0.1, 0.1, 0.1]).rttStats()?.mdev, 0);
  assert.equal(
    summary(3, [12.7, 12.7, 12.7]).lines("h", 0)[3],
    "rtt min/avg/max/mdev = 12.700/12.700/12.700/0.000 ms",
  );
});

Deno.test("PingSummary: loss percentage formatted like iputils' %g", () => {
  const lossLine = (transmitted: number, received: number) =>
    summary(transmitted, new Array(received).fill(1)).lines("h", 0)[2];
  assert.equal(lossLine(3, 2), "3 packets transmitted, 2 received, 33.3333% packet loss, time 0ms");
  assert.equal(lossLine(3, 1), "3 packets transmitted, 1 received, 66.6667% packet loss, time 0ms");
  assert.equal(lossLine(7, 6), "7 packets transmitted, 6 received, 14.2857% packet loss, time 0ms");
  assert.equal(lossLine(2, 1), "2 packets transmitted, 1 received, 50% packet loss, time 0ms");
  assert.equal(lossLine(8, 7), "8 packets transmitted, 7 received, 12.5% packet loss, time 0ms");
  assert.equal(
    lossLine(1000, 999),
    "1000 packets transmitted, 999 received, 0.1% packet loss, time 0ms",
  );
});

Deno.test("PingSummary: no replies at all: 100% loss and no rtt line", () => {
  const s = summary(3, []);
  assert.equal(s.rttStats(), undefined);
  assert.deepEqual(s.lines("10.0.0.9", 2002.5), [
    "",
    "--- 10.0.0.9 ping statistics ---",
    "3 packets transmitted, 0 received, 100% packet loss, time 2003ms",
  ]);
});

Deno.test("PingSummary: ICMP errors are reported after received, as in iputils", () => {
  assert.equal(
    summary(3, [], 3).lines("10.0.0.9", 2003)[2],
    "3 packets transmitted, 0 received, +3 errors, 100% packet loss, time 2003ms",
  );
});

Deno.test("PingSummary: nothing transmitted means 0% loss", () => {
  assert.equal(new PingSummary().lossPercent, 0);
});

// iputils' wording (pr_icmph in ping.c).
Deno.test("describeIcmpError: destination unreachable and time exceeded texts", () => {
  assert.equal(describeIcmpError(3, 0), "Destination Net Unreachable");
  assert.equal(describeIcmpError(3, 1), "Destination Host Unreachable");
  assert.equal(describeIcmpError(3, 2), "Destination Protocol Unreachable");
  assert.equal(describeIcmpError(3, 3), "Destination Port Unreachable");
  assert.match(describeIcmpError(3, 4), /^Frag needed and DF set/);
  assert.equal(describeIcmpError(3, 99), "Dest Unreachable, Bad Code: 99");
  assert.equal(describeIcmpError(11, 0), "Time to live exceeded");
  assert.equal(describeIcmpError(11, 1), "Frag reassembly time exceeded");
  assert.equal(describeIcmpError(42, 0), "Bad ICMP type: 42");
});
