/**
 * The foundation against the real Linux kernel through a TAP, inside a namespace each test makes:
 * kernel ping of the stack, `gonet ping` of the kernel, ARP both ways, exit codes.
 */

import assert from "node:assert/strict";
import { createTestNamespace } from "./helpers/netns.ts";
import { pcapFrames } from "./helpers/pcap.ts";
import { gonet, startGonetUp } from "./helpers/gonet_process.ts";

Deno.test("kernel pings the stack at 0, 56 and 1472 bytes with no loss", async () => {
  await using ns = await createTestNamespace();
  const up = await startGonetUp(ns);
  try {
    for (const size of [0, 56, 1472]) {
      const r = await ns.run([
        "ping",
        "-c",
        "3",
        "-i",
        "0.2",
        "-W",
        "2",
        "-s",
        String(size),
        "10.0.0.2",
      ]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /3 packets transmitted, 3 received, 0% packet loss/);
      if (size >= 16) {
        assert.match(
          r.stdout,
          new RegExp(`${size + 8} bytes from 10\\.0\\.0\\.2: icmp_seq=1 ttl=64`),
        );
      }
    }
    // The kernel learnt the stack's MAC from ARP.
    const neigh = await ns.run(["ip", "neigh", "show", "10.0.0.2", "dev", "gonet0"]);
    assert.match(neigh.stdout, new RegExp(`lladdr ${up.mac}`));
  } finally {
    const stopped = await up.stop();
    assert.equal(stopped.code, 0, stopped.stderr);
  }
  // `gonet up` removed its TAP on SIGTERM.
  const link = await ns.run(["ip", "link", "show", "gonet0"]);
  assert.notEqual(link.code, 0);
});

Deno.test("100 concurrent kernel pingers all get every reply", async () => {
  await using ns = await createTestNamespace();
  const up = await startGonetUp(ns);
  try {
    const pingers = Array.from(
      { length: 100 },
      () =>
        ns.run(["ping", "-c", "5", "-i", "0.2", "-W", "2", "-q", "10.0.0.2"], {
          timeoutMs: 20_000,
        }),
    );
    const results = await Promise.all(pingers);
    for (const r of results) {
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /5 packets transmitted, 5 received, 0% packet loss/);
    }
  } finally {
    await up.stop();
  }
});

