/**
 * TCP against the Linux kernel through a TAP, in a namespace each test makes: 50 MB each way with
 * equal SHA-256 (also with the transmit thread), 10 MB each way under 5% loss (nftables netdev hooks on the kernel side) plus
 * gonet's own reordering/duplication/corruption, 200 concurrent echo connections, refused
 * connections on both sides, and HTTP served by `node:http` over the stack.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { serveHttp } from "../node/http.ts";
import type { TcpConn } from "../stack/tcp/conn.ts";
import { pattern } from "./helpers/bytes.ts";
import { createTestNamespace, type TestNamespace } from "./helpers/netns.ts";
import { pcapFrames, tcpSegments } from "./helpers/pcap.ts";
import { JsonLines, startStackIn } from "./helpers/stack_in_namespace.ts";

const PEER = new URL("./peers/tcp_peer.ts", import.meta.url).pathname;
const MB = 1024 * 1024;

function peer(ns: TestNamespace, args: string[]): Deno.ChildProcess {
  return ns.spawn([Deno.execPath(), "run", "-A", "--unstable-net", PEER, ...args], {
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  });
}

/** Reads until EOF into a SHA-256, then answers `LENGTH SHA256` and closes. */
async function hashAndReply(conn: TcpConn): Promise<void> {
  const hash = createHash("sha256");
  const buf = new Uint8Array(256 * 1024);
  let length = 0;
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    hash.update(buf.subarray(0, n));
    length += n;
  }
  await conn.write(new TextEncoder().encode(`${length} ${hash.digest("hex")}`));
  await conn.closeWrite();
  conn.close();
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

async function writeAll(conn: TcpConn, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    offset += await conn.write(data.subarray(offset, offset + 256 * 1024));
  }
}

async function kernelToStack(
  ns: TestNamespace,
  stack: ReturnType<typeof startStackIn>["stack"],
  bytes: number,
) {
  const listener = stack.listen({ port: 8080 });
  const served = listener.accept().then(hashAndReply);
  const client = peer(ns, ["send", "10.0.0.2", "8080", String(bytes)]);
  const result = await new JsonLines(client.stdout).next();
  await served;
  listener.close();
  assert.equal((await client.status).code, 0);
  assert.deepEqual(result, { sent: bytes, reply: `${bytes} ${sha256(pattern(bytes))}` });
}

async function stackToKernel(
  ns: TestNamespace,
  stack: ReturnType<typeof startStackIn>["stack"],
  bytes: number,
) {
  const sink = peer(ns, ["sink", "9090"]);
  const lines = new JsonLines(sink.stdout);
  assert.deepEqual(await lines.next(), { ready: true });
  const conn = await stack.connect({ hostname: "10.0.0.1", port: 9090 });
  const data = pattern(bytes);
  await writeAll(conn, data);
  await conn.closeWrite();
  assert.deepEqual(await lines.next(), { length: bytes, sha256: sha256(data) });
  assert.equal(await conn.read(new Uint8Array(1)), null, "the kernel closed after EOF");
  conn.close();
  assert.equal((await sink.status).code, 0);
}

Deno.test("without offloads: kernel client to stack server and back, 50 MB each, equal SHA-256", async () => {
  await using ns = await createTestNamespace();
  const running = startStackIn(ns, { offload: false });
  try {
    await kernelToStack(ns, running.stack, 50 * MB);
    await stackToKernel(ns, running.stack, 50 * MB);
  } finally {
    await running.close();
  }
});

Deno.test("with TAP offloads (vnet header, TSO): 50 MB each way, equal SHA-256", async () => {
  await using ns = await createTestNamespace();
  const running = startStackIn(ns, { offload: true });
  try {
    await kernelToStack(ns, running.stack, 50 * MB);
    await stackToKernel(ns, running.stack, 50 * MB);
    const stats = running.stack.stats();
    assert.ok(stats.ipv4.segmentedOut > 0, "super-segments went out for the kernel to cut");
    assert.ok(
      stats.link.rxBytes / stats.link.rxFrames > 1514,
      "the kernel handed over super-frames",
    );
    assert.deepEqual(stats.tcp.drops, {});
  } finally {
    await running.close();
  }
});

Deno.test("with the transmit thread: 50 MB each way with offloads, equal SHA-256", async () => {
  await using ns = await createTestNamespace();
  const running = startStackIn(ns, { offload: true, txThread: true });
  try {
    await kernelToStack(ns, running.stack, 50 * MB);
    await stackToKernel(ns, running.stack, 50 * MB);
    const link = running.stack.stats().link as { txQueued?: number; txDrops: number };
    assert.ok((link.txQueued ?? 0) > 0, "frames went through the transmit thread");
    assert.equal(link.txDrops, 0);
  } finally {
    await running.close();
  }
});

