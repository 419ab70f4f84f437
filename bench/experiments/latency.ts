/**
 * Experiment 1, latency vs load: C concurrent kernel `ping` processes against the responder,
 * for each payload size; mean/p50/p99 RTT and loss. Every responder first answers a short
 * unmeasured burst of pings, so the first point measures a running stack (the kernel's path is
 * always warm; a freshly started JavaScript one is still being compiled).
 * @module
 */

import {
  attempt,
  type Context,
  counterDelta,
  type LinkDrops,
  linkDrops,
  linkDropsDelta,
  pings,
  serverStats,
  type Side,
} from "./context.ts";
import { pickInteresting } from "./throughput.ts";

/** One load point. */
export interface LatencyRow {
  /** Responder. */
  stack: string;
  /** ICMP payload bytes. */
  payload: number;
  /** Concurrent ping processes. */
  concurrency: number;
  /** Requests sent. */
  sent: number;
  /** Replies received. */
  received: number;
  /** Fraction lost. */
  loss: number;
  /** Mean RTT, ms. */
  meanMs: number;
  /** Median RTT, ms. */
  p50Ms: number;
  /** 99th percentile RTT, ms. */
  p99Ms: number;
  /** Ping processes that got nothing. */
  failures: number;
  /** gonet counters that moved (drops...), gonet only. */
  counters?: Record<string, number>;
  /** Kernel drop counters of the load namespace's link. */
  linkDrops?: LinkDrops;
  /**
   * Spin-ahead windows the TAP opened during the point, and bursts of requests that came in one
   * (`ffi/spin_ahead.ts`), gonet only.
   */
  spinAhead?: { windows: number; hits: number };
  /** Echoes the TAP rehearsed through the stack during the point (`rehearseMicros`), gonet only. */
  rehearsals?: number;
}

/** The latency-only sides (busy polling, the floors) are measured up to this many pingers. */
const EXTRA_SIDES_MAX_CONCURRENCY = 100;

function busy(side: Side): boolean {
  return (side.busyPollMicros ?? 0) > 0;
}

/** How long stopped responders may take to stop, ms: one scheduler tick is plenty. */
const STOP_TIMEOUT_MS = 1000;

/** Whether process `pid` is stopped (state `T`) or gone. */
function isStopped(pid: number): boolean {
  let stat: string;
  try {
    stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return true;
  }
  // The command name in parentheses may hold spaces: the state letter follows the last one.
  const end = stat.lastIndexOf(")");
  return stat.slice(end + 2, end + 3) === "T";
}

