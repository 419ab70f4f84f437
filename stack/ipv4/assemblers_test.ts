import assert from "node:assert/strict";
import { ManualClock, SeededRandom } from "../clock.ts";
import { emitIpv4Header, Ipv4Packet, type Ipv4Repr } from "../wire/ipv4.ts";
import { AssemblerPool, type AssemblerPoolOptions } from "./assemblers.ts";
import { fragmentIpv4 } from "./fragmenter.ts";
import { REASSEMBLY_FRAGMENT_OVERHEAD_BYTES } from "./reassembly.ts";

const REPR: Ipv4Repr = {
  source: 0x0a00_0001,
  destination: 0x0a00_0002,
  protocol: 17,
  ttl: 64,
  payloadLength: 0,
};

function payloadOf(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);
}

/** The datagram a sender would emit unfragmented: header without flags, then the payload. */
function whole(repr: Ipv4Repr, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(20 + payload.length);
  emitIpv4Header({ ...repr, payloadLength: payload.length }, out);
  out.set(payload, 20);
  return out;
}

function fragments(repr: Ipv4Repr, payload: Uint8Array, mtu: number): Ipv4Packet[] {
  return fragmentIpv4(repr, payload, mtu).map((bytes) => new Ipv4Packet(bytes));
}

interface Harness {
  clock: ManualClock;
  pool: AssemblerPool;
  completed: Uint8Array[];
  timedOut: Ipv4Packet[];
}

function harness(options: Partial<AssemblerPoolOptions> = {}): Harness {
  const clock = new ManualClock();
  const completed: Uint8Array[] = [];
  const timedOut: Ipv4Packet[] = [];
  const pool = new AssemblerPool({
    clock,
    onComplete: (datagram) => completed.push(datagram),
    onTimeout: (first) => timedOut.push(first),
    ...options,
  });
  return { clock, pool, completed, timedOut };
}

/** Closes the pool and checks that nothing is left running: tasks, timers, bytes. */
async function shutDown({ pool, clock }: Harness): Promise<void> {
  pool.close();
  await pool.settled();
  assert.equal(pool.runningTasks, 0);
  assert.equal(clock.pendingTimers, 0);
  assert.equal(pool.stats.active, 0);
  assert.equal(pool.stats.heldBytes, 0);
}

Deno.test("assemblers: shuffled fragments rebuild the datagram in one task", async () => {
  const h = harness();
  const random = new SeededRandom(7);
  const payload = payloadOf(5000, 1);
  const repr = { ...REPR, identification: 0x1234 };
  const parts = fragments(repr, payload, 576);
  for (let i = parts.length - 1; i > 0; i--) {
    const j = random.nextU32() % (i + 1);
    [parts[i], parts[j]] = [parts[j], parts[i]];
  }
  for (const part of parts) h.pool.deliver(part);
  assert.equal(h.pool.stats.started, 1);
  assert.equal(h.pool.runningTasks, 1);
  await h.pool.whenIdle();
  assert.equal(h.completed.length, 1);
  assert.deepEqual(h.completed[0], whole(repr, payload));
  assert.equal(h.pool.stats.completed, 1);
  assert.equal(h.pool.stats.active, 0);
  assert.equal(h.pool.stats.heldBytes, 0);
  assert.equal(h.clock.pendingTimers, 0, "the finished task's timer is cancelled");
  await h.pool.settled();
  assert.equal(h.pool.runningTasks, 0, "the finished task has returned");
  await shutDown(h);
});

Deno.test("assemblers: interleaved datagrams are kept apart by their key", async () => {
  const h = harness();
  const a = { ...REPR, identification: 1 };
  const b = { ...REPR, identification: 2 };
  const c = { ...REPR, identification: 1, source: 0x0a00_0003 }; // same id, other source
  const d = { ...REPR, identification: 1, protocol: 1 }; // same id, other protocol
  const payloads = [payloadOf(3000, 1), payloadOf(2000, 2), payloadOf(4000, 3), payloadOf(100, 4)];
  const sets = [a, b, c, d].map((repr, i) => fragments(repr, payloads[i], i === 3 ? 68 : 1500));
  const longest = Math.max(...sets.map((s) => s.length));
  for (let i = 0; i < longest; i++) for (const set of sets) if (set[i]) h.pool.deliver(set[i]);
  assert.equal(h.pool.stats.started, 4);
  await h.pool.whenIdle();
  assert.equal(h.completed.length, 4);
  const byLength = new Map(h.completed.map((datagram) => [datagram.length, datagram]));
  [a, b, c, d].forEach((repr, i) => {
    assert.deepEqual(byLength.get(20 + payloads[i].length), whole(repr, payloads[i]));
  });
  await shutDown(h);
});

