/**
 * CPU affinity of the calling thread: where the JS thread (the stack's dealers) may run, while
 * the runtime's helper threads (garbage collection, the thread pool) keep theirs. Pinning the
 * whole process instead puts the garbage collector on the JS thread's CPU too.
 * @module
 */

import { Errno, ErrnoError, lastErrno } from "./errno.ts";
import { schedSetAffinity } from "./libc.ts";

/**
 * Parses a kernel CPU list such as `0-3,6` (the format of `Cpus_allowed_list` and of
 * `taskset -c`); `undefined` for anything else.
 */
export function parseCpuList(text: string): number[] | undefined {
  const cpus: number[] = [];
  for (const part of text.trim().split(",")) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!range) return undefined;
    const first = Number(range[1]);
    const last = range[2] === undefined ? first : Number(range[2]);
    if (last < first) return undefined;
    for (let cpu = first; cpu <= last; cpu++) cpus.push(cpu);
  }
  return cpus;
}

/** The CPUs this process may run on (`Cpus_allowed_list`), or `undefined` off Linux. */
export function allowedCpus(): number[] | undefined {
  let status: string;
  try {
    status = Deno.readTextFileSync("/proc/self/status");
  } catch {
    return undefined;
  }
  const list = /^Cpus_allowed_list:\s*(.+)$/m.exec(status)?.[1];
  return list === undefined ? undefined : parseCpuList(list);
}

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
