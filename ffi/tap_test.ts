import assert from "node:assert/strict";
import { createTestNamespace, type TestNamespace } from "../tests/helpers/netns.ts";
import { ErrnoError } from "./errno.ts";
import { getMac, getMtu, setIpv4Address, setLinkUp, setMtu } from "./netif.ts";
import { withNetns } from "./netns.ts";
import { openTap, type TapDevice } from "./tap.ts";
import { copyBehindPlainHeader, VNET_HDR_BYTES } from "./vnet_header.ts";
import { releaseBytes, retainBytes } from "../stack/arena_pool.ts";

/**
 * ARP request (RFC 826) from the made-up stack 02:00:00:00:00:02 / 10.0.0.2 asking who has
 * 10.0.0.1, in a broadcast Ethernet II frame. 42 bytes, no padding (a TAP needs none).
 */
// deno-fmt-ignore
const ARP_REQUEST = new Uint8Array([
  // Ethernet: destination broadcast, source 02:00:00:00:00:02, EtherType ARP
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
  0x08, 0x06,
  // ARP: hardware Ethernet (1), protocol IPv4 (0x0800), lengths 6 and 4, op request (1)
  0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
  // sender 02:00:00:00:00:02 10.0.0.2
  0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x02,
  // target 00:00:00:00:00:00 10.0.0.1
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01,
]);

/** The request with the sender MAC ending in `low16` (Ethernet source and ARP sender both). */
function arpRequestFrom(low16: number): Uint8Array {
  const frame = ARP_REQUEST.slice();
  for (const offset of [10, 26]) {
    frame[offset] = low16 >> 8;
    frame[offset + 1] = low16 & 0xff;
  }
  return frame;
}

/** Six bytes of a MAC held as a 48-bit number. */
function macBytes(mac: number): number[] {
  return [40, 32, 24, 16, 8, 0].map((shift) => Math.floor(mac / 2 ** shift) & 0xff);
}

/** Whether the frame is an ARP reply (EtherType 0x0806, op 2). */
function isArpReply(frame: Uint8Array): boolean {
  return frame.length >= 42 && frame[12] === 0x08 && frame[13] === 0x06 && frame[20] === 0 &&
    frame[21] === 2;
}

/**
 * Collects received frames accepted by `keep` until `enough` of them arrived. Fails after
 * `timeoutMs` (the bound, not a synchronisation: the frames are awaited, not slept for).
 */
