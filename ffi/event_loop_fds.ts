/**
 * The epoll instances of this process's event loops, for a `poll(2)` on the JS thread that must
 * still wake when the event loop has work.
 *
 * Deno's runtime (tokio) waits for sockets, signals and its cross-thread waker (an eventfd that
 * thread-pool tasks, FFI calls and timers-on-other-threads kick) in one epoll instance. An epoll
 * fd is itself pollable: it reads as ready while it holds events nobody has collected. Adding it
 * to our own `poll` set therefore ends our wait as soon as the event loop would have woken, so a
 * receiver blocking the JS thread delays no other I/O. Only timers are not fds: the caller bounds
 * its wait instead.
 *
 * Found through /proc/self/fd (`anon_inode:[eventpoll]`). Polling is read-only: we never collect
 * the events, the event loop does on its next turn.
 * @module
 */

const EPOLL_LINK = "anon_inode:[eventpoll]";

/**
 * File descriptors of every epoll instance open in this process, found at call time. Empty when
 * /proc is unavailable or unreadable (no `--allow-read`): callers then rely on their time bound.
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
