/**
 * The epoll instances of this process's event loops, for a `poll(2)` on the JS thread that must
 * still wake when the event loop has work.
 *
 * Deno's runtime (tokio) waits for sockets, pipes and signals in one epoll instance. An epoll fd
 * is itself pollable: it reads as ready while it holds events nobody has collected, so adding it
 * to our own `poll` set ends our wait when such I/O arrives. Timers are not fds, and tokio kicks
 * its cross-thread waker (an eventfd in the same epoll) only while the thread sleeps in tokio's
 * own wait, so thread-pool completions do not end ours either: the caller bounds its wait for
 * those (`inline_wait.ts`).
 *
 * Found through /proc/self/fd (`anon_inode:[eventpoll]`), which needs read permission on all of
 * /proc/self (`--allow-read`; `--allow-read=/proc/self/fd` is not enough for the link targets).
 * Polling is read-only: we never collect the events, the event loop does on a later turn.
 * @module
 */

const EPOLL_LINK = "anon_inode:[eventpoll]";

/**
 * File descriptors of every epoll instance open in this process, found at call time. Empty when
 * /proc is unavailable or unreadable (no `--allow-read`): callers then rely on their time bound.
 * @example
 * ```ts
 * const fds = eventLoopPollFds(); // e.g. [3, 5] in a fresh Deno process
 * ```
 */
export function eventLoopPollFds(): number[] {
  const fds: number[] = [];
  try {
    for (const entry of Deno.readDirSync("/proc/self/fd")) {
      try {
        if (Deno.readLinkSync(`/proc/self/fd/${entry.name}`) === EPOLL_LINK) {
          fds.push(Number(entry.name));
        }
      } catch {
        // The fd closed between listing and reading (the listing's own fd does): skip it.
      }
    }
  } catch {
    return [];
  }
  return fds;
}
