import assert from "node:assert/strict";
import { Command } from "commander";
import {
  addStackFlags,
  parseAddressArg,
  parseCidrFlag,
  parseIntegerFlag,
  parseSecondsFlag,
  parseStackFlags,
  type StackFlagValues,
} from "./stack_flags.ts";
import { UsageError } from "./usage_error.ts";
import { allowedCpus } from "../ffi/affinity.ts";

/** A CPU this process may use, for `--cpu` (CPU 0 need not be one). */
const FIRST_CPU = allowedCpus()![0];

// Addresses as numbers: 10.0.0.x = 0x0a0000xx.
const IP_10_0_0_1 = 0x0a000001;
const IP_10_0_0_2 = 0x0a000002;

/** Runs the flags through commander exactly as a subcommand would, then validates them. */
function parseArgs(args: string[]) {
  const command = addStackFlags(new Command("test")).exitOverride();
  command.parse(args, { from: "user" });
  return parseStackFlags(command.opts<StackFlagValues>());
}

/** Asserts `fn` throws a UsageError whose single-line message mentions `flag`. */
function assertUsageError(fn: () => unknown, flag: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UsageError, `expected UsageError, got ${e}`);
    assert.ok(e.message.includes(flag), `message ${JSON.stringify(e.message)} lacks ${flag}`);
    assert.ok(!e.message.includes("\n"), "message must be one line");
    return true;
  });
}

const DEFAULTS = {
  tap: "gonet0",
  ip: { address: IP_10_0_0_2, prefixLength: 24 },
  mac: undefined,
  mtu: 1500,
  gateway: undefined,
  hostIp: { address: IP_10_0_0_1, prefixLength: 24 },
  pcap: undefined,
  faults: {},
  seed: 1,
  offload: true,
  txThread: false,
  busyPollMicros: 50,
  inlineWaitMs: 10_000,
  napMicros: 100,
  spinAheadMicros: 2000,
  rehearseMicros: 250,
  keepWarmMs: 5,
  limits: {},
  tapQueueFrames: 10_000,
  cpus: undefined,
};

Deno.test("stack flags: defaults without any flag", () => {
  assert.deepEqual(parseStackFlags({}), DEFAULTS);
});

Deno.test("stack flags: defaults through commander are the same", () => {
  assert.deepEqual(parseArgs([]), DEFAULTS);
});

Deno.test("stack flags: --no-host-config leaves the host side unconfigured", () => {
  assert.equal(parseArgs(["--no-host-config"]).hostIp, undefined);
  assert.equal(parseStackFlags({ hostConfig: false }).hostIp, undefined);
  // Then the host address is not checked against --ip either.
  assert.equal(parseStackFlags({ hostConfig: false, hostIp: "10.0.0.2/24" }).hostIp, undefined);
});

Deno.test("stack flags: every flag given", () => {
  const config = parseArgs([
    "--tap",
    "tap_1.x",
    "--ip",
    "192.168.7.10/16",
    "--mac",
    "02:AB:cd:00:00:01",
    "--mtu",
    "9000",
    "--gateway",
    "192.168.0.1",
    "--host-ip",
    "192.168.7.1/16",
    "--pcap",
    "out.pcap",
    "--drop",
    "0.1",
    "--duplicate",
    "0",
    "--reorder",
    "1",
    "--corrupt",
    ".5",
    "--seed",
    "4294967295",
    "--no-offload",
    "--tx-thread",
    "--busy-poll",
    "50",
    "--inline-wait",
    "250",
    "--nap",
    "30",
    "--spin-ahead",
    "500",
    "--rehearse",
    "0",
    "--keep-warm",
    "0",
    "--cpu",
    String(FIRST_CPU),
  ]);
  assert.deepEqual(config, {
    tap: "tap_1.x",
    ip: { address: 0xc0a8070a, prefixLength: 16 },
    mac: 0x02abcd000001,
    mtu: 9000,
    gateway: 0xc0a80001,
    hostIp: { address: 0xc0a80701, prefixLength: 16 },
    pcap: "out.pcap",
    faults: { drop: 0.1, duplicate: 0, reorder: 1, corrupt: 0.5 },
    seed: 0xffff_ffff,
    offload: false,
    txThread: true,
    busyPollMicros: 50,
    inlineWaitMs: 250,
    napMicros: 30,
    spinAheadMicros: 500,
    rehearseMicros: 0,
    keepWarmMs: 0,
    limits: {},
    tapQueueFrames: 10_000,
    cpus: [FIRST_CPU],
  });
});

