/**
 * Experiment 4, connection rate: `rateLoops` concurrent kernel client loops of connect, one
 * 32-byte exchange with the echo port, close, for `rateMs`.
 * @module
 */

import { attempt, type Context, counterDelta, loadgen, serverStats } from "./context.ts";
import { pickInteresting } from "./throughput.ts";

/** One side's result. */
export interface ConnRateRow {
  /** Responder. */
  stack: string;
  /** Concurrent client loops. */
  loops: number;
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

/** Runs experiment 4. */
export async function runConnRate(ctx: Context): Promise<ConnRateRow[]> {
  const { plan } = ctx;
  const rows: ConnRateRow[] = [];
  for (const side of ctx.sides) {
    const what = `exp4 ${side.stack}`;
    const before = await attempt(ctx, `${what} stats`, () => serverStats(side));
    const r = await attempt(ctx, what, () =>
      loadgen(side, {
        mode: "rate",
        hostname: side.serverIp,
        loops: plan.rateLoops,
        durationMs: plan.rateMs,
        maxCount: 1_000_000,
        timeoutMs: 5_000,
      }, plan.rateMs + 30_000));
    const after = await attempt(ctx, `${what} stats`, () => serverStats(side));
    if (!r) continue;
    const delta = counterDelta(before, after);
    const row = {
      stack: side.stack,
      loops: plan.rateLoops,
      ...r,
      counters: delta ? pickInteresting(delta) : undefined,
      tableAfter: (after?.gonet as { tcp?: { activeConnections?: number } } | undefined)?.tcp
        ?.activeConnections,
    } as unknown as ConnRateRow;
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
