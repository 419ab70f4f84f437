/**
 * CPU affinity of the calling thread: where the JS thread (the stack's dealers) may run, while
 * the runtime's helper threads (garbage collection, the thread pool) keep theirs. Pinning the
 * whole process instead puts the garbage collector on the JS thread's CPU too.
 * @module
 */

import { Errno, ErrnoError, lastErrno } from "./errno.ts";
import { schedSetAffinity } from "./libc.ts";

/** Bytes of glibc's `cpu_set_t` (1024 CPUs). */
const CPU_SET_BYTES = 128;

/**
 * Restricts the calling thread to `cpus` (CPU numbers). Threads it starts afterwards inherit the
 * set; threads already running keep theirs.
 * @throws {RangeError} for an empty set or a CPU number outside 0-1023.
 * @throws {ErrnoError} when the kernel refuses (EINVAL: none of the CPUs is online or allowed).
 */
export function pinCallingThread(cpus: readonly number[]): void {
  if (cpus.length === 0) throw new RangeError("Cannot pin a thread to no CPU");
  const mask = new Uint8Array(CPU_SET_BYTES);
  for (const cpu of cpus) {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= CPU_SET_BYTES * 8) {
      throw new RangeError(`Invalid CPU number ${cpu}`);
    }
    mask[cpu >> 3] |= 1 << (cpu & 7);
  }
  if (schedSetAffinity(0, mask) !== 0) {
    throw new ErrnoError("sched_setaffinity", lastErrno() || Errno.EINVAL);
  }
}