Deno.test("stack flags: bad --tap names", () => {
  for (const tap of ["", "a".repeat(16), "has space", "a/b", "tap0\n"]) {
    assertUsageError(() => parseStackFlags({ tap }), "--tap");
  }
  assert.equal(parseStackFlags({ tap: "a".repeat(15) }).tap, "a".repeat(15));
});

Deno.test("stack flags: bad CIDRs for --ip and --host-ip", () => {
  for (
    const text of ["10.0.0.2", "10.0.0.2/", "10.0.0.2/33", "10.0.0.256/24", "ten/8", "", "/24"]
  ) {
    assertUsageError(() => parseStackFlags({ ip: text }), "--ip");
    assertUsageError(() => parseStackFlags({ hostIp: text }), "--host-ip");
  }
});

Deno.test("stack flags: --busy-poll takes whole microseconds up to a minute", () => {
  for (const busyPoll of ["-1", "1.5", "1e3", "abc", "", "60000001"]) {
    assertUsageError(() => parseStackFlags({ busyPoll }), "--busy-poll");
  }
  assert.equal(parseStackFlags({ busyPoll: "60000000" }).busyPollMicros, 60_000_000);
});

Deno.test("stack flags: --spin-ahead takes whole microseconds from 250 up to a second; 0 is off", () => {
  for (const spinAhead of ["-1", "1", "249", "0.5", "2e3", "abc", "", "1000001"]) {
    assertUsageError(() => parseStackFlags({ spinAhead }), "--spin-ahead");
  }
  assert.equal(parseStackFlags({ spinAhead: "0" }).spinAheadMicros, 0);
  assert.equal(parseStackFlags({ spinAhead: "250" }).spinAheadMicros, 250);
  assert.equal(parseStackFlags({ spinAhead: "1000000" }).spinAheadMicros, 1_000_000);
});

Deno.test("stack flags: --rehearse takes whole microseconds from 250 up to a second; 0 is off", () => {
  for (const rehearse of ["-1", "1", "249", "0.5", "2e3", "abc", "", "1000001"]) {
    assertUsageError(() => parseStackFlags({ rehearse }), "--rehearse");
  }
  assert.equal(parseStackFlags({ rehearse: "0" }).rehearseMicros, 0);
  assert.equal(parseStackFlags({ rehearse: "250" }).rehearseMicros, 250);
  assert.equal(parseStackFlags({ rehearse: "1000000" }).rehearseMicros, 1_000_000);
});

Deno.test("stack flags: --nap takes whole microseconds up to a second; 0 turns naps off", () => {
  for (const nap of ["-1", "0.5", "1e2", "abc", "", "1000001"]) {
    assertUsageError(() => parseStackFlags({ nap }), "--nap");
  }
  assert.equal(parseStackFlags({ nap: "0" }).napMicros, 0);
  assert.equal(parseStackFlags({ nap: "1000000" }).napMicros, 1_000_000);
});

Deno.test("stack flags: --mtu must be an integer from 68 to 65521", () => {
  for (const mtu of ["67", "65522", "0", "-1500", "1500.5", "1e3", "abc", ""]) {
    assertUsageError(() => parseStackFlags({ mtu }), "--mtu");
  }
  assert.equal(parseStackFlags({ mtu: "68" }).mtu, 68);
  assert.equal(parseStackFlags({ mtu: "65521" }).mtu, 65521);
});

