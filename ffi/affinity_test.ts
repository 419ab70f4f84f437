import assert from "node:assert/strict";
import { allowedCpus, parseCpuList, pinCallingThread } from "./affinity.ts";
import { ErrnoError } from "./errno.ts";

/** `Cpus_allowed_list` of a thread (`thread-self`, or a task id of this process). */
function allowedList(thread: string): string {
  const path = thread === "thread-self" ? "/proc/thread-self" : `/proc/self/task/${thread}`;
  return /^Cpus_allowed_list:\s*(.+)$/m.exec(Deno.readTextFileSync(`${path}/status`))![1];
}

/**
 * `Cpus_allowed_list` of each of `threads` that still exists: Deno's thread-pool threads exit
 * after idling (e.g. those an earlier test's child process used), so one may vanish mid-test.
 */
function allowedLists(threads: string[]): Map<string, string> {
  const lists = new Map<string, string>();
  for (const tid of threads) {
    try {
      lists.set(tid, allowedList(tid));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return lists;
}

/** Task id of the calling thread. */
function ownTid(): string {
  return Deno.readLinkSync("/proc/thread-self").split("/").at(-1)!;
}

Deno.test("affinity: pins the calling thread only", () => {
  const before = allowedList("thread-self");
  const helpers = [...Deno.readDirSync("/proc/self/task")].map((e) => e.name)
    .filter((tid) => tid !== ownTid());
  const helpersBefore = allowedLists(helpers);
  try {
    // The first CPU this process may use: CPU 0 need not be one of them.
    const cpu = allowedCpus()![0];
    pinCallingThread([cpu]);
    assert.equal(allowedList("thread-self"), String(cpu));
    const helpersAfter = allowedLists([...helpersBefore.keys()]);
    assert.ok(helpersAfter.size > 0, "a Deno process has helper threads (V8's workers)");
    for (const [tid, list] of helpersAfter) {
      assert.equal(list, helpersBefore.get(tid), `thread ${tid}`);
    }
  } finally {
    pinCallingThread(parseCpuList(before)!);
  }
  assert.equal(allowedList("thread-self"), before);
});

Deno.test("affinity: bad sets are refused with a clear error", () => {
  assert.throws(() => pinCallingThread([]), RangeError);
  assert.throws(() => pinCallingThread([-1]), RangeError);
  assert.throws(() => pinCallingThread([1024]), RangeError);
  // CPU 1023 exists on no machine this runs on: the kernel says EINVAL.
  assert.throws(() => pinCallingThread([1023]), ErrnoError);
});

Deno.test("affinity: parses the kernel's CPU list format", () => {
  assert.deepEqual(parseCpuList("0-1"), [0, 1]);
  assert.deepEqual(parseCpuList("0-3,6\n"), [0, 1, 2, 3, 6]);
  assert.deepEqual(parseCpuList("5"), [5]);
  for (const bad of ["", "a", "3-1", "0,,1", "-1"]) {
    assert.equal(parseCpuList(bad), undefined, JSON.stringify(bad));
  }
});

Deno.test("affinity: the allowed CPUs are the kernel's list for this process", () => {
  const status = Deno.readTextFileSync("/proc/self/status");
  const list = /^Cpus_allowed_list:\s*(.+)$/m.exec(status)![1];
  assert.deepEqual(allowedCpus(), parseCpuList(list));
  assert.ok(allowedCpus()!.length >= 1);
});
