/**
 * Runs `bench.ts --smoke` (one point of experiment 1 for gonet and for the kernel) into a
 * temporary directory and checks that its files exist and parse. Speed is not asserted.
 * Needs root (namespaces, TAP); the benchmark makes and deletes its own namespaces.
 */

import assert from "node:assert/strict";

const BENCH = new URL("./bench.ts", import.meta.url).pathname;

Deno.test({
  name:
    "bench --smoke writes results.json, results.md, the latency chart and the gonet server's CPU profile",
  ignore: Deno.uid() !== 0,
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "gonet-bench-smoke-" });
    try {
      const run = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--unstable-net",
          BENCH,
          "--smoke",
          "--out",
          out,
          "--cpu-prof",
          `${out}/profile`,
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(60_000),
      }).output();
      const stderr = new TextDecoder().decode(run.stderr);
      assert.equal(run.code, 0, stderr);

      const results = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
      assert.equal(results.plan.mode, "smoke");
      assert.ok(results.machine.nproc >= 1);
      assert.ok(results.machine.kernel.length > 0);
      if (results.machine.nproc >= 2) {
        // Responders and load on separate CPUs, and the report says which.
        assert.ok(results.cpuLayout.server.length > 0 && results.cpuLayout.load.length > 0);
        assert.notEqual(results.cpuLayout.server, results.cpuLayout.load);
      }
      const latency = results.experiments.latency as {
        stack: string;
        concurrency: number;
        sent: number;
        received: number;
        spinAhead?: { windows: number; hits: number };
        rehearsals?: number;
      }[];
      assert.deepEqual(latency.map((r) => r.stack).sort(), ["gonet", "kernel"]);
      for (const row of latency) {
        // Only gonet reports its TAP's spin-ahead counters.
        assert.equal(row.spinAhead === undefined, row.stack === "kernel", `${row.stack}`);
        assert.equal(row.rehearsals === undefined, row.stack === "kernel", `${row.stack}`);
        assert.equal(row.concurrency, 1);
        assert.equal(row.sent, results.plan.pingCount);
        assert.ok(row.received > 0, `${row.stack} answered no ping`);
      }

      const markdown = await Deno.readTextFile(`${out}/results.md`);
      assert.match(markdown, /^# gonet benchmark \(smoke\)/);
      assert.match(markdown, /\| gonet \| 56 \| 1 \|/);
      if (results.cpuLayout) {
        assert.ok(markdown.includes(`the load on CPU ${results.cpuLayout.load}`));
      }

      const svg = await Deno.readTextFile(`${out}/exp1_latency.svg`);
      assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      assert.match(svg, /<\/svg>\s*$/);

      // The profile is V8's (Chrome DevTools format) and sampled the stack's own code.
      const profiles = [...Deno.readDirSync(`${out}/profile`)].map((e) => e.name);
      assert.equal(profiles.length, 1, `profiles: ${profiles}`);
      assert.match(profiles[0], /\.cpuprofile$/);
      const profile = JSON.parse(await Deno.readTextFile(`${out}/profile/${profiles[0]}`)) as {
        nodes: { callFrame: { url: string } }[];
        samples: number[];
      };
      assert.ok(profile.samples.length > 0);
      assert.ok(profile.nodes.some((n) => n.callFrame.url.endsWith("/ffi/tap.ts")));

      // Every namespace the run made is gone.
      const left = await new Deno.Command("ip", { args: ["netns", "list"], stdout: "piped" })
        .output();
      const listed = new TextDecoder().decode(left.stdout);
      for (const side of results.sides as { namespace: string }[]) {
        assert.ok(side.namespace.startsWith("gonet-b-"));
        assert.ok(!listed.includes(side.namespace), `${side.namespace} was left behind`);
      }
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