async function receiveFrames(
  tap: TapDevice,
  keep: (frame: Uint8Array) => boolean,
  enough: number,
  timeoutMs = 5000,
): Promise<Uint8Array[]> {
  const kept: Uint8Array[] = [];
  const iterator = tap.receive();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    while (kept.length < enough) {
      const next = await Promise.race([iterator.next(), timeout]);
      if (next === "timeout") {
        throw new Error(`got ${kept.length}/${enough} frames in ${timeoutMs} ms`);
      }
      if (next.done) throw new Error("receive() ended early");
      // Kept past their turn: retained, or the TAP would reuse their arena (arena_pool.ts).
      for (const frame of next.value) {
        if (keep(frame)) {
          retainBytes(frame);
          kept.push(frame);
        }
      }
    }
    await iterator.return(); // release the receiver for the next call
    return kept;
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves like `promise`, or fails when it takes longer than `timeoutMs` (a bound only). */
async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Opens gonet0 in `ns` as 10.0.0.1/24, up. */
function openConfiguredTap(
  ns: TestNamespace,
  mtu?: number,
  busyPollMicros?: number,
  inlineWaitMs?: number,
  txThread?: boolean,
  poisonReusedArenas?: boolean,
): TapDevice {
  return withNetns(ns.name, () => {
    const tap = openTap({
      name: "gonet0",
      mtu,
      busyPollMicros,
      inlineWaitMs,
      txThread,
      poisonReusedArenas,
    });
    setIpv4Address(tap.name, { address: 0x0a000001, prefixLength: 24 });
    setLinkUp(tap.name, true);
    return tap;
  });
}

Deno.test("TAP carries an ARP request to the kernel and its reply back", async () => {
  await using ns = await createTestNamespace();
  const tap = openConfiguredTap(ns, 1400);
  try {
    assert.equal(tap.name, "gonet0");
    assert.equal(tap.mtu, 1400);
    assert.ok(tap.fd >= 0);
    const out = await ns.run(["ip", "-j", "addr", "show", "dev", "gonet0"]);
    const [link] = JSON.parse(out.stdout);
    assert.equal(link.mtu, 1400);
    assert.ok(link.flags.includes("UP"));
    assert.ok(
      link.addr_info.some((a: Record<string, unknown>) =>
        a.family === "inet" && a.local === "10.0.0.1" && a.prefixlen === 24
      ),
    );

    const tapMac = macBytes(withNetns(ns.name, () => getMac("gonet0")));
    assert.equal(tapMac.map((b) => b.toString(16).padStart(2, "0")).join(":"), link.address);
    assert.equal(tap.write(ARP_REQUEST), true);
    assert.deepEqual(
      [tap.stats.txFrames, tap.stats.txBytes, tap.stats.txDrops],
      [1, 42, 0],
    );

    const [reply] = await receiveFrames(tap, isArpReply, 1);
    // RFC 826 reply: swap sender and target, fill in the kernel's MAC, op 2, unicast to us.
    const ourMac = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];
    // deno-fmt-ignore
    const expected = [
      ...ourMac, ...tapMac, 0x08, 0x06,
      0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02,
      ...tapMac, 0x0a, 0x00, 0x00, 0x01,
      ...ourMac, 0x0a, 0x00, 0x00, 0x02,
    ];
    assert.deepEqual([...reply], expected);
    assert.ok(tap.stats.rxFrames >= 1);
    assert.ok(tap.stats.rxWakeups >= 1);
  } finally {
    await tap.close();
  }
});

Deno.test("retained frames survive arena changes; released arenas are used again", async () => {
  await using ns = await createTestNamespace();
  // Poisoned: an arena used again while a view still pointed into it would garble the replies.
  const tap = openConfiguredTap(ns, undefined, undefined, undefined, false, true);
  const perRound = 100;
  // Rounds of 100 stay well below the TAP queue (txqueuelen 1000), so the kernel drops none.
  const exchange = async (first: number, rounds: number) => {
    const replies: Uint8Array[] = [];
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < perRound; i++) {
        assert.equal(tap.write(arpRequestFrom(first + round * perRound + i)), true);
      }
      replies.push(...await receiveFrames(tap, isArpReply, perRound));
    }
    return replies;
  };
  // Each reply names the sender it answered (target MAC = the request's sender MAC).
  const targetsOf = (replies: Uint8Array[]) =>
    replies.map((f) => (f[36] << 8) | f[37]).sort((a, b) => a - b);
  try {
    // 25,000 replies of 42 bytes are over 1 MB: four 256 KiB arenas and more.
    const kept = await exchange(0, 250);
    assert.ok(new Set(kept.map((f) => f.buffer)).size >= 4, "expected arena changes");
    assert.deepEqual(targetsOf(kept), Array.from({ length: 25_000 }, (_, i) => i));
    assert.equal(tap.stats.rxArenasReused, 0, "every arena still holds retained replies");
    for (const frame of kept) releaseBytes(frame);
    // Released (and for these rounds, each round's replies released before the next round),
    // the arenas come back instead of new ones.
    const allocated = tap.stats.rxArenasAllocated;
    for (let round = 0; round < 150; round++) {
      const replies = await exchange(30_000 + round * perRound, 1);
      assert.deepEqual(
        targetsOf(replies),
        Array.from({ length: perRound }, (_, i) => 30_000 + round * perRound + i),
      );
      for (const frame of replies) releaseBytes(frame);
    }
    assert.ok(tap.stats.rxArenasReused >= 2, `reused ${tap.stats.rxArenasReused}`);
    assert.ok(tap.stats.rxArenasAllocated - allocated <= 1, "arenas were allocated anew");
    assert.equal(tap.stats.txDrops, 0);
  } finally {
    await tap.close();
  }
});

