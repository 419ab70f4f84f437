/**
 * UDP and IPv4 fragmentation against the Linux kernel through a TAP, in a namespace each test
 * makes: kernel sockets (`Deno.listenDatagram`) exchange datagrams of 1, 1472, 1473 and 60000
 * bytes with the stack both ways, byte-exact; kernel `ping -s 20000`; port unreachable seen by a
 * connected kernel socket; `gonet udp send|listen` end to end.
 */

import assert from "node:assert/strict";
import { createTestNamespace } from "./helpers/netns.ts";
import { JsonLines, startStackIn } from "./helpers/stack_in_namespace.ts";
import { pattern, sha256Hex } from "./helpers/bytes.ts";
import { gonet, gonetArgv, startGonetUp } from "./helpers/gonet_process.ts";

const PEER = new URL("./peers/udp_peer.ts", import.meta.url).pathname;
const SIZES = [1, 1472, 1473, 60000];

function peerArgv(args: string[]): string[] {
  return [Deno.execPath(), "run", "-A", "--unstable-net", PEER, ...args];
}

Deno.test("kernel socket to stack socket and back: 1, 1472, 1473 and 60000 bytes, byte-exact", async () => {
  await using ns = await createTestNamespace();
  const running = startStackIn(ns);
  try {
    const socket = running.stack.listenDatagram({ port: 9000 });
    const echoed = (async () => {
      const seen: number[] = [];
      for await (const [data, from] of socket) {
        seen.push(data.length);
        await socket.send(data, from);
        if (seen.length === SIZES.length) break;
      }
      return seen;
    })();
    const peer = ns.spawn(peerArgv(["send", "9000", ...SIZES.map(String)]), {
      stdin: "null",
      stdout: "piped",
    });
    const lines = new JsonLines(peer.stdout);
    for (const size of SIZES) {
      const echo = await lines.next();
      assert.deepEqual(
        echo,
        { length: size, sha256: await sha256Hex(pattern(size)) },
        `size ${size}`,
      );
    }
    assert.deepEqual(await echoed, SIZES);
    assert.equal((await peer.status).code, 0);
    const stats = running.stack.stats();
    // 1473 and 60000 bytes do not fit a 1500-byte MTU: both directions fragment.
    assert.equal(stats.ipv4.reassembled, 2);
    assert.ok(stats.ipv4.fragmentsOut >= 2 + 41, `fragmentsOut ${stats.ipv4.fragmentsOut}`);
    socket.close();
  } finally {
    await running.close();
  }
});

Deno.test("stack socket to kernel socket and back: 1, 1472, 1473 and 60000 bytes, byte-exact", async () => {
  await using ns = await createTestNamespace();
  const running = startStackIn(ns);
  try {
    const peer = ns.spawn(peerArgv(["listen", "9001", String(SIZES.length)]), {
      stdin: "null",
      stdout: "piped",
    });
    const lines = new JsonLines(peer.stdout);
    assert.deepEqual(await lines.next(), { ready: true });
    const socket = running.stack.listenDatagram({ port: 0 });
    for (const size of SIZES) {
      const data = pattern(size);
      await socket.send(data, { hostname: "10.0.0.1", port: 9001 });
      const seen = await lines.next();
      assert.equal(seen.length, size);
      assert.equal(seen.sha256, await sha256Hex(data));
      assert.equal(seen.from, `10.0.0.2:${socket.addr.port}`);
      const [echo, from] = await socket.receive();
      assert.deepEqual(echo, data);
      assert.deepEqual(from, { transport: "udp", hostname: "10.0.0.1", port: 9001 });
    }
    assert.equal((await peer.status).code, 0);
    socket.close();
  } finally {
    await running.close();
  }
});