Deno.test("10 MB each way under 5% loss both ways, plus reordering, duplication and corruption", async () => {
  await using ns = await createTestNamespace();
  const running = startStackIn(ns, {
    reorder: "0.01",
    duplicate: "0.01",
    corrupt: "0.005",
    seed: "7",
  });
  try {
    // This kernel has no netem: nftables netdev hooks drop 5% of frames on the kernel side of
    // the TAP, in both directions.
    const rules = [
      "add table netdev lossy",
      "add chain netdev lossy in { type filter hook ingress device gonet0 priority 0 ; }",
      "add chain netdev lossy out { type filter hook egress device gonet0 priority 0 ; }",
      "add rule netdev lossy in numgen random mod 100 < 5 counter drop",
      "add rule netdev lossy out numgen random mod 100 < 5 counter drop",
    ];
    for (const rule of rules) {
      const r = await ns.run(["nft", ...rule.split(" ")]);
      assert.equal(r.code, 0, `nft ${rule}: ${r.stderr}`);
    }
    await kernelToStack(ns, running.stack, 10 * MB);
    await stackToKernel(ns, running.stack, 10 * MB);
    const listed = await ns.run(["nft", "list", "table", "netdev", "lossy"]);
    const dropped = [...listed.stdout.matchAll(/packets (\d+)/g)].map((m) => Number(m[1]));
    assert.ok(dropped.length === 2 && dropped.every((n) => n > 0), `nft dropped ${dropped}`);
    const tcp = running.stack.stats().tcp;
    assert.ok(tcp.retransmissions > 0, "the stack retransmitted");
  } finally {
    await running.close();
  }
});

Deno.test("200 concurrent kernel connections each echo 100 KB through the stack", async () => {
  await using ns = await createTestNamespace();
  const running = startStackIn(ns);
  try {
    const listener = running.stack.listen({ port: 7, backlog: 256 });
    const serving = (async () => {
      for await (const conn of listener) {
        (async () => {
          await conn.readable.pipeTo(conn.writable);
        })().catch(() => {});
      }
    })();
    const clients = peer(ns, ["echo-clients", "10.0.0.2", "7", "200", String(100 * 1024)]);
    const result = await new JsonLines(clients.stdout).next();
    assert.deepEqual(result, { ok: 200, failed: 0, errors: [] });
    assert.equal((await clients.status).code, 0);
    listener.close();
    await serving;
  } finally {
    await running.close();
  }
});

Deno.test("a response written and closed in one turn reaches the kernel as one segment with FIN", async () => {
  await using ns = await createTestNamespace();
  const file = await Deno.makeTempFile({ suffix: ".pcap" });
  try {
    const running = startStackIn(ns, { pcap: file });
    try {
      const listener = running.stack.listen({ port: 7 });
      const served = (async () => {
        for (let i = 0; i < 3; i++) {
          const conn = await listener.accept();
          const buf = new Uint8Array(64);
          const n = await conn.read(buf);
          await conn.write(new TextEncoder().encode(`got ${n}\n`));
          conn.close();
        }
      })();
      for (let i = 0; i < 3; i++) {
        const client = peer(ns, ["send", "10.0.0.2", "7", "32"]);
        assert.deepEqual(await new JsonLines(client.stdout).next(), {
          sent: 32,
          reply: "got 32\n",
        });
        assert.equal((await client.status).code, 0);
      }
      await served;
      listener.close();
    } finally {
      await running.close();
    }
    const fromStack = tcpSegments(pcapFrames(await Deno.readFile(file)))
      .filter((s) => s.source === "10.0.0.2" && s.sourcePort === 7);
    const FIN = 0x01;
    const withData = fromStack.filter((s) => s.payloadLength > 0);
    assert.deepEqual(withData.map((s) => [s.payloadLength, s.flags & FIN]), [[7, FIN], [7, FIN], [
      7,
      FIN,
    ]]);
    assert.equal(fromStack.filter((s) => s.flags & FIN).length, 3, "no FIN of its own");
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("connecting to a closed port is refused on both sides", async () => {
  await using ns = await createTestNamespace();
  const running = startStackIn(ns);
  try {
    const kernel = peer(ns, ["connect", "10.0.0.2", "1"]);
    assert.deepEqual(await new JsonLines(kernel.stdout).next(), { error: "ConnectionRefused" });
    await kernel.status;
    await assert.rejects(
      running.stack.connect({ hostname: "10.0.0.1", port: 1 }),
      Deno.errors.ConnectionRefused,
    );
    assert.ok(running.stack.stats().tcp.resetsOut >= 1);
  } finally {
    await running.close();
  }
});

Deno.test("node:http serves the kernel's HTTP client over the stack", async () => {
  await using ns = await createTestNamespace();
  const running = startStackIn(ns);
  try {
    const http = serveHttp(running.stack.listen({ port: 8080 }), (request, response) => {
      response.setHeader("content-type", "text/plain");
      response.end(`hello ${request.url} from ${request.socket.remoteAddress}\n`);
    });
    const client = peer(ns, ["http", "http://10.0.0.2:8080/gonet"]);
    assert.deepEqual(await new JsonLines(client.stdout).next(), {
      status: 200,
      body: "hello /gonet from 10.0.0.1\n",
    });
    await client.status;
    await http.close();
  } finally {
    await running.close();
  }
});
