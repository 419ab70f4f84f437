/**
 * The flags that describe a stack (`gonet up` and every subcommand that may bring up its own),
 * their defaults, and their validation into a {@link StackConfig}.
 * @module
 */

import type { Command } from "commander";
import {
  inSubnet,
  type Ipv4Addr,
  type Ipv4Cidr,
  type MacAddr,
  parseIpv4,
  parseIpv4Cidr,
  parseMac,
} from "../stack/wire/addr.ts";
import type { FaultOptions } from "../stack/link/faults.ts";
import { allowedCpus, parseCpuList } from "../ffi/affinity.ts";
import { SPIN_AHEAD_MIN_LEAD_MS } from "../ffi/spin_ahead.ts";
import { MIN_REHEARSE_MICROS } from "../ffi/tap.ts";
import { UsageError } from "./usage_error.ts";
import { LIMITS, parseLimits, type StackLimitOptions } from "./limits.ts";

/** A validated description of the stack to bring up. */
export interface StackConfig {
  /** TAP device name. */
  tap: string;
  /** The stack's address and subnet. */
  ip: Ipv4Cidr;
  /** The stack's MAC, or undefined for a random locally administered one. */
  mac: MacAddr | undefined;
  /** Link MTU. */
  mtu: number;
  /** Default gateway. */
  gateway: Ipv4Addr | undefined;
  /** Address given to the kernel side of the TAP, or undefined with `--no-host-config`. */
  hostIp: Ipv4Cidr | undefined;
  /** Where to write a pcap of every frame. */
  pcap: string | undefined;
  /** Faults to inject on the TAP, both directions. */
  faults: FaultOptions;
  /** Seed of the fault injector. */
  seed: number;
  /** Ask the TAP for checksum and segmentation offloads (vnet header). */
  offload: boolean;
  /** Write frames from a transmit thread while busy (see `TapOptions.txThread`); off by default. */
  txThread: boolean;
  /** Busy polling of the TAP after the last frame, microseconds (0: sleep when idle). */
  busyPollMicros: number;
  /** Inline waiting on the TAP after the last frame, ms (0: sleep on the thread pool at once). */
  inlineWaitMs: number;
  /** Longest sleep of an inline wait for a second after the last frame, us (0: no naps). */
  napMicros: number;
  /** Longest lead of a spin-ahead window before a periodic burst, us (0: off). */
  spinAheadMicros: number;
  /** Quiet time while spinning after which the last answered echo is rehearsed, us (0: off). */
  rehearseMicros: number;
  /** Interval of the cache warmer's rehearsal echoes, ms (0: no warmer). */
  keepWarmMs: number;
  /** Caps and tunables from `--limit KEY=VALUE`. */
  limits: StackLimitOptions;
  /** Frames the kernel queues on the TAP for us (its txqueuelen). */
  tapQueueFrames: number;
  /** CPUs the stack's JS thread is pinned to, or undefined to leave it to the scheduler. */
  cpus: number[] | undefined;
}

/** Raw flag values as commander hands them over. */
export interface StackFlagValues {
  tap?: string;
  ip?: string;
  mac?: string;
  mtu?: string;
  gateway?: string;
  hostIp?: string;
  hostConfig?: boolean;
  pcap?: string;
  drop?: string;
  duplicate?: string;
  reorder?: string;
  corrupt?: string;
  seed?: string;
  offload?: boolean;
  txThread?: boolean;
  busyPoll?: string;
  inlineWait?: string;
  nap?: string;
  spinAhead?: string;
  rehearse?: string;
  keepWarm?: string;
  limit?: string[];
  cpu?: string;
}

