/**
 * Rehearsals on a real TAP, against the kernel's `ping`, inside a namespace the test makes: while
 * the receiver busy-polls between requests it rehearses the last answered one through the stack
 * (`stack/link/echo_rehearsal.ts`), and none of it may show: the pinger gets exactly its replies,
 * the kernel receives exactly the frames the TAP counts, and the stack counts exactly the real
 * echoes. The rules themselves are tested in process (`echo_rehearsal_stack_test.ts`).
 */

import assert from "node:assert/strict";
import type { TapStats } from "../ffi/tap.ts";
import { createTestNamespace } from "./helpers/netns.ts";
import { startStackIn } from "./helpers/stack_in_namespace.ts";

const PINGS = 20;

for (const offload of [true, false]) {
  const name = offload ? "with offloads" : "without offloads";
  Deno.test(`rehearsals between a kernel pinger's requests stay inside the stack, ${name}`, async () => {
    await using ns = await createTestNamespace();
    // Only the pings and ARP reach the TAP: a frame of the kernel's IPv6 start-up, read while
    // the test reads the counters, would sit in one counter and not yet in the next.
    const quiet = await ns.run(["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"]);
    assert.equal(quiet.code, 0, quiet.stderr);
    // Busy polling for a second after each frame: the receiver spins through every 50 ms gap.
    const running = startStackIn(ns, { busyPoll: "1000000", rehearse: "250", offload });
    try {
      const ping = await ns.run(
        ["ping", "-c", String(PINGS), "-i", "0.05", "-W", "1", "10.0.0.2"],
        { timeoutMs: 20_000 },
      );
      assert.equal(ping.code, 0, ping.stdout + ping.stderr);
      assert.match(ping.stdout, new RegExp(`${PINGS} packets transmitted, ${PINGS} received,`));
      assert.doesNotMatch(ping.stdout, /DUP!|wrong data/);

      const stats = running.stack.stats();
      const tap = stats.link as TapStats;
      assert.ok(tap.rxRehearsals > 0, "no rehearsal between the requests");
      assert.equal(tap.rxRehearsalsUnanswered, 0);
      assert.equal(stats.icmp.echoRequestsIn, PINGS);
      assert.equal(stats.icmp.echoRepliesOut, PINGS);
      assert.equal(stats.ipv4.delivered, PINGS);
      assert.equal(stats.ipv4.sent, PINGS);
      // Every frame Ethernet counts came from the kernel or went to it, and the kernel got no
      // other: what Ethernet handed up plus what it dropped is what the TAP read.
      const dropped = Object.values(stats.ethernet.drops).reduce((sum, n) => sum + n, 0);
      assert.equal(stats.ethernet.rxFrames + dropped, tap.rxFrames);
      assert.equal(stats.ethernet.txFrames, tap.txFrames);
      const kernel = await ns.run(["cat", "/sys/class/net/gonet0/statistics/rx_packets"]);
      assert.equal(kernel.code, 0, kernel.stderr);
      assert.equal(Number(kernel.stdout.trim()), tap.txFrames);
    } finally {
      await running.close();
    }
  });
}
