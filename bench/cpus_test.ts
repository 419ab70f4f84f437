import assert from "node:assert/strict";
import { onCpus, splitCpus } from "./cpus.ts";

Deno.test("cpus: the responders take the first half, the load the rest", () => {
  assert.deepEqual(splitCpus([0, 1]), { server: "0", load: "1" });
  assert.deepEqual(splitCpus([0, 1, 2, 3]), { server: "0,1", load: "2,3" });
  assert.deepEqual(splitCpus([2, 4, 6]), { server: "2", load: "4,6" });
  assert.equal(splitCpus([0]), undefined);
});

Deno.test("cpus: an unpinned command runs as it is", () => {
  assert.deepEqual(onCpus(undefined, ["ping", "-c", "1"]), ["ping", "-c", "1"]);
});

Deno.test("cpus: a pinned command may run on its CPUs only", async () => {
  const [cmd, ...args] = onCpus("0", ["grep", "Cpus_allowed_list", "/proc/self/status"]);
  const out = await new Deno.Command(cmd, { args, stdout: "piped" }).output();
  assert.equal(out.code, 0);
  assert.match(new TextDecoder().decode(out.stdout), /^Cpus_allowed_list:\s*0\n$/);
});
