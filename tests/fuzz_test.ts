/**
 * The receive-path fuzzer as a test: a short seeded run must keep every invariant (no dealer
 * dies, nothing throws, bounds and heap hold, the target still answers ping and TCP), and every
 * failing input saved under `fuzz/corpus/` must now replay cleanly.
 * @module
 */

import assert from "node:assert/strict";
import {
  ethernetFrame,
  fixChecksums,
  HELPER_MAC,
  icmpMessage,
  ipv4Packet,
  TARGET_IP,
  TARGET_MAC,
} from "../fuzz/generators.ts";
import { replayCorpusFile, runFuzz } from "../fuzz/harness.ts";
import { checkTargetFrame, FailureLog, turn } from "../fuzz/invariants.ts";

const CORPUS = new URL("../fuzz/corpus/", import.meta.url);

Deno.test("fuzz: 40 000 seeded frames keep every invariant", async () => {
  const report = await runFuzz({ seed: 20261125, frames: 40_000, healthEvery: 10_000 });
  assert.deepEqual(report.failures, []);
  assert.equal(report.frames, 40_000);
  // Four mid-run health checks plus the final one, each a ping and a TCP echo.
  assert.equal(report.healthChecks, 5);
  // The frames reached deep code, not only the parsers.
  const stats = report.stats;
  assert.ok(stats.ipv4.reassembled > 0, "some fragmented datagrams were rebuilt");
  assert.ok(stats.tcp.passiveOpens > 0, "handshakes completed");
  assert.ok(stats.tcp.synCookiesAccepted > 0, "SYN cookies were used");
  assert.ok(stats.udp.datagramsIn > 0, "UDP datagrams were delivered");
  assert.ok(report.accepted > 0, "the echo service accepted connections");
});

Deno.test("fuzz: the lean and small-MTU target profiles keep every invariant too", async () => {
  for (const profile of ["lean", "small-mtu"] as const) {
    const report = await runFuzz({ seed: 7, frames: 15_000, healthEvery: 5_000, profile });
    assert.deepEqual(report.failures, [], profile);
    assert.equal(report.healthChecks, 4, profile);
    assert.ok(report.stats.tcp.passiveOpens > 0, profile);
  }
});

Deno.test("fuzz: the same seed replays the same run", async () => {
  const first = await runFuzz({ seed: 99, frames: 3_000, healthEvery: 1_000_000 });
  const second = await runFuzz({ seed: 99, frames: 3_000, healthEvery: 1_000_000 });
  assert.deepEqual(first.failures, []);
  assert.deepEqual(second.kinds, first.kinds);
  assert.deepEqual(second.stats, first.stats);
});

Deno.test("fuzz: every saved corpus input replays without failures", async () => {
  const files: string[] = [];
  for await (const entry of Deno.readDir(CORPUS)) {
    if (entry.isFile && entry.name.endsWith(".json")) files.push(entry.name);
  }
  files.sort();
  const failing: string[] = [];
  for (const name of files) {
    const failures = await replayCorpusFile(new URL(name, CORPUS).pathname);
    if (failures.length > 0) {
      failing.push(`${name}: ${failures.map((f) => `[${f.kind}] ${f.message}`).join("; ")}`);
    }
  }
  assert.deepEqual(failing, []);
});

/** A frame from the target carrying `message` as ICMP to `destination`, checksums filled. */
function icmpFromTarget(destination: number, message: Uint8Array): Uint8Array {
  const ip = ipv4Packet({ source: TARGET_IP, destination, protocol: 1 }, message);
  fixChecksums(ip);
  const frame = ethernetFrame(HELPER_MAC, TARGET_MAC, 0x0800, ip);
  const padded = new Uint8Array(Math.max(60, frame.length));
  padded.set(frame);
  return padded;
}

Deno.test("fuzz: the output check accepts a good reply and refuses what RFC 1122 forbids", () => {
  const echoReply = icmpMessage(0, 0, 0x00010001, new Uint8Array(8));
  assert.equal(checkTargetFrame(icmpFromTarget(0x0a000001, echoReply)), undefined);
  // RFC 1122 §3.2.2: nothing to a subnet broadcast or network address.
  assert.match(
    checkTargetFrame(icmpFromTarget(0x0a0000ff, echoReply)) ?? "",
    /non-unicast 10\.0\.0\.255/,
  );
  assert.match(checkTargetFrame(icmpFromTarget(0x0a000000, echoReply)) ?? "", /non-unicast/);
  // An ICMP error (port unreachable) about an ICMP error (time exceeded) sent to 10.0.0.1.
  const offender = ipv4Packet(
    { source: 0x0a000001, destination: TARGET_IP, protocol: 1 },
    icmpMessage(11, 0, 0, new Uint8Array(0)),
  );
  const error = icmpMessage(3, 3, 0, offender);
  assert.match(checkTargetFrame(icmpFromTarget(0x0a000001, error)) ?? "", /about an ICMP error/);
  // A broken checksum.
  const bad = icmpFromTarget(0x0a000001, echoReply);
  bad[14 + 20 + 2] ^= 0xff;
  assert.match(checkTargetFrame(bad) ?? "", /ICMP does not parse: bad-checksum/);
});

Deno.test("fuzz: an unhandled rejection (a dealer dying) is recorded as a failure", async () => {
  const log = new FailureLog();
  log.install();
  try {
    Promise.reject(new TypeError("dealer died"));
    await turn();
  } finally {
    log.uninstall();
  }
  assert.equal(log.failures.length, 1);
  assert.equal(log.failures[0].kind, "unhandled-rejection");
  assert.equal(log.failures[0].message, "TypeError: dealer died");
});