Deno.test("stack flags: --gateway must parse and lie inside the --ip subnet", () => {
  assertUsageError(() => parseStackFlags({ gateway: "10.0.1.1" }), "--gateway");
  assertUsageError(() => parseStackFlags({ gateway: "8.8.8.8" }), "--gateway");
  assertUsageError(() => parseStackFlags({ gateway: "gw" }), "--gateway");
  assertUsageError(() => parseStackFlags({ gateway: "10.0.0.1/24" }), "--gateway");
  assert.equal(parseStackFlags({ gateway: "10.0.0.254" }).gateway, 0x0a0000fe);
  // The subnet is the one given with --ip.
  assert.equal(parseStackFlags({ ip: "10.0.0.2/16", gateway: "10.0.1.1" }).gateway, 0x0a000101);
});

Deno.test("stack flags: --mac must be a unicast MAC", () => {
  assertUsageError(() => parseStackFlags({ mac: "01:00:5e:00:00:01" }), "--mac"); // IPv4 multicast
  assertUsageError(() => parseStackFlags({ mac: "ff:ff:ff:ff:ff:ff" }), "--mac"); // broadcast
  assertUsageError(() => parseStackFlags({ mac: "03:00:00:00:00:01" }), "--mac"); // group bit
  assertUsageError(() => parseStackFlags({ mac: "02:00:00:00:00" }), "--mac"); // 5 octets
  assertUsageError(() => parseStackFlags({ mac: "02-00-00-00-00-01" }), "--mac");
  assert.equal(parseStackFlags({ mac: "00:11:22:33:44:55" }).mac, 0x001122334455);
});

Deno.test("stack flags: fault probabilities must be numbers from 0 to 1", () => {
  for (const name of ["drop", "duplicate", "reorder", "corrupt"] as const) {
    for (const text of ["1.01", "2", "-0.1", "abc", "", " ", "NaN"]) {
      assertUsageError(() => parseStackFlags({ [name]: text }), `--${name}`);
    }
    assert.deepEqual(parseStackFlags({ [name]: "1" }).faults, { [name]: 1 });
    assert.deepEqual(parseStackFlags({ [name]: "0" }).faults, { [name]: 0 });
  }
});

Deno.test("stack flags: --host-ip must differ from --ip", () => {
  assertUsageError(() => parseStackFlags({ hostIp: "10.0.0.2/24" }), "--host-ip");
  assertUsageError(() => parseStackFlags({ ip: "10.0.0.1/24" }), "--host-ip");
  // Same address with another prefix is still the same address.
  assertUsageError(() => parseStackFlags({ hostIp: "10.0.0.2/16" }), "--host-ip");
});

Deno.test("stack flags: --seed is an unsigned 32-bit integer", () => {
  assert.equal(parseStackFlags({ seed: "0" }).seed, 0);
  for (const seed of ["-1", "4294967296", "1.5", "x"]) {
    assertUsageError(() => parseStackFlags({ seed }), "--seed");
  }
});

Deno.test("stack flags: a wrong flag value through commander is a UsageError too", () => {
  assertUsageError(() => parseArgs(["--mtu", "20"]), "--mtu");
  assertUsageError(() => parseArgs(["--drop", "1.5"]), "--drop");
});

