/**
 * Experiment 5, memory per connection: RSS of the server process with N established idle
 * connections minus its RSS before, divided by N (/proc/self/status VmRSS, after a GC). For the
 * kernel baseline this is only the user-space part: the kernel's socket memory is not in RSS.
 * @module
 */

import { attempt, type Context, serverStats, startLoadgen } from "./context.ts";

/** One side's result. */
export interface MemoryRow {
  /** Responder. */
  stack: string;
  /** Connections asked for. */
  requested: number;
  /** Connections the clients established. */
  opened: number;
  /** Connections the server had accepted when measured. */
  serverOpen: number;
  /** RSS before, bytes. */
  rssBeforeBytes: number;
  /** RSS with the connections open, bytes. */
  rssAfterBytes: number;
  /** (after - before) / opened. */
  bytesPerConn: number;
  /** Time to open them, ms. */
  openMs: number;
  /** First connect error. */
  error?: string;
}

/** Runs experiment 5. */
export async function runMemory(ctx: Context): Promise<MemoryRow[]> {
  const { plan } = ctx;
  const rows: MemoryRow[] = [];
  for (const side of ctx.sides) {
    if (!side.server) continue;
    const what = `exp5 ${side.stack}`;
    const row = await attempt(ctx, what, async () => {
      await side.server!.request({ op: "gc" }, 10_000);
      const before = (await serverStats(side))!;
      const holder = startLoadgen(side, {
        mode: "hold",
        hostname: side.serverIp,
        n: plan.memConns,
        parallel: 64,
        timeoutMs: 5_000,
        deadlineMs: 60_000,
        holdMs: 120_000,
      }, `${what} holder`);
      try {
        const opened = await holder.next(90_000);
        // Wait (bounded) until the server has accepted what the clients opened.
        let after = (await serverStats(side))!;
        const waitUntil = performance.now() + 10_000;
        while (
          after.counters.open - before.counters.open < Number(opened.opened) &&
          performance.now() < waitUntil
        ) {
          await new Promise((r) => setTimeout(r, 200));
          after = (await serverStats(side))!;
        }
        await side.server!.request({ op: "gc" }, 10_000);
        after = (await serverStats(side))!;
        const n = Number(opened.opened);
        const result: MemoryRow = {
          stack: side.stack,
          requested: plan.memConns,
          opened: n,
          serverOpen: after.counters.open - before.counters.open,
          rssBeforeBytes: before.rssBytes,
          rssAfterBytes: after.rssBytes,
          bytesPerConn: n > 0 ? (after.rssBytes - before.rssBytes) / n : NaN,
          openMs: Number(opened.wallMs),
          error: opened.error as string | undefined,
        };
        await holder.send({ op: "close" });
        await holder.next(30_000);
        return result;
      } finally {
        await holder.stop(5_000);
      }
    });
    if (!row) continue;
    rows.push(row);
    ctx.log(
      `${what}: ${row.opened}/${row.requested} open, ${
        (row.bytesPerConn / 1024).toFixed(1)
      } KiB/conn`,
    );
    if (row.opened < row.requested || row.serverOpen < row.opened) {
      ctx.note(
        `${what}: clients opened ${row.opened} of ${row.requested}, server saw ${row.serverOpen}` +
          (row.error ? ` (${row.error})` : ""),
      );
    }
    // Let the closes settle before the next side.
    await new Promise((r) => setTimeout(r, 500));
  }
  return rows;
}