/** Resolves once every process in `pids` is stopped or gone; throws after `timeoutMs`. */
async function untilStopped(pids: readonly number[], timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!pids.every(isStopped)) {
    if (performance.now() > deadline) {
      throw new Error(`responders did not stop within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/**
 * Runs `measure` while every responder of `sides` but `side`'s is stopped (SIGSTOP), then lets
 * them go on (SIGCONT). The responders' JS threads share one CPU, and an idle one is not idle:
 * for seconds after its last frame it waits in short slices, naps and rehearses echoes (cache
 * warmer), which took the measured responder's CPU and caches at unlucky moments. The kernel
 * side answers pings in the kernel, so its own process is never the one measured.
 */
export async function measuredAlone<T>(
  sides: readonly Side[],
  side: Side,
  measure: () => Promise<T>,
): Promise<T> {
  const others = sides.filter((s) => s !== side && s.responder !== undefined);
  const signal = (name: Deno.Signal) => {
    for (const other of others) {
      try {
        other.responder!.kill(name);
      } catch {
        // Already gone: the experiment reports that side's failures itself.
      }
    }
  };
  signal("SIGSTOP");
  try {
    // A stop takes effect when the process next runs; measure only once all of them have.
    await untilStopped(others.map((o) => o.responder!.pid), STOP_TIMEOUT_MS);
    return await measure();
  } finally {
    signal("SIGCONT");
  }
}

/** Runs experiment 1. */
export async function runLatency(ctx: Context): Promise<LatencyRow[]> {
  const { plan } = ctx;
  const rows: LatencyRow[] = [];
  const extra = new Set(ctx.latencyOnlySides ?? []);
  const sides = [...ctx.sides, ...extra];
  for (const side of sides) {
    await attempt(
      ctx,
      `exp1 ${side.stack} warm-up`,
      () =>
        measuredAlone(sides, side, () =>
          pings(side, {
            target: side.serverIp,
            concurrency: 4,
            count: 250,
            interval: 0.002,
            size: 56,
          }, 30_000)),
    );
  }
  for (const payload of plan.pingSizes) {
    for (const concurrency of plan.pingConcurrency) {
      for (const side of sides) {
        // The extra sides (busy polling, the floor) answer a question about low load only.
        const maxConcurrency = side.maxConcurrency ?? EXTRA_SIDES_MAX_CONCURRENCY;
        if (extra.has(side) && concurrency > maxConcurrency) continue;
        if (extra.has(side) && !plan.extraSidePingSizes.includes(payload)) continue;
        const count = concurrency === 1 ? plan.pingCountAlone : plan.pingCount;
        const budgetMs = (count * plan.pingInterval + 12) * 1000 + concurrency * 20;
        const before = await attempt(ctx, "exp1 stats", () => serverStats(side));
        const dropsBefore = await linkDrops(side);
        const r = await attempt(
          ctx,
          `exp1 ${side.stack} C=${concurrency} ${payload} B`,
          () =>
            measuredAlone(sides, side, () =>
              pings(side, {
                target: side.serverIp,
                concurrency,
                count,
                interval: plan.pingInterval,
                size: payload,
              }, budgetMs)),
        );
        if (busy(side)) {
          // A busy-polling responder keeps a CPU busy for this long after the last ping; let it
          // stop before the next side is measured on the same two CPUs.
          await new Promise((resolve) => setTimeout(resolve, side.busyPollMicros! / 1000 + 100));
        }
        if (!r) continue;
        const delta = counterDelta(
          before,
          await attempt(ctx, "exp1 stats", () => serverStats(side)),
        );
        const row = {
          stack: side.stack,
          payload,
          concurrency,
          ...r,
          counters: delta ? pickInteresting(delta) : undefined,
          linkDrops: linkDropsDelta(dropsBefore, await linkDrops(side)),
          spinAhead: delta && {
            windows: delta["link.rxSpinAheadWindows"] ?? 0,
            hits: delta["link.rxSpinAheadHits"] ?? 0,
          },
          rehearsals: delta && (delta["link.rxRehearsals"] ?? 0),
        } as unknown as LatencyRow;
        rows.push(row);
        ctx.log(
          `exp1 ${side.stack} C=${concurrency} ${payload} B: mean ${row.meanMs?.toFixed(3)} ms ` +
            `p50 ${row.p50Ms?.toFixed(3)} ms p99 ${row.p99Ms?.toFixed(3)} ms loss ` +
            `${(row.loss * 100).toFixed(1)}%` +
            (row.spinAhead?.windows
              ? `; spin-ahead: ${row.spinAhead.hits} bursts in ${row.spinAhead.windows} windows`
              : "") +
            (row.rehearsals ? `; ${row.rehearsals} rehearsals` : ""),
        );
        if (row.loss > 0) {
          ctx.note(
            `exp1 ${side.stack} C=${concurrency} ${payload} B: ${row.sent - row.received} of ` +
              `${row.sent} echo requests unanswered` +
              (row.counters ? `; gonet counters moved: ${JSON.stringify(row.counters)}` : "") +
              (row.linkDrops?.txDropped
                ? `; the kernel dropped ${row.linkDrops.txDropped} frames towards the responder`
                : ""),
          );
        }
      }
    }
  }
  return rows;
}
