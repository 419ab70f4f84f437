/**
 * `gonet tcp connect` and `gonet tcp listen` end to end against kernel sockets, through the control
 * socket of a `gonet up` in a namespace the test makes, with their exit codes.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { pattern } from "./helpers/bytes.ts";
import { gonet, gonetArgv, startGonetUp } from "./helpers/gonet_process.ts";
import { createTestNamespace, type TestNamespace } from "./helpers/netns.ts";
import { JsonLines } from "./helpers/stack_in_namespace.ts";
import { OutputWatcher } from "./helpers/output_watcher.ts";

const PEER = new URL("./peers/tcp_peer.ts", import.meta.url).pathname;

function peer(ns: TestNamespace, args: string[]): Deno.ChildProcess {
  return ns.spawn([Deno.execPath(), "run", "-A", "--unstable-net", PEER, ...args], {
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  });
}

/** Runs `gonet ARGS` with `input` on stdin. */
async function gonetWithInput(ns: TestNamespace, args: string[], input: Uint8Array) {
  const child = ns.spawn(gonetArgv(args), { stdin: "piped", stdout: "piped", stderr: "piped" });
  const writer = child.stdin.getWriter();
  await writer.write(input).catch(() => {});
  await writer.close().catch(() => {});
  return await child.output();
}

/** Waits for `gonet tcp listen`'s "listening on port N" line. */
async function waitForListening(stderr: ReadableStream<Uint8Array>): Promise<OutputWatcher> {
  const watcher = new OutputWatcher(stderr);
  if (!(await watcher.until("listening on port"))) {
    throw new Error(`gonet tcp listen ended early: ${watcher.text}`);
  }
  return watcher;
}

Deno.test("gonet tcp connect: stdin to the peer, exit 0 when it closes; 1 on refused and on reset", async () => {
  await using ns = await createTestNamespace();
  const up = await startGonetUp(ns);
  try {
    const sink = peer(ns, ["sink", "9090"]);
    const lines = new JsonLines(sink.stdout);
    assert.deepEqual(await lines.next(), { ready: true });
    const data = pattern(1 << 20);
    const sent = await gonetWithInput(ns, ["tcp", "connect", "10.0.0.1", "9090"], data);
    assert.equal(sent.code, 0, new TextDecoder().decode(sent.stderr));
    assert.deepEqual(await lines.next(), {
      length: data.length,
      sha256: createHash("sha256").update(data).digest("hex"),
    });
    await sink.status;

    const refused = await gonet(ns, ["tcp", "connect", "10.0.0.1", "1"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^gonet tcp connect: 10\.0\.0\.1:1: .*refused/);
    assert.equal(refused.stderr.trimEnd().split("\n").length, 1);

    // A peer that aborts: SO_LINGER with a zero timeout makes close() send a RST and no FIN.
    // Deno cannot set SO_LINGER, so this one peer is Python's thin wrapper of the kernel socket.
    const rst = ns.spawn([
      "python3",
      "-c",
      [
        "import socket, struct, sys",
        "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
        "s.bind(('10.0.0.1', 9091)); s.listen(1); print('ready', flush=True)",
        "c, _ = s.accept(); c.recv(10)",
        "c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0)); c.close()",
      ].join("\n"),
    ], { stdin: "null", stdout: "piped", stderr: "inherit" });
    assert.ok(await new OutputWatcher(rst.stdout).until("ready\n"), "the RST peer listens");
    const reset = await gonetWithInput(
      ns,
      ["tcp", "connect", "10.0.0.1", "9091"],
      pattern(4 << 20),
    );
    assert.equal(reset.code, 1, new TextDecoder().decode(reset.stderr));
    assert.match(
      new TextDecoder().decode(reset.stderr),
      /^gonet tcp connect: 10\.0\.0\.1:9091: .*reset/i,
    );
    await rst.status;

    for (
      const bad of [["tcp", "connect", "10.0.0.1", "0"], ["tcp", "connect", "nowhere", "80"], [
        "tcp",
        "listen",
        "80",
        "--echo",
        "--discard",
      ]]
    ) {
      const r = await gonet(ns, bad);
      assert.equal(r.code, 2, `${bad.join(" ")}: ${r.stderr}`);
      assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
    }
  } finally {
    await up.stop();
  }
});

Deno.test("gonet tcp listen: stdio with --once, and --echo serving many connections", async () => {
  await using ns = await createTestNamespace();
  const up = await startGonetUp(ns);
  try {
    const listen = ns.spawn(gonetArgv(["tcp", "listen", "7001", "--once"]), {
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    });
    const writer = listen.stdin.getWriter();
    await writer.write(new TextEncoder().encode("hello kernel"));
    await writer.close();
    const restOfStderr = await waitForListening(listen.stderr);
    const client = peer(ns, ["send", "10.0.0.2", "7001", "5000"]);
    const answer = await new JsonLines(client.stdout).next();
    await client.status;
    const stdout = new Uint8Array(await new Response(listen.stdout).arrayBuffer());
    const status = await listen.status;
    const stderr = await restOfStderr.rest();
    assert.equal(status.code, 0, stderr);
    assert.deepEqual(answer, { sent: 5000, reply: "hello kernel" });
    assert.deepEqual(stdout, pattern(5000));
    assert.match(stderr, /^10\.0\.0\.1:\d+ connected$/m);
    assert.match(stderr, /^10\.0\.0\.1:\d+ closed, 5000 bytes$/m);

    const echo = ns.spawn(gonetArgv(["tcp", "listen", "7002", "--echo"]), {
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    });
    const echoStderr = await waitForListening(echo.stderr);
    const clients = peer(ns, ["echo-clients", "10.0.0.2", "7002", "20", String(64 * 1024)]);
    assert.deepEqual(await new JsonLines(clients.stdout).next(), { ok: 20, failed: 0, errors: [] });
    await clients.status;
    // Each connection's "closed" line comes once the listener has seen its EOF, which may be
    // after the clients are done: wait for all twenty before stopping it.
    assert.ok(
      await echoStderr.until((text) => [...text.matchAll(/closed, 65536 bytes/g)].length === 20),
      "a closed line for each of the 20 connections",
    );
    echo.kill("SIGTERM");
    assert.equal((await echo.status).code, 0);
  } finally {
    await up.stop();
  }
});
