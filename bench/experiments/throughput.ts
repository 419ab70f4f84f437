/**
 * Experiment 2, throughput vs connections: N concurrent kernel TCP clients each sending B bytes to
 * the responder's discard port (the responder confirms the count), and N clients of the
 * responder's own stack sending to a kernel discard server in the load namespace. Each point runs
 * uncounted warm-up rounds, then a few counted rounds; the median counted round is reported.
 * @module
 */

import {
  attempt,
  type Context,
  counterDelta,
  type LinkDrops,
  linkDrops,
  linkDropsDelta,
  loadgen,
  serverStats,
} from "./context.ts";

/** One load point. */
export interface ThroughputRow {
  /** Responder. */
  stack: string;
  /** `to-server` (kernel clients send to the responder) or `from-server` (its clients send). */
  direction: "to-server" | "from-server";
  /** Concurrent connections. */
  connections: number;
  /** Bytes per connection. */
  bytesPerConn: number;
  /** Connections that finished. */
  completed: number;
  /** Connections that failed. */
  failed: number;
  /** Aggregate confirmed Mbit/s. */
  mbitPerS: number;
  /** Wall time of the median round, ms. */
  wallMs: number;
  /** Mbit/s of every counted round. */
  roundsMbitPerS?: number[];
  /** Mbit/s of the uncounted warm-up rounds before them. */
  warmupMbitPerS?: number[];
  /** First error. */
  error?: string;
  /** gonet counters that moved (drops, retransmissions...), gonet only. */
  counters?: Record<string, number>;
  /** Kernel drop counters of the load namespace's link during the point. */
  linkDrops?: LinkDrops;
}

/** Runs experiment 2. */
export async function runThroughput(ctx: Context): Promise<ThroughputRow[]> {
  const { plan } = ctx;
  const rows: ThroughputRow[] = [];
  for (const direction of ["to-server", "from-server"] as const) {
    for (const bytes of plan.connBytes) {
      for (const n of plan.connCounts) {
        for (const side of ctx.sides) {
          if (direction === "from-server" && (!side.server || !side.clientIp)) continue;
          const what = `exp2 ${side.stack} ${direction} N=${n} ${bytes} B`;
          const before = await attempt(ctx, `${what} stats`, () => serverStats(side));
          const dropsBefore = await linkDrops(side);
          const r = await attempt(ctx, what, async () => {
            const options = {
              hostname: side.serverIp,
              n,
              bytes,
              timeoutMs: plan.connTimeoutMs,
              rounds: plan.connRounds,
              warmupRounds: plan.connWarmupRounds,
            };
            const budgetMs = (plan.connTimeoutMs + 5_000) *
              (plan.connRounds + plan.connWarmupRounds);
            if (direction === "to-server") {
              return await loadgen(
                side,
                { mode: "clients", ...options },
                budgetMs,
              );
            }
            const reply = await side.server!.request(
              { op: "clients", ...options, hostname: side.clientIp },
              budgetMs,
            );
            return reply.result as Record<string, unknown>;
          });
          if (!r) continue;
          const after = await attempt(ctx, `${what} stats`, () => serverStats(side));
          const delta = counterDelta(before, after);
          const drops = linkDropsDelta(dropsBefore, await linkDrops(side));
          const row = {
            stack: side.stack,
            direction,
            connections: n,
            bytesPerConn: bytes,
            completed: r.completed,
            failed: r.failed,
            mbitPerS: r.mbitPerS,
            wallMs: r.wallMs,
            roundsMbitPerS: r.roundsMbitPerS,
            warmupMbitPerS: r.warmupMbitPerS,
            error: r.error,
            counters: delta ? pickInteresting(delta) : undefined,
            linkDrops: drops,
          } as ThroughputRow;
          rows.push(row);
          ctx.log(
            `${what}: ${row.mbitPerS.toFixed(1)} Mbit/s, ${row.completed}/${n} ok, ` +
              `${row.wallMs.toFixed(0)} ms`,
          );
          if (row.failed > 0) {
            ctx.note(
              `${what}: ${row.failed} of ${n} connections failed (${row.error})` +
                (delta ? `; gonet counters moved: ${JSON.stringify(pickInteresting(delta))}` : ""),
            );
          }
        }
      }
    }
  }
  return rows;
}

/** The counters worth showing in a note: drops, errors, retransmissions, resets. */
export function pickInteresting(delta: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(delta)) {
    if (
      /drop|error|retrans|timeout|reset|overflow|invalid|bad|full|dup|outOf|paws|cookie/i.test(k)
    ) {
      out[k] = v;
    }
  }
  return out;
}