Deno.test("assemblers: duplicates are counted and do not disturb the result", async () => {
  const h = harness();
  const payload = payloadOf(3000, 5);
  const parts = fragments({ ...REPR, identification: 9 }, payload, 1500);
  h.pool.deliver(parts[0]);
  h.pool.deliver(parts[0]);
  h.pool.deliver(parts[1]);
  h.pool.deliver(parts[1]);
  await h.pool.whenIdle();
  assert.equal(h.pool.stats.duplicates, 2);
  // The duplicates' bytes were given back: only two fragments are held.
  assert.equal(h.pool.stats.heldBytes, 2 * (1500 + REASSEMBLY_FRAGMENT_OVERHEAD_BYTES));
  h.pool.deliver(parts[2]);
  await h.pool.whenIdle();
  assert.equal(h.completed.length, 1);
  assert.deepEqual(h.completed[0], whole({ ...REPR, identification: 9 }, payload));
  await shutDown(h);
});

Deno.test("assemblers: an overlap (teardrop) drops the datagram", async () => {
  const h = harness();
  const repr = { ...REPR, identification: 0x7ead };
  // Teardrop-style: 32 bytes at offset 0 with MF, then a last fragment of 4 bytes at offset 24,
  // lying inside the first.
  const first = fragmentIpv4({ ...repr, moreFragments: true }, payloadOf(32, 1), 1500)[0];
  const second = fragmentIpv4({ ...repr, fragmentOffset: 24 }, payloadOf(4, 2), 1500)[0];
  h.pool.deliver(new Ipv4Packet(first));
  h.pool.deliver(new Ipv4Packet(second));
  await h.pool.whenIdle();
  assert.equal(h.completed.length, 0);
  assert.equal(h.pool.stats.overlaps, 1);
  assert.equal(h.pool.stats.active, 0);
  assert.equal(h.pool.stats.heldBytes, 0);
  assert.equal(h.clock.pendingTimers, 0);
  // A clean retransmission afterwards is a new assembly and completes.
  const payload = payloadOf(3000, 3);
  for (const part of fragments(repr, payload, 1500)) h.pool.deliver(part);
  await h.pool.whenIdle();
  assert.equal(h.pool.stats.started, 2);
  assert.deepEqual(h.completed, [whole(repr, payload)]);
  h.clock.advance(60_000);
  assert.equal(h.timedOut.length, 0);
  await shutDown(h);
});

Deno.test("assemblers: a missing fragment times out, reporting the first fragment", async () => {
  const h = harness();
  const repr = { ...REPR, identification: 0x0bad };
  const parts = fragments(repr, payloadOf(4000, 1), 1500);
  const firstBytes = parts[0].bytes.slice();
  h.pool.deliver(parts[0]);
  h.clock.advance(10_000);
  h.pool.deliver(parts[2]); // the timer runs from the first arrival, not the latest
  await h.pool.whenIdle();
  parts[0].bytes.fill(0); // the pool holds its own copy
  h.clock.advance(19_999);
  assert.equal(h.timedOut.length, 0);
  assert.equal(h.pool.stats.active, 1);
  h.clock.advance(1);
  assert.equal(h.timedOut.length, 1);
  assert.deepEqual(h.timedOut[0].bytes, firstBytes);
  assert.equal(h.timedOut[0].fragmentOffset, 0);
  assert.equal(h.timedOut[0].identification, 0x0bad);
  assert.equal(h.pool.stats.timedOut, 1);
  assert.equal(h.pool.stats.active, 0);
  assert.equal(h.pool.stats.heldBytes, 0);
  // The late fragment starts a fresh assembly that will time out on its own.
  h.pool.deliver(parts[1]);
  assert.equal(h.pool.stats.started, 2);
  await h.pool.whenIdle();
  assert.equal(h.completed.length, 0);
  await shutDown(h);
});

Deno.test("assemblers: without the first fragment a timeout is silent", async () => {
  const h = harness({ timeoutMs: 5000 });
  const parts = fragments({ ...REPR, identification: 3 }, payloadOf(4000, 1), 1500);
  h.pool.deliver(parts[1]);
  h.pool.deliver(parts[2]);
  await h.pool.whenIdle();
  h.clock.advance(5000);
  assert.equal(h.pool.stats.timedOut, 1);
  assert.equal(h.timedOut.length, 0, "no ICMP time exceeded without fragment zero");
  await h.pool.settled();
  assert.equal(h.pool.runningTasks, 0);
  await shutDown(h);
});

Deno.test("assemblers: a datagram over 65535 bytes is dropped (ping of death)", async () => {
  const h = harness();
  const repr = { ...REPR, protocol: 1, identification: 0xdead };
  // 65510 bytes in fragments of 1480, then a last piece at 65512 of 100 bytes: 65632 in all.
  const body = fragments({ ...repr, moreFragments: true }, payloadOf(65512, 1), 1500);
  const tail = fragments({ ...repr, fragmentOffset: 65512 }, payloadOf(100, 2), 1500);
  for (const part of [...body, ...tail]) h.pool.deliver(part);
  await h.pool.whenIdle();
  assert.equal(h.pool.stats.tooBig, 1);
  assert.equal(h.completed.length, 0);
  assert.equal(h.pool.stats.heldBytes, 0);
  await shutDown(h);
});

