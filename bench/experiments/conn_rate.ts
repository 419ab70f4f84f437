/**
 * Experiment 4, connection rate: `rateLoops` concurrent kernel client loops of connect, one
 * 32-byte exchange with the echo port, close, for `rateMs` per side, in alternating rounds.
 * @module
 */

import {
  attempt,
  type Context,
  counterDelta,
  loadgen,
  type ServerStats,
  serverStats,
} from "./context.ts";
import type { RateResult } from "../workloads.ts";

/** A side's rounds added up. */
type RoundTotal = Pick<RateResult, "completed" | "failed" | "wallMs" | "error">;
import { pickInteresting } from "./throughput.ts";

/** One side's result. */
export interface ConnRateRow {
  /** Responder. */
  stack: string;
  /** Concurrent client loops. */
  loops: number;
  /** Rounds the side's time was split into, taking turns with the other sides. */
  rounds: number;
  /** Exchanges completed. */
  completed: number;
  /** Exchanges failed. */
  failed: number;
  /** Completed per second. */
  perSecond: number;
  /** Measured duration, ms. */
  wallMs: number;
  /** First error. */
  error?: string;
  /** gonet counters that moved (drops, retransmissions...), gonet only. */
  counters?: Record<string, number>;
  /** Connections in gonet's table afterwards (TIME-WAIT included), gonet only. */
  tableAfter?: number;
}

/**
 * Runs experiment 4: `rateRounds` rounds of `rateMs / rateRounds` each, the sides taking turns in
 * every round; each side's row sums its rounds.
 */
export async function runConnRate(ctx: Context): Promise<ConnRateRow[]> {
  const { plan } = ctx;
  const roundMs = Math.round(plan.rateMs / plan.rateRounds);
  const totals = new Map<string, RoundTotal>();
  const before = new Map<string, ServerStats | undefined>();
  for (const side of ctx.sides) {
    before.set(side.stack, await attempt(ctx, `exp4 ${side.stack} stats`, () => serverStats(side)));
  }
  for (let round = 1; round <= plan.rateRounds; round++) {
    for (const side of ctx.sides) {
      const what = `exp4 ${side.stack} round ${round}/${plan.rateRounds}`;
      const r = await attempt(ctx, what, () =>
        loadgen(side, {
          mode: "rawrate",
          hostname: side.serverIp,
          loops: plan.rateLoops,
          durationMs: roundMs,
          maxCount: 1_000_000,
          timeoutMs: 5_000,
        }, roundMs + 30_000)) as RateResult | undefined;
      if (!r) continue;
      const total = totals.get(side.stack) ?? { completed: 0, failed: 0, wallMs: 0 };
      total.completed += r.completed;
      total.failed += r.failed;
      total.wallMs += r.wallMs;
      total.error ??= r.error;
      totals.set(side.stack, total);
    }
  }
  const rows: ConnRateRow[] = [];
  for (const side of ctx.sides) {
    const what = `exp4 ${side.stack}`;
    const total = totals.get(side.stack);
    const after = await attempt(ctx, `${what} stats`, () => serverStats(side));
    if (!total) continue;
    const delta = counterDelta(before.get(side.stack), after);
    const row: ConnRateRow = {
      stack: side.stack,
      loops: plan.rateLoops,
      rounds: plan.rateRounds,
      ...total,
      perSecond: total.completed / (total.wallMs / 1000),
      counters: delta ? pickInteresting(delta) : undefined,
      tableAfter: (after?.gonet as { tcp?: { activeConnections?: number } } | undefined)?.tcp
        ?.activeConnections,
    };
    rows.push(row);
    ctx.log(`${what}: ${row.perSecond.toFixed(0)}/s, ${row.failed} failed`);
    if (row.failed > 0) {
      ctx.note(
        `${what}: ${row.failed} exchanges failed (${row.error})` +
          (delta ? `; gonet counters moved: ${JSON.stringify(pickInteresting(delta))}` : ""),
      );
    }
  }
  return rows;
}