Deno.test("with a transmit thread, bursts reach the kernel whole and in order", async () => {
  await using ns = await createTestNamespace();
  const tap = openConfiguredTap(ns, undefined, undefined, undefined, true);
  try {
    // The second burst comes after the thread has gone to sleep: it must be woken.
    for (const burst of [0, 1]) {
      const senders = Array.from({ length: 50 }, (_, i) => burst * 50 + i + 1);
      for (const sender of senders) assert.equal(tap.write(arpRequestFrom(sender)), true);
      const replies = await receiveFrames(tap, isArpReply, senders.length);
      // The kernel answers in the order it was asked: the first frame of a burst, written on
      // this thread, and the rest, written by the transmit thread, left in order.
      assert.deepEqual(replies.map((f) => (f[36] << 8) | f[37]), senders);
    }
    assert.equal(tap.stats.txFrames, 100);
    assert.equal(tap.stats.txDrops, 0);
    // All but about the first of each burst went through the thread. The second burst's first
    // may too (the thread can still be returning from its last write when the replies are in),
    // and a pause of over 1 ms between two writes (a GC) lets one more go inline.
    assert.ok(tap.stats.txQueued >= 90 && tap.stats.txQueued <= 99, `${tap.stats.txQueued}`);
  } finally {
    await tap.close();
  }
});

Deno.test("with a transmit thread, a burst larger than its ring waits for room, none dropped", async () => {
  await using ns = await createTestNamespace();
  const tap = openConfiguredTap(ns, undefined, undefined, undefined, true);
  try {
    // 4000 frames of 1514 bytes are 6 MB, half as much again as the 4 MiB ring, in one turn.
    // EtherType 0x88b5 (local experimental): the kernel reads and discards them.
    const frame = new Uint8Array(1514);
    frame.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 2, 0x88, 0xb5]);
    let accepted = 0;
    for (let i = 0; i < 4000; i++) if (tap.write(frame)) accepted++;
    assert.equal(accepted, 4000);
    await tap.close();
    assert.deepEqual([tap.stats.txFrames, tap.stats.txDrops], [4000, 0]);
  } finally {
    await tap.close();
  }
});

Deno.test("frames the transmit thread fails to write are counted as drops", async () => {
  await using ns = await createTestNamespace();
  // The kernel refuses writes to a TAP that is down (EIO).
  const tap = withNetns(ns.name, () => openTap({ name: "gonet0", txThread: true }));
  for (let i = 0; i < 5; i++) tap.write(arpRequestFrom(i));
  assert.ok(tap.stats.txQueued >= 1, "some frames went through the thread");
  // close() waits for the thread to finish the queue, then takes its failures into the stats.
  await tap.close();
  assert.deepEqual([tap.stats.txFrames, tap.stats.txBytes, tap.stats.txDrops], [0, 0, 5]);
});

Deno.test("frames longer than MTU + 18 are dropped and counted, not truncated", async () => {
  await using ns = await createTestNamespace();
  const tap = openConfiguredTap(ns, 1400);
  try {
    // Raise the kernel side behind the device's back, and give 10.0.0.2 a static neighbour so
    // the kernel sends the echo requests straight away instead of asking ARP first.
    withNetns(ns.name, () => setMtu("gonet0", 9000));
    const neigh = await ns.run(
      ["ip", "neigh", "add", "10.0.0.2", "lladdr", "02:00:00:00:00:02", "dev", "gonet0"],
    );
    assert.equal(neigh.code, 0, neigh.stderr);
    // 3000 bytes of ICMP data: a 3042-byte frame; then 10 bytes: a 52-byte frame. Nobody
    // answers, so ping exits 1 after its 0.2 s wait.
    for (const size of ["3000", "10"]) {
      const ping = await ns.run(["ping", "-c", "1", "-W", "0.2", "-s", size, "10.0.0.2"]);
      assert.equal(ping.code, 1, ping.stderr);
    }
    const isEcho = (f: Uint8Array) =>
      f[12] === 0x08 && f[13] === 0x00 && f[23] === 1 && f[34] === 8;
    const frames = await receiveFrames(tap, isEcho, 1);
    assert.deepEqual(frames.map((f) => f.length), [52]);
    assert.equal(tap.stats.rxDrops, 1);
  } finally {
    await tap.close();
  }
});

