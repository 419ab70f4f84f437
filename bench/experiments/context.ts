/**
 * What every experiment gets: the sides under test (where their load runs, where their responder
 * is, the responder's control channel) and the plan (sizes, counts, durations of this mode).
 * @module
 */

import { onCpus } from "../cpus.ts";
import type { LineProcess, Namespace } from "../netns.ts";

/** One responder under test and the namespace its load runs in. */
export interface Side {
  /** `gonet`, `kernel`, or `target` (an external responder). */
  readonly stack: string;
  /** Namespace of the load generators. */
  readonly clientNs: Namespace;
  /** The responder's address. */
  readonly serverIp: string;
  /** The load namespace's address as the responder sees it (absent for an external target). */
  readonly clientIp?: string;
  /** The responder's control channel (absent for an external target). */
  readonly server?: LineProcess;
  /**
   * The responder's process, when this run started it: experiment 1 stops the other responders
   * while it measures one side (see `measuredAlone` in `latency.ts`).
   */
  readonly responder?: Deno.ChildProcess;
  /** Offload setting of the responder, as reported in experiment 3. */
  readonly offloads?: string;
  /** The responder busy-polls this long after its last frame (gonet `--busy-poll`), us. */
  readonly busyPollMicros?: number;
  /** CPUs the side's load runs on (a `taskset -c` list; unset: wherever the scheduler puts it). */
  readonly loadCpus?: string;
  /** A latency-only side of experiment 1 is measured up to this many pingers (default 100). */
  readonly maxConcurrency?: number;
}

/** Sizes, counts and durations of one mode (full, quick, smoke). */
export interface Plan {
  /** Mode name. */
  mode: "full" | "quick" | "smoke";
  /** Experiments to run (1..6). */
  experiments: number[];
  /** Exp. 1: concurrent ping processes. */
  pingConcurrency: number[];
  /** Exp. 1: echo requests per ping process. */
  pingCount: number;
  /** Exp. 1: echo requests of the lone pinger (C=1), whose mean ten samples make too noisy. */
  pingCountAlone: number;
  /** Exp. 1: seconds between requests of one process. */
  pingInterval: number;
  /** Exp. 1: ICMP payload sizes. */
  pingSizes: number[];
  /** Exp. 1: the payload sizes at which the latency-only sides (busy poll, floor...) are measured. */
  extraSidePingSizes: number[];
  /** Exp. 2: concurrent connections. */
  connCounts: number[];
  /** Exp. 2: bytes each connection sends. */
  connBytes: number[];
  /** Exp. 2: rounds per point (the median round is reported). */
  connRounds: number;
  /** Exp. 2: uncounted rounds before them, so that both sides run compiled code. */
  connWarmupRounds: number;
  /** Exp. 2: per-point time limit, ms. */
  connTimeoutMs: number;
  /** Exp. 3: bytes of the single stream. */
  bulkBytes: number;
  /** Exp. 3: time limit per direction, ms. */
  bulkTimeoutMs: number;
  /** Exp. 4: duration, ms. */
  rateMs: number;
  /** Exp. 4: concurrent client loops. */
  rateLoops: number;
  /**
   * Exp. 4: rounds the duration is split into, the sides taking turns, so a VM whose speed drifts
   * over minutes (as these do) slows every side alike and the ratio stays fair.
   */
  rateRounds: number;
  /** Exp. 5: idle connections. */
  memConns: number;
  /** Exp. 6: datagram sizes. */
  udpSizes: number[];
  /** Exp. 6: duration of each direction, ms. */
  udpMs: number;
  /** Exp. 6: datagram cap per direction. */
  udpMaxCount: number;
}

/** The plan of each mode. */
export function planFor(mode: Plan["mode"]): Plan {
  if (mode === "smoke") {
    return {
      ...planFor("quick"),
      mode,
      experiments: [1],
      pingConcurrency: [1],
      pingCount: 3,
      pingCountAlone: 3,
      pingSizes: [56],
      extraSidePingSizes: [56],
    };
  }
  const quick = mode === "quick";
  return {
    mode,
    experiments: [1, 2, 3, 4, 5, 6],
    pingConcurrency: quick ? [1, 10, 100, 300, 1000] : [1, 10, 100, 300, 600, 1000],
    pingCount: 10,
    pingCountAlone: quick ? 10 : 40,
    pingInterval: 0.2,
    pingSizes: [56, 1472],
    // Quick mode keeps under 3 minutes on a 2-CPU VM by measuring those sides at 56 B only.
    extraSidePingSizes: quick ? [56] : [56, 1472],
    connCounts: [1, 10, 50, 100],
    connBytes: [4096, 1 << 20],
    connRounds: quick ? 3 : 5,
    connWarmupRounds: quick ? 1 : 3,
    connTimeoutMs: quick ? 15_000 : 60_000,
    bulkBytes: quick ? 200_000_000 : 2_000_000_000,
    bulkTimeoutMs: quick ? 30_000 : 240_000,
    rateMs: quick ? 3_000 : 10_000,
    rateLoops: 8,
    rateRounds: quick ? 3 : 5,
    memConns: quick ? 1_000 : 10_000,
    udpSizes: [64, 1472],
    udpMs: quick ? 1_000 : 3_000,
    udpMaxCount: quick ? 500_000 : 2_000_000,
  };
}

