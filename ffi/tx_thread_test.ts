import assert from "node:assert/strict";
import { pushFrame } from "../tests/helpers/tx_ring.ts";
import { eventLoopPollFds } from "./event_loop_fds.ts";
import { close, O_CLOEXEC, O_RDONLY, O_RDWR, open } from "./libc.ts";
import { startTxThread } from "./tx_thread.ts";

Deno.test("a transmit thread names its own event loop's epoll fds once it runs", async () => {
  const fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  assert.ok(fd >= 0);
  const before = new Set(eventLoopPollFds());
  let running!: () => void;
  const started = new Promise<void>((resolve) => running = resolve);
  const tx = startTxThread(fd, { onRunning: () => running() });
  try {
    assert.deepEqual(tx.epollFds, [], "unknown before it runs");
    await started;
    assert.ok(tx.epollFds.length >= 1);
    const now = new Set(eventLoopPollFds());
    for (const epollFd of tx.epollFds) {
      assert.ok(now.has(epollFd) && !before.has(epollFd), `fd ${epollFd} is the worker's`);
    }
  } finally {
    await tx.close();
    close(fd);
  }
});

Deno.test("a transmit thread writes what is queued before close() resolves", async () => {
  // Frames to /dev/null all succeed; to a read-only fd they all fail, and are counted.
  for (const [flags, failures] of [[O_RDWR, 0], [O_RDONLY, 200]] as const) {
    const fd = open("/dev/null", flags | O_CLOEXEC);
    const tx = startTxThread(fd, { ringBytes: 64 * 1024 });
    let queued = 0;
    for (let i = 0; i < 200; i++) {
      if (pushFrame(tx.ring, new Uint8Array(100).fill(i))) queued++;
    }
    assert.equal(queued, 200);
    await tx.close();
    assert.equal(tx.ring.drained, true, "every queued frame was taken");
    assert.equal(tx.ring.failed, failures);
    close(fd);
  }
});
