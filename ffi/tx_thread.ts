/**
 * A transmit thread for a TAP: frames queued on the JS thread are written by a Worker of their
 * own, through a {@link TxRing}. On a TAP, `write(2)` is where the kernel runs its side of the
 * frame (a kernel TCP peer processes our ACK and sends its next segments inside our call), which
 * under load is most of the stack's thread time; the transmit thread moves that to another core.
 * @module
 */

import { eventLoopPollFds } from "./event_loop_fds.ts";
import { TxRing } from "./tx_ring.ts";
import type { TxThreadStart } from "./tx_thread_worker.ts";

/** Options of {@link startTxThread}. */
export interface TxThreadOptions {
  /** Ring bytes (a power of two). Default 4 MiB: about 60 offloaded 64 KB frames. */
  ringBytes?: number;
  /** Called once the thread runs and {@link TxThread.epollFds} is known. */
  onRunning?: () => void;
}

/** How long {@link TxThread.close} waits for the thread to finish its frames, ms. */
const STOP_TIMEOUT_MS = 1000;

/** The producer's side of a running transmit thread. */
export interface TxThread {
  /** The ring to queue frames in ({@link TxRing.reserve}, then {@link TxRing.publish}). */
  readonly ring: TxRing;
  /**
   * The thread's own event-loop epoll fds (empty until it runs). It blocks in `Atomics.wait`, so
   * they read as ready for good: an inline wait on the JS thread must leave them out.
   */
  readonly epollFds: readonly number[];
  /**
   * Stops the thread once it has written what is queued (waiting up to a second), so the fd can
   * be closed safely once this resolves.
   */
  close(): Promise<void>;
}

/** Starts a transmit thread writing to `fd`. */
export function startTxThread(fd: number, options: TxThreadOptions = {}): TxThread {
  const ring = new TxRing({ capacity: options.ringBytes ?? 4 * 1024 * 1024 });
  const before = new Set(eventLoopPollFds());
  const worker = new Worker(new URL("./tx_thread_worker.ts", import.meta.url).href, {
    type: "module",
  });
  const start: TxThreadStart = { buffer: ring.buffer, fd };
  let epollFds: readonly number[] = [];
  const stopped = new Promise<void>((resolve) => {
    worker.onmessage = (event: MessageEvent<string>) => {
      if (event.data !== "running") return resolve();
      // The epoll fds that appeared with the worker are its event loop's.
      epollFds = eventLoopPollFds().filter((fd) => !before.has(fd));
      options.onRunning?.();
    };
  });
  worker.postMessage(start);
  let closing: Promise<void> | undefined;
  return {
    ring,
    get epollFds() {
      return epollFds;
    },
    close() {
      return closing ??= (async () => {
        ring.close();
        let timer: ReturnType<typeof setTimeout> | undefined;
        // A worker that never got going is stopped by terminate(), which also keeps it from
        // ever touching the fd afterwards.
        await Promise.race([stopped, new Promise((r) => timer = setTimeout(r, STOP_TIMEOUT_MS))]);
        clearTimeout(timer);
        worker.terminate();
      })();
    },
  };
}
