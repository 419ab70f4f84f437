import assert from "node:assert/strict";
import { pushFrame } from "../tests/helpers/tx_ring.ts";
import { TxRing } from "./tx_ring.ts";

/** A frame of `length` bytes whose contents tell which frame it is. */
function frame(id: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (id * 31 + i) & 0xff;
  return bytes;
}

/** Takes the next record off the consumer side (a copy), or undefined. */
function pop(ring: TxRing): Uint8Array | undefined {
  const at = ring.next();
  if (at < 0) return undefined;
  const bytes = ring.data.slice(at, at + ring.recordLength);
  ring.release();
  return bytes;
}

Deno.test("TxRing: records come out whole and in order across many wrap-arounds", () => {
  const producer = new TxRing({ capacity: 4096 });
  const consumer = new TxRing(producer.buffer);
  // Lengths from a fixed linear congruential sequence: small ACKs to near-half-ring frames.
  let seed = 12345;
  const nextLength = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return 1 + (seed % 1500);
  };
  const sent: Uint8Array[] = [];
  const received: Uint8Array[] = [];
  let id = 0;
  while (received.length < 2000) {
    // Fill until full, then drain a few: the producer and consumer chase each other round.
    for (;;) {
      const bytes = frame(id, nextLength());
      if (!pushFrame(producer, bytes)) break;
      sent.push(bytes);
      id++;
    }
    for (let i = 0; i < 3; i++) {
      const bytes = pop(consumer);
      if (bytes) received.push(bytes);
    }
  }
  for (let bytes = pop(consumer); bytes; bytes = pop(consumer)) received.push(bytes);
  assert.equal(received.length, sent.length);
  for (let i = 0; i < sent.length; i++) assert.deepEqual(received[i], sent[i], `record ${i}`);
  assert.equal(producer.drained, true);
});

Deno.test("TxRing: a full ring refuses a record until the consumer releases one", () => {
  const producer = new TxRing({ capacity: 4096 });
  const consumer = new TxRing(producer.buffer);
  // 1020 payload bytes + 4 of length = 1024: exactly four fit.
  for (let i = 0; i < 4; i++) assert.equal(pushFrame(producer, frame(i, 1020)), true);
  assert.equal(producer.reserve(1), -1);
  assert.equal(producer.drained, false);
  assert.deepEqual(pop(consumer), frame(0, 1020));
  assert.equal(pushFrame(producer, frame(4, 1020)), true);
  assert.equal(producer.reserve(1), -1);
});

Deno.test("TxRing: a record that does not fit before the end starts over at the beginning", () => {
  const producer = new TxRing({ capacity: 8192 });
  const consumer = new TxRing(producer.buffer);
  // Occupy 8000 bytes and free them: the next 1000-byte record cannot fit in the last 192.
  for (let i = 0; i < 2; i++) {
    assert.equal(pushFrame(producer, frame(i, 3996)), true);
    assert.deepEqual(pop(consumer), frame(i, 3996));
  }
  const at = producer.reserve(1000);
  assert.equal(at, 4, "the record's bytes follow its length word at offset 0");
  producer.data.set(frame(2, 1000), at);
  producer.publish();
  assert.deepEqual(pop(consumer), frame(2, 1000));
  assert.equal(producer.drained, true);
});

Deno.test("TxRing: records over half the ring are refused; capacity must be a power of two", () => {
  const ring = new TxRing({ capacity: 8192 });
  assert.equal(ring.maxRecord, 4092);
  assert.equal(ring.reserve(4093), -1);
  assert.ok(ring.reserve(4092) >= 0);
  assert.throws(() => new TxRing({ capacity: 5000 }), RangeError);
  assert.throws(() => new TxRing({ capacity: 2048 }), RangeError);
});

Deno.test("TxRing: close is seen through the shared memory", () => {
  const producer = new TxRing({ capacity: 4096 });
  const consumer = new TxRing(producer.buffer);
  assert.equal(consumer.closed, false);
  producer.close();
  assert.equal(consumer.closed, true);
});

Deno.test("TxRing: waking is needed only while the consumer sleeps", () => {
  const producer = new TxRing({ capacity: 4096 });
  assert.equal(pushFrame(producer, frame(0, 10)), true);
  assert.equal(producer.reserve(10) >= 0, true);
  assert.equal(producer.publish(), false, "no one sleeps: no notify");
});

Deno.test("TxRing: after abort, a write under way is waited for and no new one may start", () => {
  const producer = new TxRing({ capacity: 4096 });
  const consumer = new TxRing(producer.buffer);
  assert.equal(consumer.beginWrite(), true);
  assert.equal(producer.abort(0), false, "a write is under way");
  consumer.endWrite();
  assert.equal(producer.abort(0), true);
  assert.equal(consumer.beginWrite(), false);
});

Deno.test("TxRing: failures count frames and their bytes", () => {
  const producer = new TxRing({ capacity: 4096 });
  const consumer = new TxRing(producer.buffer);
  consumer.countFailure(52);
  consumer.countFailure(1524);
  assert.deepEqual([producer.failed, producer.failedBytes], [2, 1576]);
});