Deno.test("close() is idempotent, ends receive(), removes the TAP; write() then fails", async () => {
  await using ns = await createTestNamespace();
  const tap = openConfiguredTap(ns);
  const batches: Uint8Array[][] = [];
  // A receiver parked in poll: close() must wake it through the eventfd.
  const receiving = (async () => {
    for await (const batch of tap.receive()) batches.push(batch);
  })();
  const first = tap.close();
  assert.equal(tap.close(), first);
  await within(Promise.all([first, receiving]), 2000, "close() and the receiver ending");
  assert.equal(tap.fd, -1);

  const show = await ns.run(["ip", "link", "show", "dev", "gonet0"]);
  assert.notEqual(show.code, 0);
  assert.match(show.stderr, /does not exist/);

  assert.equal(tap.write(ARP_REQUEST), false);
  assert.equal(tap.stats.txDrops, 1);
  const after = tap.receive();
  assert.deepEqual(await after.next(), { done: true, value: undefined });
});

Deno.test("busy polling finds the next frame without sleeping and keeps the event loop running", async () => {
  await using ns = await createTestNamespace();
  // One minute of busy polling after each frame: far longer than this test.
  const tap = openConfiguredTap(ns, undefined, 60_000_000);
  const replies: Uint8Array[] = [];
  let wanted = 0;
  let arrived: (() => void) | undefined;
  const receiving = (async () => {
    for await (const batch of tap.receive()) {
      for (const frame of batch) if (isArpReply(frame)) replies.push(frame);
      if (replies.length >= wanted) arrived?.();
    }
  })();
  const replyNumber = (n: number) => {
    wanted = n;
    return within(new Promise<void>((resolve) => arrived = resolve), 5000, `ARP reply ${n}`);
  };
  try {
    // The first reply wakes the sleeping receiver; from then on it polls instead of sleeping.
    let next = replyNumber(1);
    assert.equal(tap.write(arpRequestFrom(1)), true);
    await next;
    assert.equal(tap.stats.rxWakeups, 1);
    next = replyNumber(2);
    assert.equal(tap.write(arpRequestFrom(2)), true);
    await next;
    assert.equal(tap.stats.rxWakeups, 1, "the second reply must not need a wake-up");
    assert.ok(tap.stats.rxBusyPolls >= 1);
    // Timers still fire while the receiver polls.
    await within(new Promise((resolve) => setTimeout(resolve, 1)), 1000, "a 1 ms timer");
  } finally {
    // No poll is pending to wake: close() must still end the polling receiver.
    await within(Promise.all([tap.close(), receiving]), 2000, "close() and the receiver ending");
  }
  assert.equal(replies.length, 2);
});

/** Turns IPv6 off in `ns` for interfaces made from now on: no router solicitations, no MLD. */
async function quietIpv6(ns: TestNamespace): Promise<void> {
  const out = await ns.run(["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"]);
  assert.equal(out.code, 0, out.stderr);
}

/** Collects ARP replies from `tap`; `replyNumber(n)` resolves once n have arrived. */
function collectArpReplies(tap: TapDevice, onReply?: (frame: Uint8Array) => void) {
  const replies: Uint8Array[] = [];
  /** ARP replies in each batch that held any. */
  const batchSizes: number[] = [];
  let wanted = 0;
  let arrived: (() => void) | undefined;
  const receiving = (async () => {
    for await (const batch of tap.receive()) {
      const before = replies.length;
      for (const frame of batch) {
        if (!isArpReply(frame)) continue;
        // A copy: kept past its turn, the frame's arena may be read into again.
        replies.push(frame.slice());
        onReply?.(frame);
      }
      if (replies.length > before) batchSizes.push(replies.length - before);
      if (replies.length >= wanted) arrived?.();
    }
  })();
  const replyNumber = (n: number) => {
    wanted = n;
    return within(new Promise<void>((resolve) => arrived = resolve), 5000, `ARP reply ${n}`);
  };
  return { replies, batchSizes, receiving, replyNumber };
}

