/**
 * `--main-cpus LIST` of the benchmark servers: pins the server's JS thread, where its stack or
 * its socket code runs, and leaves the runtime's helper threads (garbage collection, the thread
 * pool) free to use any CPU, as they would on a machine of the server's own.
 * @module
 */

import { parseCpuList, pinCallingThread } from "../../ffi/affinity.ts";

/** The parseArgs option. */
export const MAIN_CPUS_OPTION = { "main-cpus": { type: "string" } } as const;

/** Pins the calling (JS) thread to `list` (`taskset -c` format); nothing when unset. */
export function pinMainThread(list: string | undefined): void {
  if (list === undefined) return;
  const cpus = parseCpuList(list);
  if (cpus === undefined) throw new RangeError(`Invalid --main-cpus ${JSON.stringify(list)}`);
  pinCallingThread(cpus);
}