/** Adds the stack flags to `command`. */
export function addStackFlags(command: Command): Command {
  return command
    .option("--tap <name>", "TAP device name", "gonet0")
    .option("--ip <addr/prefix>", "the stack's address", "10.0.0.2/24")
    .option("--mac <mac>", "the stack's MAC (default: random, locally administered)")
    .option("--mtu <bytes>", "link MTU", "1500")
    .option("--gateway <addr>", "default gateway")
    .option("--host-ip <addr/prefix>", "address of the kernel side of the TAP", "10.0.0.1/24")
    .option("--no-host-config", "leave the kernel side of the TAP unconfigured")
    .option("--pcap <file>", "write every frame in and out to a pcap file")
    .option("--drop <p>", "drop frames with probability p (both directions)")
    .option("--duplicate <p>", "duplicate frames with probability p")
    .option("--reorder <p>", "reorder frames with probability p")
    .option("--corrupt <p>", "corrupt one byte of frames with probability p")
    .option("--seed <n>", "seed of the fault injector", "1")
    .option("--no-offload", "do without TAP checksum and TCP segmentation offloads (vnet header)")
    .option("--tx-thread", "write frames from a transmit thread of their own while busy")
    .option(
      "--busy-poll <usec>",
      "keep polling the TAP this long after the last frame before sleeping (0: never poll)",
      String(DEFAULT_BUSY_POLL_MICROS),
    )
    .option(
      "--inline-wait <ms>",
      "then wait this long for frames on the JS thread itself before sleeping (0: sleep at once)",
      String(DEFAULT_INLINE_WAIT_MS),
    )
    .option(
      "--nap <usec>",
      "for a second after the last frame, wait in sleeps this short: they wake faster (0: off)",
      String(DEFAULT_NAP_MICROS),
    )
    .option(
      "--spin-ahead <usec>",
      "when frames come at a steady period, poll from this long before the next is due (0: off)",
      String(DEFAULT_SPIN_AHEAD_MICROS),
    )
    .option(
      "--rehearse <usec>",
      "while polling, replay the last answered ping through the stack after this much quiet (0: off)",
      String(DEFAULT_REHEARSE_MICROS),
    )
    .option(
      "--keep-warm <ms>",
      "meanwhile rehearse an echo in private twin stacks this often to keep caches warm (0: off)",
      String(DEFAULT_KEEP_WARM_MS),
    )
    .option(
      "--cpu <list>",
      "run the stack's JS thread on these CPUs only, e.g. 0 or 0-3,6 (runtime helper threads stay free)",
    )
    .option(
      "--limit <key=value>",
      "set a cap, repeatable (keys: " + LIMITS.map((l) => l.key).join(", ") + ")",
      (value: string, previous: string[] = []) => [...previous, value],
    );
}

const TAP_NAME = /^[A-Za-z0-9_.-]{1,15}$/;

/**
 * Default busy-poll window, us (Linux suggests 50 for `net.core.busy_read`). A request/response
 * peer usually answers within it, so the next frame is found without a thread wake-up: 40% more
 * connections per second in the benchmark, for at most 50 us of spinning per burst of traffic.
 */
export const DEFAULT_BUSY_POLL_MICROS = 50;

/**
 * Default inline-wait window, ms (see `TapOptions.inlineWaitMs` in `ffi/tap.ts`). A frame that
 * arrives within it wakes the JS thread directly instead of through Deno's thread pool, which
 * halves a lone ping's round trip here; a quiet stack pays up to 250 event-loop turns a second
 * (under 1% of a core) for this long, then sleeps for free. Ten seconds covers `ping`'s default
 * one-second interval.
 */
export const DEFAULT_INLINE_WAIT_MS = 10_000;

/**
 * Default nap length, us (see `TapOptions.napMicros` in `ffi/tap.ts`). A hypervisor polls a
 * halted vCPU for up to 200 us before it deschedules it, so a frame that ends a 100 us nap is
 * answered sooner than one that ends a 4 ms sleep (here a lone ping's round trip 0.13-0.14 ms
 * instead of 0.15-0.22); at 150 us the naps, with the kernel's timer slack, already last too long.
 * Costs ~10% of a core for the second after each frame.
 */
export const DEFAULT_NAP_MICROS = 100;