Deno.test("after a quiet spell the first frame goes up alone and the rest follow at once", async () => {
  await using ns = await createTestNamespace();
  await quietIpv6(ns);
  const tap = openConfiguredTap(ns, undefined, 0, 60_000);
  const { replies, batchSizes, receiving, replyNumber } = collectArpReplies(tap);
  try {
    let next = replyNumber(1);
    assert.equal(tap.write(arpRequestFrom(1)), true);
    await next;
    // The quiet spell under test (over 1 ms), not a wait for anything to happen.
    await new Promise((resolve) => setTimeout(resolve, 5));
    // The kernel answers each request inside our write(2), so all 20 replies are queued on the
    // TAP before the receiver, waiting inline, looks again.
    next = replyNumber(21);
    for (let i = 2; i <= 21; i++) assert.equal(tap.write(arpRequestFrom(i)), true);
    await next;
    assert.deepEqual(batchSizes, [1, 1, 19]);
    assert.equal(tap.stats.rxWakeups, 1);
    assert.equal(tap.stats.rxInlineWakeups, 2);
  } finally {
    await within(Promise.all([tap.close(), receiving]), 2000, "close() and the receiver ending");
  }
  assert.equal(replies.length, 21);
});

for (
  const [mode, busyPollMicros, inlineWaitMs] of [
    ["busy polling", 60_000_000, 0],
    ["inline waiting", 0, 60_000],
  ] as const
) {
  Deno.test(`${mode}: the turn hook runs after a batch's work, before the receiver looks again`, async () => {
    await using ns = await createTestNamespace();
    await quietIpv6(ns);
    const tap = openConfiguredTap(ns, undefined, busyPollMicros, inlineWaitMs);
    // What the stack defers to the end of a turn (corked TCP output) must run before the receiver
    // looks for frames again, let alone spins or blocks. Each reaction sends the next request, and
    // the kernel answers inside that write(2): the next reply is already queued, so a hook that
    // ran after the receiver looked would see the frame counter past the reaction's.
    const log: string[] = [];
    tap.setTurnHook(() => {
      const entry = `hook@${tap.stats.rxFrames}`;
      if (log.at(-1) !== entry) log.push(entry);
    });
    const { receiving, replyNumber } = collectArpReplies(tap, (frame) => {
      const n = frame[37]; // the target MAC's last byte: the request's number
      log.push(`reply ${n}`);
      queueMicrotask(() => {
        log.push(`reaction@${tap.stats.rxFrames}`);
        if (n < 3) assert.equal(tap.write(arpRequestFrom(n + 1)), true);
      });
    });
    try {
      const third = replyNumber(3);
      assert.equal(tap.write(arpRequestFrom(1)), true);
      await third;
      const entries = log.join(", ");
      for (const n of [1, 2]) {
        const reaction = log.indexOf(`reply ${n}`) + 1;
        const frames = log[reaction]?.replace("reaction@", "");
        assert.deepEqual(
          log.slice(reaction, reaction + 3),
          [`reaction@${frames}`, `hook@${frames}`, `reply ${n + 1}`],
          `after reply ${n}: reaction, the hook before any read, then the next reply: ${entries}`,
        );
      }
    } finally {
      await within(Promise.all([tap.close(), receiving]), 2000, "close() and the receiver ending");
    }
  });
}

