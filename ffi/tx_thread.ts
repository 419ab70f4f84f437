/**
 * A transmit thread for a TAP: frames queued on the JS thread are written by a Worker of their
 * own, through a {@link TxRing}. On a TAP, `write(2)` is where the kernel runs its side of the
 * frame (a kernel TCP peer processes our ACK and sends its next segments inside our call), which
 * under load is most of the stack's thread time; the transmit thread moves that to another core.
 * @module
 */

import { allowedCpus } from "./affinity.ts";
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
const STOP_TIMEOUT_MS = 2000;
/** How long {@link TxThread.close} then waits for a write in progress to end, ms. */
const ABORT_TIMEOUT_MS = 100;

/** The event-loop epoll fds of every running transmit thread in this process. */
const threadEpollFds = new Set<number>();

/**
 * The event-loop epoll fds of every running transmit thread: each blocks in `Atomics.wait`, so
 * its epoll reads as ready for good, and an inline wait on the JS thread must leave them all out.
 */
export function transmitThreadEpollFds(): number[] {
  return [...threadEpollFds];
}

/** The producer's side of a running transmit thread. */
export interface TxThread {
  /** The ring to queue frames in ({@link TxRing.reserve}, then {@link TxRing.publish}). */
  readonly ring: TxRing;
  /**
   * The thread's own event-loop epoll fds (empty until it runs), found as the epoll instances
   * that appeared with it: one made elsewhere at the same moment would be counted too.
   */
  readonly epollFds: readonly number[];
  /**
   * Stops the thread once it has written what is queued (waiting up to two seconds, then
   * forbidding further writes), so the fd can be closed safely once this resolves.
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
  // The CPUs the process has now: the JS thread may be pinned later (`gonet up --cpu`), and the
  // Worker's thread, which the runtime may start after that, must not inherit it.
  const start: TxThreadStart = { buffer: ring.buffer, fd, cpus: allowedCpus() };
  let epollFds: readonly number[] = [];
  const stopped = new Promise<void>((resolve) => {
    worker.onmessage = (event: MessageEvent<string>) => {
      if (event.data !== "running") return resolve();
      // The epoll fds that appeared with the worker are its event loop's.
      epollFds = eventLoopPollFds().filter((fd) => !before.has(fd));
      for (const fd of epollFds) threadEpollFds.add(fd);
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
        await Promise.race([stopped, new Promise((r) => timer = setTimeout(r, STOP_TIMEOUT_MS))]);
        clearTimeout(timer);
        // A thread that has not stopped by now (it never got going) may write no more: after
        // abort() it is out of any write, and terminate() ends it before it could start one.
        ring.abort(ABORT_TIMEOUT_MS);
        worker.terminate();
        for (const fd of epollFds) threadEpollFds.delete(fd);
      })();
    },
  };
}
