/**
 * Where the benchmark's processes run: the responders under test with their JS thread on one set
 * of CPUs, the load (load generators, pings, the kernel peers gonet's clients send to) wholly on
 * the other, as if they were two machines. A responder's helper threads (garbage collection, the
 * thread pool) may run anywhere, as they would on a machine of the responder's own.
 *
 * Why: left to itself, the scheduler's wake-affine logic puts two processes that wake each other
 * up on one CPU, which pays off for a producer and a consumer that share data but not for a
 * client and a server that each need a CPU of their own. With experiment 4's client and a gonet
 * server on this 2-CPU VM, unpinned, the two JS threads shared a CPU in nearly every sample and
 * the server's thread was busy only ~68% of the time. Pinning whole processes fixed that but put
 * the server's garbage collector on its JS thread's CPU (100 x 1 MB went from ~150 to ~200 ms);
 * pinning the JS thread only kept both. See bench/README.md for the measurements.
 * @module
 */

import { allowedCpus } from "../ffi/affinity.ts";

/** The CPUs of each role, as `taskset -c` lists. */
export interface CpuLayout {
  /** CPUs of the responders under test (gonet servers, the kernel server, the reflectors). */
  server: string;
  /** CPUs of everything that makes load or sinks it. */
  load: string;
}

/**
 * Splits `cpus` in two halves, the responders taking the first (the smaller when odd); with fewer
 * than two CPUs there is nothing to split, and `undefined` says so.
 */
export function splitCpus(cpus: readonly number[]): CpuLayout | undefined {
  if (cpus.length < 2) return undefined;
  const half = Math.floor(cpus.length / 2);
  return { server: cpus.slice(0, half).join(","), load: cpus.slice(half).join(",") };
}

/** The layout for the CPUs this process may run on (`undefined`: one CPU, or not Linux). */
export function defaultCpuLayout(): CpuLayout | undefined {
  const cpus = allowedCpus();
  return cpus === undefined ? undefined : splitCpus(cpus);
}

/** `args` run on `cpus` (through `taskset`, which execs it: the PID stays the program's). */
export function onCpus(cpus: string | undefined, args: string[]): string[] {
  return cpus === undefined ? args : ["taskset", "-c", cpus, ...args];
}
