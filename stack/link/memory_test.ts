import assert from "node:assert/strict";
import type { LinkDevice } from "./link.ts";
import { createMemoryLinkPair } from "./memory.ts";

/** Collects every frame `link` yields until its receive iteration ends. */
async function collect(link: LinkDevice): Promise<Uint8Array[][]> {
  const batches: Uint8Array[][] = [];
  for await (const batch of link.receive()) batches.push(batch);
  return batches;
}

Deno.test("memory link: defaults and names", () => {
  const [a, b] = createMemoryLinkPair();
  assert.equal(a.name, "mem0");
  assert.equal(b.name, "mem1");
  assert.equal(a.mtu, 1500);
  assert.equal(b.mtu, 1500);
  const [c] = createMemoryLinkPair({ mtu: 9000 });
  assert.equal(c.mtu, 9000);
});

Deno.test("memory link: what one end writes, the other receives, in order, in one batch", async () => {
  const [a, b] = createMemoryLinkPair();
  assert.equal(a.write(Uint8Array.of(1, 2, 3)), true);
  assert.equal(a.write(Uint8Array.of(4)), true);
  assert.equal(b.write(Uint8Array.of(9, 9)), true);
  await b.close();
  await a.close();
  assert.deepEqual(await collect(b), [[Uint8Array.of(1, 2, 3), Uint8Array.of(4)]]);
  assert.deepEqual(await collect(a), [[Uint8Array.of(9, 9)]]);
});

Deno.test("memory link: counters on both ends", async () => {
  const [a, b] = createMemoryLinkPair();
  a.write(new Uint8Array(60));
  a.write(new Uint8Array(100));
  assert.deepEqual(a.stats, { rxFrames: 0, rxBytes: 0, txFrames: 2, txBytes: 160, txDrops: 0 });
  await b.close();
  await collect(b);
  assert.deepEqual(b.stats, { rxFrames: 2, rxBytes: 160, txFrames: 0, txBytes: 0, txDrops: 0 });
});

Deno.test("memory link: write copies the frame, so the caller may reuse its buffer", async () => {
  const [a, b] = createMemoryLinkPair();
  const buf = Uint8Array.of(1, 2, 3, 4);
  a.write(buf);
  buf.fill(0xee);
  a.write(buf.subarray(1, 3));
  await b.close();
  const [batch] = await collect(b);
  assert.deepEqual(batch, [Uint8Array.of(1, 2, 3, 4), Uint8Array.of(0xee, 0xee)]);
  assert.notEqual(batch[0].buffer, buf.buffer);
});

Deno.test("memory link: a full receive queue drops and counts on the sender", async () => {
  const [a, b] = createMemoryLinkPair({ queueFrames: 2 });
  assert.equal(a.write(Uint8Array.of(1)), true);
  assert.equal(a.write(Uint8Array.of(2)), true);
  assert.equal(a.write(Uint8Array.of(3)), false);
  assert.deepEqual(a.stats, { rxFrames: 0, rxBytes: 0, txFrames: 2, txBytes: 2, txDrops: 1 });
  await b.close();
  assert.deepEqual(await collect(b), [[Uint8Array.of(1), Uint8Array.of(2)]]);
});

Deno.test("memory link: receive yields frames as they arrive, one batch per wakeup", async () => {
  const [a, b] = createMemoryLinkPair();
  const it = b.receive()[Symbol.asyncIterator]();
  a.write(Uint8Array.of(1));
  assert.deepEqual(await it.next(), { done: false, value: [Uint8Array.of(1)] });
  const pending = it.next();
  a.write(Uint8Array.of(2));
  a.write(Uint8Array.of(3));
  // Both writes happen before the woken receiver runs, so they arrive together.
  assert.deepEqual(await pending, { done: false, value: [Uint8Array.of(2), Uint8Array.of(3)] });
  await b.close();
  assert.deepEqual(await it.next(), { done: true, value: undefined });
});

Deno.test("memory link: close ends receive after queued frames; writes to or from it fail", async () => {
  const [a, b] = createMemoryLinkPair();
  a.write(Uint8Array.of(7));
  await b.close();
  await b.close(); // idempotent
  assert.equal(a.write(Uint8Array.of(8)), false, "peer closed");
  assert.equal(b.write(Uint8Array.of(9)), false, "own end closed");
  assert.equal(a.stats.txDrops, 1);
  assert.equal(b.stats.txDrops, 1);
  assert.deepEqual(await collect(b), [[Uint8Array.of(7)]]);
  await a.close();
  assert.deepEqual(await collect(a), [], "b's write after close never reached a");
});