/**
 * Default longest lead of spinning ahead, us (see `TapOptions.spinAheadMicros` in `ffi/tap.ts`):
 * the lead is 1% of the period and the lag four leads, so 2 ms covers `ping`'s 0.2 s and a 1 s
 * period's timer jitter alike, for about 1% of a core.
 */
export const DEFAULT_SPIN_AHEAD_MICROS = 2000;

/**
 * Default quiet time before a rehearsal, us (see `TapOptions.rehearseMicros` in `ffi/tap.ts`).
 * Probes with a lone pinger here: rehearsing after 250 or 500 us of quiet gave about the same
 * round trip (0.075-0.087 ms with spinning ahead at 250, 0.103-0.131 without rehearsals); each
 * rehearsal takes ~10 us of the spinning, so 250 us spends under 5% of it.
 */
export const DEFAULT_REHEARSE_MICROS = 250;

/**
 * Default interval of the cache warmer's rehearsal echoes, ms (see `stack/cache_warmer.ts`). Here
 * the path stays about as warm at 5 ms as at 1 ms (a lone ping's round trip 0.12-0.14 ms instead
 * of 0.24), for ~1% of a core while traffic was seen within the inline-wait window.
 */
export const DEFAULT_KEEP_WARM_MS = 5;

/** Validates the raw flags; throws {@link UsageError} with a one-line message. */
export function parseStackFlags(values: StackFlagValues): StackConfig {
  const tap = values.tap ?? "gonet0";
  if (!TAP_NAME.test(tap)) {
    throw new UsageError(`invalid --tap ${JSON.stringify(tap)}: use 1-15 letters, digits, _ . -`);
  }
  const ip = parseCidrFlag("--ip", values.ip ?? "10.0.0.2/24");
  const mac = values.mac === undefined ? undefined : parseMac(values.mac);
  if (values.mac !== undefined && (mac === undefined || (Math.floor(mac / 2 ** 40) & 1) === 1)) {
    throw new UsageError(
      `invalid --mac ${JSON.stringify(values.mac)}: expected a unicast aa:bb:cc:dd:ee:ff`,
    );
  }
  const mtu = parseIntegerFlag("--mtu", values.mtu ?? "1500", 68, 65521);
  let gateway: Ipv4Addr | undefined;
  if (values.gateway !== undefined) {
    gateway = parseIpv4(values.gateway);
    if (gateway === undefined) {
      throw new UsageError(`invalid --gateway ${JSON.stringify(values.gateway)}`);
    }
    if (!inSubnet(ip, gateway)) {
      throw new UsageError(
        `invalid --gateway ${values.gateway}: not inside ${values.ip ?? "10.0.0.2/24"}`,
      );
    }
  }
  const hostIp = values.hostConfig === false
    ? undefined
    : parseCidrFlag("--host-ip", values.hostIp ?? "10.0.0.1/24");
  if (hostIp && hostIp.address === ip.address) {
    throw new UsageError("invalid --host-ip: it must differ from --ip");
  }
  const faults: FaultOptions = {};
  for (const name of ["drop", "duplicate", "reorder", "corrupt"] as const) {
    const text = values[name];
    if (text === undefined) continue;
    const p = Number(text);
    if (text.trim() === "" || !(p >= 0 && p <= 1)) {
      throw new UsageError(
        `invalid --${name} ${JSON.stringify(text)}: expected a probability from 0 to 1`,
      );
    }
    faults[name] = p;
  }
  const seed = parseIntegerFlag("--seed", values.seed ?? "1", 0, 0xffff_ffff);
  const busyPollMicros = parseIntegerFlag(
    "--busy-poll",
    values.busyPoll ?? String(DEFAULT_BUSY_POLL_MICROS),
    0,
    60_000_000,
  );
  const inlineWaitMs = parseIntegerFlag(
    "--inline-wait",
    values.inlineWait ?? String(DEFAULT_INLINE_WAIT_MS),
    0,
    3_600_000,
  );
  const napMicros = parseIntegerFlag(
    "--nap",
    values.nap ?? String(DEFAULT_NAP_MICROS),
    0,
    1_000_000,
  );
  const spinAheadMicros = parseIntegerFlag(
    "--spin-ahead",
    values.spinAhead ?? String(DEFAULT_SPIN_AHEAD_MICROS),
    0,
    1_000_000,
  );
  if (spinAheadMicros > 0 && spinAheadMicros < SPIN_AHEAD_MIN_LEAD_MS * 1000) {
    throw new UsageError(
      `invalid --spin-ahead ${spinAheadMicros}: use 0 (off) or at least ${
        SPIN_AHEAD_MIN_LEAD_MS * 1000
      } us`,
    );
  }
  const rehearseMicros = parseIntegerFlag(
    "--rehearse",
    values.rehearse ?? String(DEFAULT_REHEARSE_MICROS),
    0,
    1_000_000,
  );
  if (rehearseMicros > 0 && rehearseMicros < MIN_REHEARSE_MICROS) {
    throw new UsageError(
      `invalid --rehearse ${rehearseMicros}: use 0 (off) or at least ${MIN_REHEARSE_MICROS} us`,
    );
  }
  const keepWarmMs = parseIntegerFlag(
    "--keep-warm",
    values.keepWarm ?? String(DEFAULT_KEEP_WARM_MS),
    0,
    60_000,
  );
  const limits = parseLimits(values.limit ?? []);
  const cpus = values.cpu === undefined ? undefined : parseCpuFlag(values.cpu);
  return {
    tap,
    ip,
    mac,
    mtu,
    gateway,
    hostIp,
    pcap: values.pcap,
    faults,
    seed,
    offload: values.offload ?? true,
    txThread: values.txThread ?? false,
    busyPollMicros,
    inlineWaitMs,
    napMicros,
    spinAheadMicros,
    rehearseMicros,
    keepWarmMs,
    limits: limits.stack,
    tapQueueFrames: limits.tapQueueFrames,
    cpus,
  };
}

