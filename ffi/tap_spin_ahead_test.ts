/**
 * Spinning ahead on a real TAP: the kernel's `ping` sends echo requests at a steady period (to a
 * static neighbour entry, so nothing needs to answer), and the receiver must find the period and
 * catch requests while spinning instead of waking for them, at `ping`'s 0.2 s period (a 2 ms
 * lead). On a loaded machine the sender itself is late by up to a few scheduler ticks (4 ms
 * each here), and no window can catch that: the receiver is then right not to spin, so the test
 * gives it up to three rounds of pings to show a hit. The prediction rules
 * themselves are tested with made-up clocks in `spin_ahead_test.ts`.
 */

import assert from "node:assert/strict";
import { createTestNamespace, type TestNamespace } from "../tests/helpers/netns.ts";
import { setIpv4Address, setLinkUp } from "./netif.ts";
import { withNetns } from "./netns.ts";
import { openTap, type TapDevice } from "./tap.ts";

const ECHO_REQUESTS = 10;
/** Rounds of pings the spinning test may take to see a request caught in its window. */
const ROUNDS = 3;

/** Opens gonet0 in `ns` as 10.0.0.1/24 with a permanent neighbour 10.0.0.2 behind it. */
async function openTapWithNeighbour(
  ns: TestNamespace,
  spinAheadMicros: number,
): Promise<TapDevice> {
  // Only the pings may reach the TAP: the kernel's IPv6 solicitations would be off the beat.
  const quiet = await ns.run(["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"]);
  assert.equal(quiet.code, 0, quiet.stderr);
  const tap = withNetns(ns.name, () => {
    const tap = openTap({ name: "gonet0", inlineWaitMs: 60_000, napMicros: 100, spinAheadMicros });
    setIpv4Address(tap.name, { address: 0x0a000001, prefixLength: 24 });
    setLinkUp(tap.name, true);
    return tap;
  });
  const neigh = await ns.run(
    ["ip", "neigh", "replace", "10.0.0.2", "lladdr", "02:00:00:00:00:02", "dev", tap.name],
  );
  assert.equal(neigh.code, 0, neigh.stderr);
  return tap;
}

/** Whether `frame` is an IPv4 ICMP echo request. */
function isEchoRequest(frame: Uint8Array): boolean {
  return frame.length >= 34 && frame[12] === 0x08 && frame[13] === 0x00 && frame[23] === 1 &&
    frame[34] === 8;
}

/** Pings 10.0.0.2 from `ns` every `interval` seconds and counts the requests `tap` receives. */
async function pingThrough(ns: TestNamespace, tap: TapDevice, interval: string): Promise<number> {
  let requests = 0;
  const receiving = (async () => {
    for await (const batch of tap.receive()) {
      for (const frame of batch) if (isEchoRequest(frame)) requests++;
    }
  })();
  try {
    // No one answers, so ping reports the loss and exits 1; the requests went out all the same.
    const ping = await ns.run(
      ["ping", "-c", String(ECHO_REQUESTS), "-i", interval, "-W", "0.05", "10.0.0.2"],
    );
    assert.equal(ping.code, 1, ping.stderr);
    assert.match(ping.stdout, new RegExp(`${ECHO_REQUESTS} packets transmitted, 0 received`));
  } finally {
    await tap.close();
    await receiving;
  }
  return requests;
}

Deno.test("a TAP receiver finds ping's period and catches its requests spinning ahead of them", async () => {
  await using ns = await createTestNamespace();
  const seen: string[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const tap = await openTapWithNeighbour(ns, 2000);
    const requests = await pingThrough(ns, tap, "0.2");
    assert.equal(requests, ECHO_REQUESTS);
    const { rxSpinAheadWindows, rxSpinAheadHits, rxBusyPolls } = tap.stats;
    // A round opens windows whether or not the requests then come on time.
    assert.ok(rxSpinAheadWindows >= 1, `round ${round}: no window opened`);
    seen.push(`${rxSpinAheadHits} of ${rxSpinAheadWindows} windows, ${rxBusyPolls} polled`);
    // No busy poll was asked for, so a request found polling was found spinning ahead (one that
    // came just before its window opened ends a wait instead, and is a hit all the same).
    if (rxSpinAheadHits >= 1 && rxBusyPolls >= 1) return;
  }
  assert.fail(`no request came in its window in ${ROUNDS} rounds: ${seen.join(", ")}`);
});

Deno.test("with spinAheadMicros 0 the same pings open no window and are all waited for", async () => {
  await using ns = await createTestNamespace();
  const tap = await openTapWithNeighbour(ns, 0);
  const requests = await pingThrough(ns, tap, "0.05");
  assert.equal(requests, ECHO_REQUESTS);
  assert.equal(tap.stats.rxSpinAheadWindows, 0);
  assert.equal(tap.stats.rxBusyPolls, 0);
  assert.equal(tap.stats.rxWakeups + tap.stats.rxInlineWakeups, ECHO_REQUESTS);
});

Deno.test("openTap rejects a spinAheadMicros under 250 other than 0", () => {
  assert.throws(() => openTap({ name: "gonet0", spinAheadMicros: 100 }), RangeError);
  assert.throws(() => openTap({ name: "gonet0", spinAheadMicros: -1 }), RangeError);
});
