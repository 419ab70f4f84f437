/**
 * The caps and tunables `gonet up --limit KEY=VALUE` can set, with their defaults: one table that
 * the flag parser, `gonet up --limit help` and the README's "Security and limits" section share.
 * @module
 */

import type { StackOptions } from "../stack/stack.ts";
import { UsageError } from "./usage_error.ts";

/** One settable limit. */
export interface LimitSpec {
  /** Flag key, e.g. `reassemblies`. */
  readonly key: string;
  /** Default value (the library's). */
  readonly defaultValue: number;
  /** Smallest value accepted. */
  readonly min: number;
  /** What it caps. */
  readonly what: string;
  /** Writes the value into stack options. */
  readonly apply: (limits: ParsedLimits, value: number) => void;
}

/** The parts of {@link StackOptions} limits write to. */
export type StackLimitOptions = Pick<
  StackOptions,
  "inboxPackets" | "arp" | "ipv4" | "icmp" | "udp" | "tcp"
>;

const tcb = (o: StackLimitOptions) => {
  o.tcp ??= {};
  return (o.tcp.tcb ??= {});
};

/** Default of the `tap-queue` limit: frames the kernel holds for us on the TAP. */
export const DEFAULT_TAP_QUEUE_FRAMES = 10_000;

/** Every limit, in the order they are documented. */
export const LIMITS: readonly LimitSpec[] = [
  {
    key: "tap-queue",
    defaultValue: DEFAULT_TAP_QUEUE_FRAMES,
    min: 16,
    what:
      "frames the kernel queues on the TAP for the stack (its txqueuelen; Linux's default is 1000)",
    apply: (limits, v) => limits.tapQueueFrames = v,
  },
  {
    key: "inbox-packets",
    defaultValue: 4096,
    min: 16,
    what: "packets queued in each layer's inbox before ingress drops",
    apply: ({ stack: o }, v) => o.inboxPackets = v,
  },
  {
    key: "arp-entries",
    defaultValue: 1024,
    min: 1,
    what: "ARP cache entries (oldest evicted)",
    apply: ({ stack: o }, v) => (o.arp ??= {}).maxEntries = v,
  },
  {
    key: "arp-resolutions",
    defaultValue: 256,
    min: 1,
    what: "addresses being resolved at once",
    apply: ({ stack: o }, v) => (o.arp ??= {}).maxResolvers = v,
  },
  {
    key: "arp-queue",
    defaultValue: 64,
    min: 1,
    what: "packets parked per neighbour while ARP resolves it",
    apply: ({ stack: o }, v) => (o.ipv4 ??= {}).maxPendingPerNeighbour = v,
  },
  {
    key: "reassemblies",
    defaultValue: 256,
    min: 1,
    what: "datagrams being reassembled at once (oldest evicted)",
    apply: ({ stack: o }, v) => (o.ipv4 ??= {}).maxReassemblies = v,
  },
  {
    key: "reassembly-bytes",
    defaultValue: 4 * 1024 * 1024,
    min: 65536,
    what: "bytes held by all reassemblies together",
    apply: ({ stack: o }, v) => (o.ipv4 ??= {}).maxReassemblyBytes = v,
  },
  {
    key: "reassembly-timeout-ms",
    defaultValue: 30_000,
    min: 1,
    what: "time to complete a datagram before ICMP time exceeded",
    apply: ({ stack: o }, v) => (o.ipv4 ??= {}).reassemblyTimeoutMs = v,
  },
  {
    key: "icmp-error-rate",
    defaultValue: 100,
    min: 1,
    what: "ICMP errors sent per second",
    apply: ({ stack: o }, v) => (o.icmp ??= {}).errorRatePerSec = v,
  },
  {
    key: "echo-reply-rate",
    defaultValue: 100_000,
    min: 1,
    what: "echo replies sent per second",
    apply: ({ stack: o }, v) => (o.icmp ??= {}).echoReplyRatePerSec = v,
  },
  {
    key: "udp-queue",
    defaultValue: 1024,
    min: 1,
    what: "datagrams queued per UDP socket",
    apply: ({ stack: o }, v) => (o.udp ??= {}).socketQueueDatagrams = v,
  },
  {
    key: "tcp-connections",
    defaultValue: 16_384,
    min: 1,
    what: "TCP connections at once",
    apply: ({ stack: o }, v) => (o.tcp ??= {}).maxConnections = v,
  },
  {
    key: "tcp-backlog",
    defaultValue: 128,
    min: 1,
    what: "default listen backlog (SYN cookies beyond it)",
    apply: ({ stack: o }, v) => (o.tcp ??= {}).backlog = v,
  },
  {
    key: "tcp-send-buffer",
    defaultValue: 256 * 1024,
    min: 4096,
    what: "bytes buffered per TCP connection for sending",
    apply: ({ stack: o }, v) => tcb(o).sendBufferBytes = v,
  },
  {
    key: "tcp-receive-buffer",
    defaultValue: 256 * 1024,
    min: 4096,
    what: "bytes buffered per TCP connection for the reader (the window)",
    apply: ({ stack: o }, v) => tcb(o).recvBufferBytes = v,
  },
  {
    key: "tcp-out-of-order",
    defaultValue: 256 * 1024,
    min: 0,
    what: "out-of-order bytes held per TCP connection",
    apply: ({ stack: o }, v) => tcb(o).maxOutOfOrderBytes = v,
  },
  {
    key: "tcp-time-wait-ms",
    defaultValue: 60_000,
    min: 0,
    what: "TIME-WAIT duration (2 MSL)",
    apply: ({ stack: o }, v) => tcb(o).timeWaitMs = v,
  },
];

/** What `--limit` flags set: stack options, and the kernel-side queue of the TAP. */
export interface ParsedLimits {
  /** Options for `Stack.create`. */
  stack: StackLimitOptions;
  /** Frames the kernel queues on the TAP for the stack. */
  tapQueueFrames: number;
}

/** Parses `--limit KEY=VALUE` flags; throws {@link UsageError}. */
export function parseLimits(flags: readonly string[]): ParsedLimits {
  const limits: ParsedLimits = { stack: {}, tapQueueFrames: DEFAULT_TAP_QUEUE_FRAMES };
  for (const flag of flags) {
    const eq = flag.indexOf("=");
    const key = eq < 0 ? flag : flag.slice(0, eq);
    const spec = LIMITS.find((l) => l.key === key);
    if (!spec) {
      throw new UsageError(
        `invalid --limit ${JSON.stringify(flag)}: unknown key (known: ${
          LIMITS.map((l) => l.key).join(", ")
        })`,
      );
    }
    const text = flag.slice(eq + 1);
    const value = Number(text);
    if (eq < 0 || !/^\d+$/.test(text) || value < spec.min) {
      throw new UsageError(
        `invalid --limit ${JSON.stringify(flag)}: expected ${key}=N with N >= ${spec.min}`,
      );
    }
    spec.apply(limits, value);
  }
  return limits;
}