Deno.test("assemblers: a flood of incomplete datagrams stays within the byte cap", async () => {
  const maxHeldBytes = 256 * 1024;
  const h = harness({ maxHeldBytes, maxAssemblies: 100_000 });
  const random = new SeededRandom(42);
  let peak = 0;
  for (let id = 0; id < 5000; id++) {
    // One fragment (never the last) of a random size from each of thousands of datagrams.
    const size = 8 * (1 + (random.nextU32() % 185));
    const offset = 8 * (random.nextU32() % 100);
    const part = fragments(
      {
        ...REPR,
        identification: id & 0xffff,
        source: 0x0b00_0000 + (id >>> 16),
        fragmentOffset: offset,
        moreFragments: true,
      },
      payloadOf(size, id),
      1500,
    )[0];
    h.pool.deliver(part);
    peak = Math.max(peak, h.pool.stats.heldBytes);
    assert.ok(h.pool.stats.heldBytes <= maxHeldBytes, `after datagram ${id}`);
    assert.ok(h.pool.stats.active < 1000);
    if (id % 500 === 0) await h.pool.whenIdle();
  }
  await h.pool.whenIdle();
  assert.ok(peak > maxHeldBytes * 0.9, "the cap was actually reached");
  const { started, evicted, active } = h.pool.stats;
  assert.equal(started, 5000);
  assert.equal(evicted, started - active);
  assert.ok(evicted > 4000);
  // Evicted assemblies cancelled their timers; only the active ones still hold one.
  assert.equal(h.clock.pendingTimers, active);
  await shutDown(h);
});

Deno.test("assemblers: at most maxAssemblies at once, the oldest evicted first", async () => {
  const h = harness({ maxAssemblies: 256 });
  const sets: Ipv4Packet[][] = [];
  const payloads: Uint8Array[] = [];
  for (let id = 0; id < 300; id++) {
    payloads.push(payloadOf(2000, id));
    sets.push(fragments({ ...REPR, identification: id }, payloads[id], 1500));
    h.pool.deliver(sets[id][0]);
  }
  assert.equal(h.pool.stats.active, 256);
  assert.equal(h.pool.stats.evicted, 44);
  await h.pool.whenIdle();
  // Datagram 0 was evicted: its last fragment alone cannot complete it.
  h.pool.deliver(sets[0][1]);
  // Datagram 299 is still there and completes.
  h.pool.deliver(sets[299][1]);
  await h.pool.whenIdle();
  assert.equal(h.completed.length, 1);
  assert.deepEqual(h.completed[0], whole({ ...REPR, identification: 299 }, payloads[299]));
  assert.equal(h.pool.stats.evicted, 45, "datagram 0's new assembly pushed out the oldest");
  await shutDown(h);
});

Deno.test("assemblers: a datagram larger than the whole cap is given up", async () => {
  const h = harness({ maxHeldBytes: 4000 });
  const parts = fragments({ ...REPR, identification: 5 }, payloadOf(6000, 1), 1500);
  for (const part of parts) h.pool.deliver(part);
  await h.pool.whenIdle();
  assert.equal(h.completed.length, 0);
  assert.ok(h.pool.stats.heldBytes <= 4000);
  assert.equal(h.pool.stats.evicted, 1);
  assert.ok(h.pool.stats.queueDrops >= 1);
  await shutDown(h);
});

Deno.test("assemblers: the caller may reuse its buffer right after deliver", async () => {
  const h = harness();
  const repr = { ...REPR, identification: 77 };
  const payload = payloadOf(3000, 8);
  const scratch = new Uint8Array(2000);
  for (const bytes of fragmentIpv4(repr, payload, 1500)) {
    scratch.set(bytes);
    h.pool.deliver(new Ipv4Packet(scratch.subarray(0, bytes.length)));
    scratch.fill(0xee);
  }
  await h.pool.whenIdle();
  assert.deepEqual(h.completed, [whole(repr, payload)]);
  await shutDown(h);
});

Deno.test("assemblers: close ends every task and refuses new fragments", async () => {
  const h = harness();
  for (let id = 0; id < 10; id++) {
    h.pool.deliver(fragments({ ...REPR, identification: id }, payloadOf(3000, id), 1500)[0]);
  }
  assert.equal(h.pool.runningTasks, 10);
  h.pool.close();
  assert.equal(h.pool.stats.active, 0);
  assert.equal(h.pool.stats.heldBytes, 0);
  assert.equal(h.clock.pendingTimers, 0);
  await h.pool.whenIdle();
  await h.pool.settled();
  assert.equal(h.pool.runningTasks, 0);
  h.pool.deliver(fragments({ ...REPR, identification: 99 }, payloadOf(3000, 1), 1500)[0]);
  assert.equal(h.pool.stats.queueDrops, 1);
  assert.equal(h.pool.stats.started, 10);
  h.clock.advance(60_000);
  assert.equal(h.timedOut.length, 0);
});
