import assert from "node:assert/strict";
import {
  close,
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  eventfd,
  F_GETFL,
  fcntl,
  O_NONBLOCK,
  poll,
  pollAsync,
  POLLFD_BYTES,
  POLLIN,
  read,
  write,
} from "./libc.ts";
import { Errno, lastErrno } from "./errno.ts";

/** An eventfd: its 8-byte counter makes read/write/poll testable without any device. */
function withEventFd(fn: (fd: number) => Promise<void> | void): Promise<void> | void {
  const fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  assert.ok(fd >= 0);
  let result: Promise<void> | void;
  try {
    result = fn(fd);
  } catch (err) {
    close(fd);
    throw err;
  }
  if (result instanceof Promise) return result.finally(() => close(fd));
  close(fd);
}

function counter(value: number): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(value), true);
  return bytes;
}

function pollFd(fd: number): Uint8Array {
  const bytes = new Uint8Array(POLLFD_BYTES);
  const view = new DataView(bytes.buffer);
  view.setInt32(0, fd, true);
  view.setInt16(4, POLLIN, true);
  return bytes;
}

Deno.test("read and write move bytes with 32-bit counts; EAGAIN when nothing is ready", () =>
  withEventFd((fd) => {
    const buf = new Uint8Array(8);
    assert.equal(read(fd, buf), -1);
    assert.equal(lastErrno(), Errno.EAGAIN);
    assert.equal(write(fd, counter(3)), 8);
    assert.equal(write(fd, counter(4)), 8);
    assert.equal(read(fd, buf), 8);
    assert.deepEqual(buf, counter(7)); // eventfd(2): a read returns the sum and resets it
  }));

Deno.test("read honours the byteOffset of a subarray", () =>
  withEventFd((fd) => {
    const arena = new Uint8Array(24).fill(0xee);
    assert.equal(write(fd, counter(0x0102)), 8);
    assert.equal(read(fd, arena.subarray(8, 16)), 8);
    assert.deepEqual(arena.subarray(0, 8), new Uint8Array(8).fill(0xee));
    assert.deepEqual(arena.subarray(8, 16), counter(0x0102));
    assert.deepEqual(arena.subarray(16), new Uint8Array(8).fill(0xee));
  }));

Deno.test("fcntl F_GETFL reports O_NONBLOCK", () =>
  withEventFd((fd) => {
    assert.equal(fcntl(fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
  }));

Deno.test("sync poll times out empty and reports POLLIN once readable", () =>
  withEventFd((fd) => {
    const fds = pollFd(fd);
    assert.equal(poll(fds, 1, 0), 0);
    // A timeout never ends early: the nanoseconds field carries the fraction of a millisecond.
    let start = performance.now();
    assert.equal(poll(fds, 1, 1500), 0);
    assert.ok(performance.now() - start >= 1.4, "a 1.5 ms timeout");
    write(fd, counter(1));
    assert.equal(poll(fds, 1, 0), 1);
    // Ready at once, whatever the timeout (2 s: the seconds field).
    start = performance.now();
    assert.equal(poll(fds, 1, 2_000_000), 1);
    assert.ok(performance.now() - start < 1000);
    for (const bad of [-1, NaN, Infinity, 2 ** 32]) {
      assert.throws(() => poll(fds, 1, bad), RangeError);
    }
    assert.equal(new DataView(fds.buffer).getInt16(6, true), POLLIN);
  }));

Deno.test("async poll waits off the JS thread until another write makes the fd readable", () =>
  withEventFd(async (fd) => {
    const fds = pollFd(fd);
    const pending = pollAsync(fds, 1, 5000);
    let settled = false;
    pending.then(() => settled = true);
    // Timers still fire while the poll waits, so the JS thread is free; nothing is readable yet.
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(settled, false);
    assert.equal(write(fd, counter(1)), 8);
    assert.equal(await pending, 1);
    assert.equal(new DataView(fds.buffer).getInt16(6, true), POLLIN);
  }));