Deno.test("inline waiting finds the next frame on the JS thread, and timers go on", async () => {
  await using ns = await createTestNamespace();
  await quietIpv6(ns);
  // One minute of inline waiting after each frame: far longer than this test.
  const tap = openConfiguredTap(ns, undefined, 0, 60_000);
  const { replies, receiving, replyNumber } = collectArpReplies(tap);
  try {
    // The first reply wakes the receiver sleeping on the thread pool; then it waits inline.
    let next = replyNumber(1);
    assert.equal(tap.write(arpRequestFrom(1)), true);
    await next;
    assert.equal(tap.stats.rxWakeups, 1);
    next = replyNumber(2);
    assert.equal(tap.write(arpRequestFrom(2)), true);
    await next;
    assert.equal(tap.stats.rxWakeups, 1, "the second reply must not need a thread-pool wake-up");
    assert.equal(tap.stats.rxInlineWakeups, 1);
    // Timers still fire while the receiver waits inline (what else may run meanwhile, and how
    // soon, is tested in inline_wait_test.ts).
    await within(new Promise((resolve) => setTimeout(resolve, 1)), 1000, "a 1 ms timer");
  } finally {
    // No poll is pending on the thread pool: close() must still end the waiting receiver.
    await within(Promise.all([tap.close(), receiving]), 2000, "close() and the receiver ending");
  }
  assert.equal(replies.length, 2);
});

Deno.test("after its inline-wait window the receiver sleeps on the thread pool again", async () => {
  await using ns = await createTestNamespace();
  // Only our ARP exchange may reach the TAP: an IPv6 frame from the kernel would extend the window.
  await quietIpv6(ns);
  const tap = openConfiguredTap(ns, undefined, 0, 1);
  const { receiving, replyNumber } = collectArpReplies(tap);
  try {
    let next = replyNumber(1);
    assert.equal(tap.write(arpRequestFrom(1)), true);
    await next;
    // Let the 1 ms window and the inline wait in progress (one slice) run out.
    await new Promise((resolve) => setTimeout(resolve, 50));
    next = replyNumber(2);
    assert.equal(tap.write(arpRequestFrom(2)), true);
    await next;
    assert.equal(tap.stats.rxWakeups, 2);
    assert.equal(tap.stats.rxInlineWakeups, 0);
  } finally {
    await within(Promise.all([tap.close(), receiving]), 2000, "close() and the receiver ending");
  }
});

Deno.test("going to sleep after its inline-wait window, the receiver gives free arenas back", async () => {
  await using ns = await createTestNamespace();
  await quietIpv6(ns);
  const tap = openConfiguredTap(ns, undefined, 0, 1);
  const { receiving, replyNumber } = collectArpReplies(tap);
  try {
    // 10,000 replies of 42 bytes fill more than one 256 KiB arena; nothing retains them.
    const perRound = 100;
    for (let round = 0; round < 100; round++) {
      const next = replyNumber((round + 1) * perRound);
      for (let i = 0; i < perRound; i++) {
        assert.equal(tap.write(arpRequestFrom(round * perRound + i)), true);
      }
      await next;
    }
    assert.ok(tap.stats.rxArenasAllocated >= 2, "expected an arena change");
    // Let the 1 ms window run out: the receiver goes to sleep, trimming first. The next frame
    // then needs a wake-up from the thread pool, which shows that it slept.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const wakeups = tap.stats.rxWakeups;
    const next = replyNumber(100 * perRound + 1);
    assert.equal(tap.write(arpRequestFrom(100 * perRound)), true);
    await next;
    assert.equal(tap.stats.rxWakeups, wakeups + 1);
    assert.ok(tap.stats.rxArenasTrimmed >= 1, `trimmed ${tap.stats.rxArenasTrimmed}`);
  } finally {
    await within(Promise.all([tap.close(), receiving]), 2000, "close() and the receiver ending");
  }
});