/** Everything an experiment needs. */
export interface Context {
  /** Sides, gonet first, the kernel baseline second. */
  sides: Side[];
  /** Extra sides measured only by the bulk experiment (gonet without offloads). */
  bulkOnlySides?: Side[];
  /** Extra sides measured only by the latency experiment (gonet with busy polling). */
  latencyOnlySides?: Side[];
  /** This run's plan. */
  plan: Plan;
  /** Progress output (stderr). */
  log(message: string): void;
  /** Records a problem seen during the run (goes to results.json and results.md). */
  note(message: string): void;
}

const LOADGEN = new URL("../load/loadgen.ts", import.meta.url).pathname;
const PINGS = new URL("../load/pings.ts", import.meta.url).pathname;

/** The command line of a load generator mode, on the side's load CPUs. */
function loadgenCommand(side: Side, options: Record<string, unknown>): string[] {
  const command = [
    Deno.execPath(),
    "run",
    "-A",
    "--unstable-net",
    LOADGEN,
    JSON.stringify(options),
  ];
  return onCpus(side.loadCpus, command);
}

/** Runs a load generator mode in the side's load namespace and returns its JSON result. */
export function loadgen(
  side: Side,
  options: Record<string, unknown>,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  return side.clientNs.runJson(loadgenCommand(side, options), timeoutMs);
}

/** Starts a load generator mode that talks on stdin/stdout (`hold`, `udpsink`). */
export function startLoadgen(side: Side, options: Record<string, unknown>, label: string) {
  return side.clientNs.start(loadgenCommand(side, options), label);
}

/** Runs the ping load in the side's load namespace. */
export function pings(
  side: Side,
  options: Record<string, unknown>,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  // The ping processes inherit the runner's CPUs.
  return side.clientNs.runJson(
    onCpus(side.loadCpus, [Deno.execPath(), "run", "-A", PINGS, JSON.stringify(options)]),
    timeoutMs,
  );
}

/** Server process counters (`undefined` for an external target). */
export interface ServerStats {
  /** Workload counters. */
  counters: Record<string, number>;
  /** RSS, bytes. */
  rssBytes: number;
  /** The JS engine's view (`Deno.memoryUsage()`): heap used and memory outside the heap. */
  memory?: { heapUsed: number; heapTotal: number; external: number; rss: number };
  /** CPU seconds used so far. */
  cpuSeconds: number;
  /** gonet's own counters (gonet only). */
  gonet?: Record<string, unknown>;
}

/** Asks the side's server for its stats. */
export async function serverStats(side: Side): Promise<ServerStats | undefined> {
  if (!side.server) return undefined;
  return (await side.server.request({ op: "stats" }, 10_000)) as unknown as ServerStats;
}

/** Busy CPU seconds of the whole machine so far (from /proc/stat, all modes but idle/iowait). */
export function machineBusySeconds(): number {
  const line = Deno.readTextFileSync("/proc/stat").split("\n")[0];
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = fields[3] + fields[4];
  return (total - idle) / 100; // USER_HZ is 100 on Linux.
}

/** Runs `fn`, turning a failure into a note and `undefined`. */
export async function attempt<T>(
  ctx: Context,
  what: string,
  fn: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await fn();
  } catch (error) {
    ctx.note(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

/** Differences of the gonet counters between two snapshots (only the non-zero ones). */
export function counterDelta(
  before: ServerStats | undefined,
  after: ServerStats | undefined,
): Record<string, number> | undefined {
  if (!before?.gonet || !after?.gonet) return undefined;
  const flat = (value: unknown, prefix: string, out: Record<string, number>) => {
    if (typeof value === "number") out[prefix] = value;
    else if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) flat(v, prefix ? `${prefix}.${k}` : k, out);
    }
    return out;
  };
  const a = flat(before.gonet, "", {});
  const b = flat(after.gonet, "", {});
  const delta: Record<string, number> = {};
  for (const [k, v] of Object.entries(b)) {
    const d = v - (a[k] ?? 0);
    if (d !== 0) delta[k] = d;
  }
  return delta;
}

/** Drop counters of the load namespace's links (the TAP's kernel side, or the veth). */
export interface LinkDrops {
  /** Frames the kernel dropped on receive (from the responder). */
  rxDropped: number;
  /** Frames the kernel dropped on transmit (towards the responder: a full TAP queue). */
  txDropped: number;
}

/** Sums the kernel's drop counters over the non-loopback links of `side`'s load namespace. */
export async function linkDrops(side: Side): Promise<LinkDrops | undefined> {
  try {
    const out = await side.clientNs.run(["ip", "-j", "-s", "link", "show"], 5_000);
    const links = JSON.parse(out.stdout) as {
      ifname: string;
      stats64?: { rx: { dropped: number }; tx: { dropped: number } };
    }[];
    const drops = { rxDropped: 0, txDropped: 0 };
    for (const link of links) {
      if (link.ifname === "lo" || !link.stats64) continue;
      drops.rxDropped += link.stats64.rx.dropped;
      drops.txDropped += link.stats64.tx.dropped;
    }
    return drops;
  } catch {
    return undefined;
  }
}

/** `after - before` of two {@link linkDrops} snapshots. */
export function linkDropsDelta(
  before: LinkDrops | undefined,
  after: LinkDrops | undefined,
): LinkDrops | undefined {
  if (!before || !after) return undefined;
  return {
    rxDropped: after.rxDropped - before.rxDropped,
    txDropped: after.txDropped - before.txDropped,
  };
}