Deno.test("parseCidrFlag / parseAddressArg / parseIntegerFlag / parseSecondsFlag", () => {
  assert.deepEqual(parseCidrFlag("--x", "10.0.0.2/24"), { address: IP_10_0_0_2, prefixLength: 24 });
  assertUsageError(() => parseCidrFlag("--x", "10.0.0.2"), "--x");

  assert.equal(parseAddressArg("destination", "10.0.0.1"), IP_10_0_0_1);
  assertUsageError(() => parseAddressArg("destination", "example.com"), "destination");
  assertUsageError(() => parseAddressArg("destination", "10.0.0.1/24"), "destination");

  assert.equal(parseIntegerFlag("--count", "5", 1, 10), 5);
  assert.equal(parseIntegerFlag("--count", " 7 ", 1, 10), 7);
  for (const text of ["0", "11", "5.0", "+5", "0x5", ""]) {
    assertUsageError(() => parseIntegerFlag("--count", text, 1, 10), "--count");
  }

  assert.equal(parseSecondsFlag("--interval", "0.2"), 0.2);
  assert.equal(parseSecondsFlag("--interval", "0"), 0);
  assert.equal(parseSecondsFlag("--interval", "1", 0.2), 1);
  for (const text of ["-1", "", "soon", "Infinity"]) {
    assertUsageError(() => parseSecondsFlag("--interval", text), "--interval");
  }
  assertUsageError(() => parseSecondsFlag("--interval", "0.1", 0.2), "--interval");
});

Deno.test("stack flags: --limit sets caps in the stack options; unknown keys and bad values are usage errors", () => {
  const config = parseStackFlags({
    limit: ["reassemblies=32", "udp-queue=8", "tcp-receive-buffer=65536", "tcp-connections=100"],
  });
  assert.deepEqual(config.limits, {
    ipv4: { maxReassemblies: 32 },
    udp: { socketQueueDatagrams: 8 },
    tcp: { tcb: { recvBufferBytes: 65536 }, maxConnections: 100 },
  });
  for (
    const bad of [
      "nonsense=1",
      "reassemblies",
      "reassemblies=-1",
      "reassemblies=0",
      "udp-queue=1.5",
    ]
  ) {
    assert.throws(() => parseStackFlags({ limit: [bad] }), (e: Error) => {
      assert.equal(e.name, "UsageError");
      assert.match(e.message, /^invalid --limit/);
      assert.ok(!e.message.includes("\n"));
      return true;
    });
  }
});

Deno.test("stack flags: --limit tap-queue sets the TAP's kernel queue, not a stack option", () => {
  const config = parseStackFlags({ limit: ["tap-queue=500"] });
  assert.equal(config.tapQueueFrames, 500);
  assert.deepEqual(config.limits, {});
  assert.equal(parseStackFlags({}).tapQueueFrames, 10_000);
});

Deno.test("stack flags: --inline-wait takes whole milliseconds up to an hour, 0 turns it off", () => {
  for (const inlineWait of ["-1", "0.5", "1e3", "abc", "", "3600001"]) {
    assertUsageError(() => parseStackFlags({ inlineWait }), "--inline-wait");
  }
  assert.equal(parseStackFlags({ inlineWait: "0" }).inlineWaitMs, 0);
  assert.equal(parseStackFlags({ inlineWait: "3600000" }).inlineWaitMs, 3_600_000);
});

Deno.test("stack flags: --keep-warm takes whole milliseconds up to a minute, 0 turns it off", () => {
  for (const keepWarm of ["-1", "0.5", "abc", "", "60001"]) {
    assertUsageError(() => parseStackFlags({ keepWarm }), "--keep-warm");
  }
  assert.equal(parseStackFlags({ keepWarm: "0" }).keepWarmMs, 0);
  assert.equal(parseStackFlags({ keepWarm: "60000" }).keepWarmMs, 60_000);
});

Deno.test("stack flags: --cpu takes a CPU list this process may use", () => {
  assert.deepEqual(parseArgs(["--cpu", String(FIRST_CPU)]).cpus, [FIRST_CPU]);
  const status = Deno.readTextFileSync("/proc/self/status");
  const all = /^Cpus_allowed_list:\s*(.+)$/m.exec(status)![1].trim();
  assert.ok(parseArgs(["--cpu", all]).cpus!.length >= 1);
  assertUsageError(() => parseArgs(["--cpu", "zero"]), "--cpu");
  assertUsageError(() => parseArgs(["--cpu", "3-1"]), "--cpu");
  // CPU 1023 is on no machine this runs on.
  assertUsageError(() => parseArgs(["--cpu", "1023"]), "--cpu");
});
