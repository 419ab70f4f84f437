import assert from "node:assert/strict";
import { pinCallingThread } from "./affinity.ts";
import { ErrnoError } from "./errno.ts";

/** `Cpus_allowed_list` of a thread (`thread-self`, or a task id of this process). */
function allowedList(thread: string): string {
  const path = thread === "thread-self" ? "/proc/thread-self" : `/proc/self/task/${thread}`;
  return /^Cpus_allowed_list:\s*(.+)$/m.exec(Deno.readTextFileSync(`${path}/status`))![1];
}

/** Task id of the calling thread. */
function ownTid(): string {
  return Deno.readLinkSync("/proc/thread-self").split("/").at(-1)!;
}

Deno.test("affinity: pins the calling thread only", () => {
  const before = allowedList("thread-self");
  const helpers = [...Deno.readDirSync("/proc/self/task")].map((e) => e.name)
    .filter((tid) => tid !== ownTid());
  const helpersBefore = helpers.map(allowedList);
  try {
    pinCallingThread([0]);
    assert.equal(allowedList("thread-self"), "0");
    assert.deepEqual(helpers.map(allowedList), helpersBefore);
  } finally {
    pinCallingThread(parseList(before));
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

function parseList(text: string): number[] {
  return text.split(",").flatMap((part) => {
    const [a, b = a] = part.split("-").map(Number);
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  });
}
