import assert from "node:assert/strict";
import { createTestNamespace, type TestNamespace } from "../../tests/helpers/netns.ts";
import { JsonLineReader } from "../lines.ts";

const LOADGEN = new URL("./loadgen.ts", import.meta.url).pathname;
const KERNEL_SERVER = new URL("../servers/kernel_server.ts", import.meta.url).pathname;

/** Runs the `rawrate` load in `ns` against its loopback and returns its JSON result. */
async function rawRate(
  ns: TestNamespace,
  maxCount: number,
  hostname = "127.0.0.1",
  durationMs = 5_000,
): Promise<Record<string, unknown>> {
  const options = { mode: "rawrate", hostname, loops: 4, durationMs, maxCount, timeoutMs: 2_000 };
  const out = await ns.run(
    [Deno.execPath(), "run", "-A", "--unstable-net", LOADGEN, JSON.stringify(options)],
    { timeoutMs: 20_000 },
  );
  assert.equal(out.code, 0, out.stderr);
  return JSON.parse(out.stdout.trim().split("\n").at(-1)!);
}

Deno.test("rawrate: every exchange with a kernel echo server completes, up to maxCount", async () => {
  await using ns = await createTestNamespace();
  const server = ns.spawn(
    [Deno.execPath(), "run", "-A", "--unstable-net", KERNEL_SERVER],
    { stdin: "piped", stdout: "piped", stderr: "null" },
  );
  const lines = new JsonLineReader(server.stdout);
  try {
    const ready = await lines.next();
    assert.equal(ready?.ready, true);
    const result = await rawRate(ns, 300);
    assert.equal(result.completed, 300);
    assert.equal(result.failed, 0);
    assert.equal(result.error, undefined);
    assert.ok((result.perSecond as number) > 0);
  } finally {
    await server.stdin.close();
    // Read its stdout to the end, so no pipe is left ready in the event loop for later tests.
    while (await lines.next() !== undefined);
    await server.status;
  }
});

Deno.test("rawrate: refused connections count as failures and the loop still ends", async () => {
  await using ns = await createTestNamespace();
  const result = await rawRate(ns, 20);
  assert.equal(result.completed, 0);
  assert.equal(result.failed, 20);
  assert.equal(result.error, "connect failed");
});

Deno.test("rawrate: when every connect fails at once, it keeps trying for its duration", async () => {
  await using ns = await createTestNamespace();
  // No route in the namespace but loopback: connect() fails with ENETUNREACH on the spot.
  const result = await rawRate(ns, 1_000_000, "10.9.9.9", 300);
  assert.equal(result.completed, 0);
  assert.ok((result.wallMs as number) >= 300, `ran ${result.wallMs} ms`);
  assert.ok((result.failed as number) > 4);
  assert.match(String(result.error), /^connect: errno 101$/);
});
