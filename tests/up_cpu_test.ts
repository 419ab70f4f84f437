/**
 * `gonet up --cpu`: the stack's JS thread runs on the CPUs given, the runtime's helper threads
 * keep theirs, and the stack answers as usual. Inside a namespace the test makes.
 */

import assert from "node:assert/strict";
import { createTestNamespace } from "./helpers/netns.ts";
import { gonet, startGonetUp } from "./helpers/gonet_process.ts";
import { allowedCpus } from "../ffi/affinity.ts";

/** The CPUs this process may use; the tests pin to the first (CPU 0 need not be one). */
const CPUS = allowedCpus() ?? [];
const FIRST = String(CPUS[0]);

/** `Cpus_allowed_list` of every thread of process `pid`, in thread id order. */
function threadCpuLists(pid: number): string[] {
  return threads(pid).map((t) => t.cpus);
}

/** Name and `Cpus_allowed_list` of every thread of process `pid`, in thread id order. */
function threads(pid: number): { name: string; cpus: string }[] {
  return [...Deno.readDirSync(`/proc/${pid}/task`)].map((e) => Number(e.name))
    .sort((a, b) => a - b)
    .map((tid) => {
      const status = Deno.readTextFileSync(`/proc/${pid}/task/${tid}/status`);
      return {
        name: /^Name:\s*(.+)$/m.exec(status)![1].trim(),
        cpus: /^Cpus_allowed_list:\s*(.+)$/m.exec(status)![1].trim(),
      };
    });
}

Deno.test({
  name: "gonet up --cpu on one CPU pins the JS thread only, and the stack answers pings",
  // Pinning one CPU out of one says nothing.
  ignore: CPUS.length < 2,
  async fn() {
    await using ns = await createTestNamespace();
    const all = threadCpuLists(Deno.pid)[0];
    const up = await startGonetUp(ns, ["--cpu", FIRST]);
    try {
      const lists = threadCpuLists(up.pid);
      // The main thread runs the JS; the runtime's helpers were started before it was pinned.
      assert.equal(lists[0], FIRST, `threads: ${lists.join(" ")}`);
      assert.ok(lists.slice(1).some((list) => list === all), `threads: ${lists.join(" ")}`);
      const r = await ns.run(["ping", "-c", "3", "-i", "0.2", "-W", "2", "10.0.0.2"]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /3 packets transmitted, 3 received, 0% packet loss/);
    } finally {
      const stopped = await up.stop();
      assert.equal(stopped.code, 0, stopped.stderr);
    }
  },
});

Deno.test({
  name: "gonet up --cpu on one CPU with --tx-thread: the transmit thread keeps every CPU",
  ignore: CPUS.length < 2,
  async fn() {
    await using ns = await createTestNamespace();
    const all = threadCpuLists(Deno.pid)[0];
    const up = await startGonetUp(ns, ["--cpu", FIRST, "--tx-thread"]);
    try {
      const list = threads(up.pid);
      const shown = JSON.stringify(list);
      assert.equal(list[0].cpus, FIRST, shown);
      // Deno names a Worker's thread worker-N; the transmit thread is the only Worker.
      const workers = list.filter((t) => t.name.startsWith("worker-"));
      assert.equal(workers.length, 1, shown);
      assert.equal(workers[0].cpus, all, shown);
      const r = await ns.run(["ping", "-c", "2", "-i", "0.2", "-W", "2", "10.0.0.2"]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
    } finally {
      const stopped = await up.stop();
      assert.equal(stopped.code, 0, stopped.stderr);
    }
  },
});

Deno.test("gonet up --cpu with a CPU this machine lacks: one line, exit 2", async () => {
  await using ns = await createTestNamespace();
  const r = await gonet(ns, ["up", "--cpu", "1023"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^gonet: invalid --cpu 1023: CPU 1023 is not one this process may use/);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
});