Deno.test("kernel ping -s 20000 is reassembled, answered and re-fragmented", async () => {
  await using ns = await createTestNamespace();
  const running = startStackIn(ns);
  try {
    const r = await ns.run(["ping", "-c", "3", "-i", "0.2", "-W", "2", "-s", "20000", "10.0.0.2"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /20008 bytes from 10\.0\.0\.2: icmp_seq=1 ttl=64/);
    assert.match(r.stdout, /3 packets transmitted, 3 received, 0% packet loss/);
    assert.equal(running.stack.stats().ipv4.reassembled, 3);
  } finally {
    await running.close();
  }
});

Deno.test("a connected kernel UDP socket sees ECONNREFUSED from the stack's port unreachable", async () => {
  await using ns = await createTestNamespace();
  const running = startStackIn(ns);
  try {
    // Deno has no connected UDP sockets; Python's socket module is a thin layer over the kernel's.
    const script = [
      "import socket",
      "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
      "s.settimeout(3)",
      "s.connect(('10.0.0.2', 9))",
      "s.send(b'anyone?')",
      "try:",
      "    s.recv(100)",
      "    print('answered')",
      "except ConnectionRefusedError:",
      "    print('refused')",
      "except socket.timeout:",
      "    print('timeout')",
    ].join("\n");
    const r = await ns.run(["python3", "-c", script]);
    assert.equal(r.stdout.trim(), "refused", r.stderr);
    assert.equal(running.stack.stats().udp.noPort, 1);
    assert.equal(running.stack.stats().icmp.errorsOut, 1);
  } finally {
    await running.close();
  }
});

Deno.test("gonet udp listen and gonet udp send end to end, with exit codes", async () => {
  await using ns = await createTestNamespace();
  const up = await startGonetUp(ns);
  try {
    // Kernel -> `gonet udp listen`: payloads reach stdout exactly, one line each on stderr.
    const listener = ns.spawn(gonetArgv(["udp", "listen", "9000", "--count", "2", "--echo"]), {
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    });
    // The listener binds through the control socket; wait until `gonet stats` shows it bound.
    let bound = false;
    for (let i = 0; i < 50 && !bound; i++) {
      const stats = await gonet(ns, ["stats", "--json"]);
      bound = JSON.parse(stats.stdout).udp.boundPorts?.includes(9000) ?? false;
    }
    assert.ok(bound, "udp listen bound port 9000");
    const peer = ns.spawn(peerArgv(["send", "9000", "1473", "5"]), {
      stdin: "null",
      stdout: "piped",
    });
    const echoes = new JsonLines(peer.stdout);
    assert.deepEqual(await echoes.next(), { length: 1473, sha256: await sha256Hex(pattern(1473)) });
    assert.deepEqual(await echoes.next(), { length: 5, sha256: await sha256Hex(pattern(5)) });
    const out = await listener.output();
    assert.equal(out.code, 0);
    assert.deepEqual(out.stdout, new Uint8Array([...pattern(1473), ...pattern(5)]));
    assert.match(
      new TextDecoder().decode(out.stderr),
      /^10\.0\.0\.1:\d+ 1473 bytes\n10\.0\.0\.1:\d+ 5 bytes\n$/,
    );
    await peer.status;

    // `gonet udp send` -> kernel, from an argument and from stdin.
    const sink = ns.spawn(peerArgv(["listen", "9001", "2"]), { stdin: "null", stdout: "piped" });
    const seen = new JsonLines(sink.stdout);
    assert.deepEqual(await seen.next(), { ready: true });
    const sent = await gonet(ns, [
      "udp",
      "send",
      "10.0.0.1",
      "9001",
      "hello",
      "--src-port",
      "4444",
    ]);
    assert.equal(sent.code, 0, sent.stderr);
    const hello = new TextEncoder().encode("hello");
    assert.deepEqual(await seen.next(), {
      length: 5,
      sha256: await sha256Hex(hello),
      from: "10.0.0.2:4444",
    });
    const fromStdin = ns.spawn(gonetArgv(["udp", "send", "10.0.0.1", "9001"]), {
      stdin: "piped",
      stdout: "null",
      stderr: "piped",
    });
    const writer = fromStdin.stdin.getWriter();
    await writer.write(pattern(3000));
    await writer.close();
    assert.equal((await fromStdin.status).code, 0);
    const big = await seen.next();
    assert.equal(big.length, 3000);
    assert.equal(big.sha256, await sha256Hex(pattern(3000)));
    await sink.status;

    for (
      const bad of [["udp", "send", "10.0.0.1", "70000", "x"], ["udp", "send", "10.0.0.1"], [
        "udp",
        "listen",
        "port",
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

Deno.test("a kernel sender's UDP_SEGMENT send arrives as its datagrams, one super-frame with USO", async () => {
  for (const offload of [true, false]) {
    await using ns = await createTestNamespace();
    const running = startStackIn(ns, { offload });
    try {
      const socket = running.stack.listenDatagram({ port: 9100 });
      // 10 datagrams of 1000 bytes and one of 500, in one send (Deno has no UDP_SEGMENT).
      const sender = await ns.run([
        "python3",
        "-c",
        [
          "import socket",
          "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
          "s.setsockopt(17, 103, 1000)  # SOL_UDP, UDP_SEGMENT",
          "s.sendto(bytes(i % 251 for i in range(10500)), ('10.0.0.2', 9100))",
        ].join("\n"),
      ]);
      assert.equal(sender.code, 0, sender.stderr);
      const received: number[] = [];
      for (let i = 0; i < 11; i++) {
        const [data] = await socket.receive();
        received.push(data.length);
        const expected = Uint8Array.from({ length: data.length }, (_, j) => (i * 1000 + j) % 251);
        assert.deepEqual(data, expected, `datagram ${i}, offload ${offload}`);
      }
      assert.deepEqual(received, [...Array(10).fill(1000), 500]);
      const link = running.stack.stats().link as { rxUdpSuperFrames?: number };
      // With USO the kernel hands the whole send over as one frame; without, it segments first.
      assert.equal(link.rxUdpSuperFrames, offload ? 1 : 0, `offload ${offload}`);
      socket.close();
    } finally {
      await running.close();
    }
  }
});