/** Parses `--cpu`: a CPU list this process may run on. */
function parseCpuFlag(text: string): number[] {
  const cpus = parseCpuList(text);
  if (cpus === undefined || cpus.length === 0) {
    throw new UsageError(
      `invalid --cpu ${JSON.stringify(text)}: expected CPU numbers like 0 or 0-3,6`,
    );
  }
  const allowed = allowedCpus();
  const missing = allowed === undefined ? [] : cpus.filter((cpu) => !allowed.includes(cpu));
  if (missing.length > 0) {
    throw new UsageError(
      `invalid --cpu ${text}: CPU ${missing.join(",")} is not one this process may use ` +
        `(${allowed!.join(",")})`,
    );
  }
  return cpus;
}

/** Parses `ADDR/PREFIX` for flag `flag`. */
export function parseCidrFlag(flag: string, text: string): Ipv4Cidr {
  const cidr = parseIpv4Cidr(text);
  if (!cidr) {
    throw new UsageError(
      `invalid ${flag} ${JSON.stringify(text)}: expected ADDR/PREFIX like 10.0.0.2/24`,
    );
  }
  return cidr;
}

/** Parses an IPv4 address argument named `what`. */
export function parseAddressArg(what: string, text: string): Ipv4Addr {
  const address = parseIpv4(text);
  if (address === undefined) {
    throw new UsageError(`invalid ${what} ${JSON.stringify(text)}: expected an IPv4 address`);
  }
  return address;
}

/** Parses a decimal integer flag within [min, max]. */
export function parseIntegerFlag(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < min || value > max) {
    throw new UsageError(
      `invalid ${flag} ${JSON.stringify(text)}: expected an integer from ${min} to ${max}`,
    );
  }
  return value;
}

/** Parses a non-negative decimal number of seconds for flag `flag`. */
export function parseSecondsFlag(flag: string, text: string, minSeconds = 0): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value < minSeconds) {
    throw new UsageError(
      `invalid ${flag} ${JSON.stringify(text)}: expected seconds >= ${minSeconds}`,
    );
  }
  return value;
}