Deno.test("gonet ping of the kernel: iputils output, exit 0 on replies, 1 on none, 2 on bad input", async () => {
  await using ns = await createTestNamespace();
  const up = await startGonetUp(ns);
  try {
    const ok = await gonet(ns, ["ping", "-c", "3", "-i", "0.2", "10.0.0.1"]);
    assert.equal(ok.code, 0, ok.stderr);
    const lines = ok.stdout.trimEnd().split("\n");
    assert.equal(lines[0], "PING 10.0.0.1 (10.0.0.1) 56(84) bytes of data.");
    for (let seq = 1; seq <= 3; seq++) {
      assert.match(
        lines[seq],
        new RegExp(`^64 bytes from 10\\.0\\.0\\.1: icmp_seq=${seq} ttl=64 time=\\d+(\\.\\d+)? ms$`),
      );
    }
    assert.equal(lines[5], "--- 10.0.0.1 ping statistics ---");
    assert.match(lines[6], /^3 packets transmitted, 3 received, 0% packet loss, time \d+ms$/);
    assert.match(lines[7], /^rtt min\/avg\/max\/mdev = [\d.]+\/[\d.]+\/[\d.]+\/[\d.]+ ms$/);

    const none = await gonet(ns, ["ping", "-c", "2", "-i", "0.2", "-W", "0.5", "10.0.0.9"]);
    assert.equal(none.code, 1, none.stderr);
    assert.match(none.stdout, /2 packets transmitted, 0 received, 100% packet loss/);

    const quiet = await gonet(ns, ["ping", "-q", "-c", "2", "-i", "0.2", "10.0.0.1"]);
    assert.equal(quiet.code, 0);
    assert.doesNotMatch(quiet.stdout, /bytes from/);

    for (
      const bad of [["ping", "10.0.0"], ["ping", "-c", "zero", "10.0.0.1"], ["ping"], [
        "ping",
        "--bogus",
        "10.0.0.1",
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

Deno.test("gonet arp shows the kernel's MAC; arp resolve exits 1 for a silent address", async () => {
  await using ns = await createTestNamespace();
  const up = await startGonetUp(ns);
  try {
    const link = await ns.run(["ip", "-j", "link", "show", "gonet0"]);
    const kernelMac = JSON.parse(link.stdout)[0].address as string;
    const resolved = await gonet(ns, ["arp", "resolve", "10.0.0.1"]);
    assert.equal(resolved.code, 0, resolved.stderr);
    assert.equal(resolved.stdout.trim(), kernelMac);
    const shown = await gonet(ns, ["arp"]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^ADDRESS\s+MAC\s+STATE\s+AGE$/m);
    assert.match(
      shown.stdout,
      new RegExp(`^10\\.0\\.0\\.1\\s+${kernelMac}\\s+reachable\\s+\\d+\\.\\ds$`, "m"),
    );
    const silent = await gonet(ns, ["arp", "resolve", "10.0.0.9"]);
    assert.equal(silent.code, 1);
    assert.match(silent.stderr, /10\.0\.0\.9: no ARP reply/);
  } finally {
    await up.stop();
  }
});

Deno.test("without a running stack, gonet ping brings its own up for the command", async () => {
  await using ns = await createTestNamespace();
  const r = await gonet(ns, ["ping", "-c", "2", "-i", "0.2", "10.0.0.1"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /2 packets transmitted, 2 received, 0% packet loss/);
  const link = await ns.run(["ip", "link", "show", "gonet0"]);
  assert.notEqual(link.code, 0, "the command's own TAP is gone afterwards");
});

Deno.test("a control socket left by a killed stack does not block the next one", async () => {
  await using ns = await createTestNamespace();
  const first = await startGonetUp(ns);
  const path = /control (\S+)/.exec(first.readyLine)![1];
  await first.kill();
  const stale = await Deno.stat(path);
  assert.ok(stale.isSocket, "SIGKILL left the socket file behind");
  const second = await startGonetUp(ns);
  try {
    assert.equal(/control (\S+)/.exec(second.readyLine)![1], path);
    const r = await gonet(ns, ["ping", "-c", "1", "10.0.0.1"]);
    assert.equal(r.code, 0, r.stderr);
  } finally {
    await second.stop();
  }
  await assert.rejects(Deno.stat(path), Deno.errors.NotFound, "a clean stop removes the socket");
});

Deno.test("gonet up --pcap records every frame in and out, starting with the gratuitous ARP", async () => {
  await using ns = await createTestNamespace();
  const file = await Deno.makeTempFile({ suffix: ".pcap" });
  try {
    const up = await startGonetUp(ns, ["--pcap", file]);
    const ping = await ns.run(["ping", "-c", "2", "-i", "0.2", "10.0.0.2"]);
    assert.equal(ping.code, 0);
    const stopped = await up.stop();
    assert.equal(stopped.code, 0);
    const frames = pcapFrames(await Deno.readFile(file));
    // First frame: our gratuitous ARP, a broadcast request for our own address (RFC 5227 §3).
    const garp = frames[0];
    assert.deepEqual([...garp.subarray(0, 6)], [255, 255, 255, 255, 255, 255]);
    assert.deepEqual([...garp.subarray(12, 14)], [0x08, 0x06]);
    assert.deepEqual([...garp.subarray(14 + 24, 14 + 28)], [10, 0, 0, 2], "target IP is ours");
    assert.deepEqual([...garp.subarray(14 + 14, 14 + 18)], [10, 0, 0, 2], "sender IP is ours");
    // Two echo requests in, two replies out (IPv4, ICMP type 8 then 0).
    const icmpTypes = frames
      .filter((f) => f[12] === 0x08 && f[13] === 0x00 && f[14 + 9] === 1)
      .map((f) => f[14 + 20]);
    assert.deepEqual(icmpTypes, [8, 0, 8, 0]);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("two stacks with the same TAP name in two namespaces do not collide", async () => {
  await using ns1 = await createTestNamespace();
  await using ns2 = await createTestNamespace();
  const up1 = await startGonetUp(ns1);
  const up2 = await startGonetUp(ns2);
  try {
    assert.notEqual(
      /control (\S+)/.exec(up1.readyLine)?.[1],
      /control (\S+)/.exec(up2.readyLine)?.[1],
    );
    const second = await gonet(ns1, ["up"]);
    assert.equal(second.code, 2, "a second stack on the same TAP in the same namespace is refused");
    for (const ns of [ns1, ns2]) {
      const r = await gonet(ns, ["ping", "-c", "1", "10.0.0.1"]);
      assert.equal(r.code, 0, r.stderr);
    }
  } finally {
    await up1.stop();
    await up2.stop();
  }
});

Deno.test("--json on ping, arp and stats gives one parseable object for scripts", async () => {
  await using ns = await createTestNamespace();
  const up = await startGonetUp(ns);
  try {
    const ping = await gonet(ns, ["ping", "--json", "-c", "2", "-i", "0.2", "10.0.0.1"]);
    assert.equal(ping.code, 0, ping.stderr);
    const p = JSON.parse(ping.stdout);
    assert.equal(p.destination, "10.0.0.1");
    assert.equal(p.transmitted, 2);
    assert.equal(p.received, 2);
    assert.equal(p.lossPercent, 0);
    assert.deepEqual(
      p.replies.map((r: { seq: number; ttl: number; bytes: number }) => [r.seq, r.ttl, r.bytes]),
      [
        [1, 64, 64],
        [2, 64, 64],
      ],
    );
    assert.ok(p.rtt.min <= p.rtt.avg && p.rtt.avg <= p.rtt.max);

    const arp = await gonet(ns, ["arp", "--json"]);
    assert.equal(arp.code, 0, arp.stderr);
    const rows = JSON.parse(arp.stdout);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].address, "10.0.0.1");
    assert.match(rows[0].mac, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);

    const stats = await gonet(ns, ["stats", "--json"]);
    assert.equal(stats.code, 0, stats.stderr);
    const s = JSON.parse(stats.stdout);
    assert.equal(s.icmp.echoRepliesIn, 2, "the two replies above");
    assert.equal(s.arp.entries, 1);
    for (const layer of ["link", "ethernet", "arp", "ipv4", "icmp", "udp", "tcp"]) {
      assert.equal(typeof s[layer], "object", layer);
    }
    assert.equal(typeof s.tcp.activeConnections, "number");
    assert.equal(typeof s.ipv4.reassembly.heldBytes, "number");

    const text = await gonet(ns, ["stats"]);
    assert.match(text.stdout, /^icmp:\n(\s+\S+: .*\n)*\s+echoRepliesIn: 2$/m);
  } finally {
    await up.stop();
  }
});
