/**
 * Network namespaces from inside one process: run a synchronous function with the JS thread
 * switched into a named namespace (the ones `ip netns add` creates under /var/run/netns).
 *
 * Why only synchronous: `setns(2)` moves the calling *thread*. Deno runs JS on one thread, but
 * async ops (file I/O, `nonblocking` FFI calls, DNS) run on other threads, which stay in the
 * original namespace, and any `await` would let unrelated JS run in the switched one. A
 * synchronous function sees a consistent namespace from start to end.
 *
 * What a namespace captures is fixed at creation: a TAP fd opened inside, a socket created inside
 * stay in that namespace for life, and can be read and written from anywhere afterwards.
 * @module
 */

import { check, errnoError } from "./errno.ts";
import { CLONE_NEWNET, close, O_CLOEXEC, O_RDONLY, open, setns } from "./libc.ts";

/** Where `ip netns` keeps its named namespaces (bind mounts of nsfs files). */
export const NETNS_RUN_DIR = "/var/run/netns";

// The namespace of this thread, not of the process leader (/proc/self): they differ inside
// withNetns and in Workers.
const THREAD_NETNS = "/proc/thread-self/ns/net";

/**
 * Runs `fn` with the calling thread in network namespace `name` and switches back afterwards,
 * also when `fn` throws. `name` is a name under /var/run/netns, or an absolute path to an nsfs
 * file such as `/proc/1234/ns/net`. Calls may nest.
 * @throws {ErrnoError} `ENOENT` when the namespace does not exist, `EPERM` without
 *   CAP_SYS_ADMIN.
 * @throws {TypeError} when `fn` returns a promise (its async part would run in the wrong
 *   namespace).
 * @example
 * ```ts
 * const tap = withNetns("gonet-test", () => openTap({ name: "gonet0" }));
 * ```
 */
export function withNetns<T>(name: string, fn: () => T): T {
  const path = namespacePath(name);
  const original = check(open(THREAD_NETNS, O_RDONLY | O_CLOEXEC), `open ${THREAD_NETNS}`);
  try {
    const target = check(open(path, O_RDONLY | O_CLOEXEC), `open network namespace ${path}`);
    try {
      check(setns(target, CLONE_NEWNET), `setns ${path}`);
    } finally {
      close(target);
    }
    let result: T | undefined;
    let failure: { error: unknown } | undefined;
    try {
      result = fn();
    } catch (error) {
      failure = { error };
    }
    // Staying in the wrong namespace would silently misdirect everything after this, so a
    // failure to switch back wins over an error from fn.
    if (setns(original, CLONE_NEWNET) < 0) {
      throw errnoError("setns back to the original network namespace");
    }
    if (failure !== undefined) throw failure.error;
    if (typeof (result as { then?: unknown } | null)?.then === "function") {
      throw new TypeError(`withNetns(${name}) needs a synchronous function, got a promise`);
    }
    return result as T;
  } finally {
    close(original);
  }
}

/**
 * An identifier of the calling thread's network namespace: the inode number of its nsfs file,
 * as `ip netns identify` and `lsns` use. Equal in two processes exactly when they share the
 * namespace, so it can name per-namespace resources such as control sockets.
 * @example
 * ```ts
 * const socketPath = `/run/gonet/${currentNetnsId()}.sock`;
 * ```
 */
export function currentNetnsId(): string {
  return String(Deno.statSync(THREAD_NETNS).ino);
}

function namespacePath(name: string): string {
  if (name.startsWith("/")) return name;
  if (name === "" || name === "." || name === ".." || name.includes("/")) {
    throw new RangeError(`Invalid network namespace name ${JSON.stringify(name)}`);
  }
  return `${NETNS_RUN_DIR}/${name}`;
}