Deno.test("openTap rejects a negative busyPollMicros, inlineWaitMs or napMicros, and a bad rehearseMicros", () => {
  assert.throws(() => openTap({ name: "gonet0", busyPollMicros: -1 }), RangeError);
  assert.throws(() => openTap({ name: "gonet0", inlineWaitMs: -1 }), RangeError);
  assert.throws(() => openTap({ name: "gonet0", napMicros: -1 }), RangeError);
  assert.throws(() => openTap({ name: "gonet0", rehearseMicros: -1 }), RangeError);
  assert.throws(() => openTap({ name: "gonet0", rehearseMicros: NaN }), RangeError);
  // Checked at the end of a 0.25 ms busy-poll slice: a shorter quiet time would be a promise
  // it cannot keep.
  assert.throws(() => openTap({ name: "gonet0", rehearseMicros: 100 }), RangeError);
});

Deno.test("openTap failures are typed ErrnoErrors", async () => {
  await using ns = await createTestNamespace();
  const held = withNetns(ns.name, () => openTap({ name: "gonet0" }));
  try {
    // A non-multiqueue TAP takes one fd only.
    assert.throws(
      () => withNetns(ns.name, () => openTap({ name: "gonet0" })),
      (err: unknown) =>
        err instanceof ErrnoError && err.code === "EBUSY" &&
        err.message === "TUNSETIFF gonet0 failed: EBUSY (Device or resource busy)",
    );
  } finally {
    await held.close();
  }
  withNetns(ns.name, () => {
    // The name belongs to an interface that is not a TAP.
    assert.throws(
      () => openTap({ name: "lo" }),
      (err: unknown) => err instanceof ErrnoError && err.code === "EINVAL",
    );
    // The kernel refuses '/' in interface names.
    assert.throws(
      () => openTap({ name: "bad/name" }),
      (err: unknown) =>
        err instanceof ErrnoError &&
        err.message === "TUNSETIFF bad/name failed: EINVAL (Invalid argument)",
    );
    assert.throws(() => openTap({ name: "name-longer-than-15" }), RangeError);
    assert.throws(() => openTap({ name: "gonet1", mtu: 20 }), RangeError);
  });
  // Failed opens leave nothing behind.
  const out = await ns.run(["ip", "-j", "link", "show"]);
  assert.deepEqual(JSON.parse(out.stdout).map((l: { ifname: string }) => l.ifname), ["lo"]);
});

Deno.test("openTap with %d takes a kernel-chosen name and the kernel MTU", async () => {
  await using ns = await createTestNamespace();
  const [a, b] = withNetns(ns.name, () => [openTap({ name: "gt%d" }), openTap({ name: "gt%d" })]);
  try {
    assert.deepEqual([a.name, b.name], ["gt0", "gt1"]);
    assert.equal(a.mtu, 1500); // a new TAP starts at ETH_DATA_LEN
    assert.equal(withNetns(ns.name, () => getMtu("gt1")), 1500);
    // Only in the namespace: no interface of this (root) namespace has its MAC.
    const mac = macBytes(withNetns(ns.name, () => getMac("gt0")))
      .map((byte) => byte.toString(16).padStart(2, "0")).join(":");
    const root = await new Deno.Command("ip", { args: ["-j", "link", "show"] }).output();
    assert.equal(root.code, 0);
    const rootMacs = JSON.parse(new TextDecoder().decode(root.stdout))
      .map((l: { address?: string }) => l.address);
    assert.ok(!rootMacs.includes(mac));
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("only one receiver at a time", async () => {
  await using ns = await createTestNamespace();
  const tap = withNetns(ns.name, () => openTap({ name: "gonet0" }));
  try {
    const first = tap.receive();
    const pending = first.next(); // now parked in poll
    await assert.rejects(() => tap.receive().next(), /already has a receiver/);
    await within(tap.close(), 2000, "close()");
    assert.deepEqual(await pending, { done: true, value: undefined });
  } finally {
    await tap.close();
  }
});

Deno.test("copyBehindPlainHeader writes a zero vnet header, then the frame, and nothing past it", () => {
  const tx = new Uint8Array(VNET_HDR_BYTES + 8).fill(0xee);
  copyBehindPlainHeader(tx, Uint8Array.of(1, 2, 3, 4, 5));
  assert.deepEqual(
    [...tx],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 0xee, 0xee, 0xee],
  );
});
