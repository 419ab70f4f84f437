/**
 * The C reflector, the machine's floor of experiment 1: it builds with the machine's compiler,
 * answers the kernel's ARP and pings (the kernel checks every reply's checksums), and exits when
 * its stdin closes. Inside a namespace the test makes.
 */

import assert from "node:assert/strict";
import { createTestNamespace } from "../../tests/helpers/netns.ts";
import { buildCReflector } from "./c_reflector.ts";

/** Reads `stream` up to its first newline (or its end) and returns that line. */
async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
  } finally {
    reader.releaseLock();
  }
  return text.split("\n")[0];
}

for (const busyPoll of ["0", "300000"]) {
  Deno.test(`c reflector (--busy-poll ${busyPoll}): answers kernel pings, exits on stdin EOF`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "gonet-c-reflector-" });
    try {
      const binary = await buildCReflector(dir);
      if (binary instanceof Error) throw binary;
      await using ns = await createTestNamespace();
      const child = ns.spawn([binary, "--busy-poll", busyPoll], {
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      });
      const stderr = new Response(child.stderr).text();
      const ready = JSON.parse(await firstLine(child.stdout));
      assert.equal(ready.ready, true);
      assert.equal(ready.stack, "c reflector");
      const r = await ns.run(["ping", "-c", "3", "-i", "0.2", "-W", "2", "10.0.0.2"]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /3 packets transmitted, 3 received, 0% packet loss/);
      const neighbour = await ns.run(["ip", "neigh", "show", "10.0.0.2"]);
      assert.match(neighbour.stdout, /lladdr 02:00:00:00:00:02/);
      await child.stdin.close();
      const status = await child.status;
      assert.equal(status.code, 0, await stderr);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("c reflector: reports a compiler that is missing instead of throwing", async () => {
  const saved = Deno.env.get("CC");
  Deno.env.set("CC", "gonet-no-such-compiler");
  try {
    const built = await buildCReflector("/nonexistent");
    assert.ok(built instanceof Error);
    assert.equal(built.message, "no C compiler (gonet-no-such-compiler) on this machine");
  } finally {
    if (saved === undefined) Deno.env.delete("CC");
    else Deno.env.set("CC", saved);
  }
});
