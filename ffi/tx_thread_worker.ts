/**
 * The TAP's transmit thread (a Worker started by `tx_thread.ts`): takes frames from the ring in
 * order and writes each to the TAP fd. Writing a frame to a TAP makes the kernel deliver it
 * inside the `write(2)` (the peer's TCP runs there), so this thread carries that cost on another
 * core instead of the stack's JS thread. With nothing queued it sleeps in `Atomics.wait` until the
 * producer publishes or closes. (It does not spin first: on two cores, the cycles it would burn
 * are the ones the peer needs; measured, 50 us of spinning cut the connection rate by a third.)
 * @module
 */

/// <reference lib="deno.worker" />

import { pinCallingThread } from "./affinity.ts";
import { write } from "./libc.ts";
import { TxRing } from "./tx_ring.ts";

/** What the producer sends to start the thread. */
export interface TxThreadStart {
  /** The ring's shared memory. */
  buffer: SharedArrayBuffer;
  /** The TAP fd (file descriptors are shared by every thread of the process). */
  fd: number;
  /** CPUs this thread may use (the process's when it was started), if known. */
  cpus?: number[];
}

/** The longest sleep before looking at the ring again, ms (a lost wake-up costs at most this). */
const SLEEP_MS = 1000;

/** Writes frames until the ring is closed and empty, then reports that it stopped. */
function run({ buffer, fd }: TxThreadStart): void {
  const ring = new TxRing(buffer);
  for (;;) {
    const offset = ring.next();
    if (offset >= 0) {
      // After an abort the fd may be closed (and its number reused): touch it no more.
      if (!ring.beginWrite()) break;
      const length = ring.recordLength;
      const written = write(fd, ring.data.subarray(offset, offset + length));
      ring.endWrite();
      if (written !== length) ring.countFailure(length);
      ring.release();
    } else if (ring.closed) break;
    else ring.waitForRecord(SLEEP_MS);
  }
  self.postMessage("stopped");
}

self.onmessage = (event: MessageEvent<TxThreadStart>) => {
  if (event.data.cpus) pinCallingThread(event.data.cpus);
  self.postMessage("running");
  run(event.data);
  self.close();
};
