/**
 * Experiment 5, memory per connection: RSS of the server process with N established idle
 * connections minus its RSS before, divided by N (/proc/self/status VmRSS, after a memory-reducing
 * GC: the state an idle process reaches by itself, see serve.ts). For the
 * kernel baseline this is only the user-space part: the kernel's socket memory is not in RSS.
 * @module
 */

import { attempt, type Context, serverStats, type Side, startLoadgen } from "./context.ts";

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
  /** RSS growth per connection over the second half of the connections. */
  marginalBytesPerConn: number;
  /** JS heap in use, growth per connection over the second half (after a GC). */
  marginalHeapBytesPerConn?: number;
  /** Memory outside the JS heap that the engine tracks (ArrayBuffers), same. */
  marginalExternalBytesPerConn?: number;
  /** Time to open them, ms. */
  openMs: number;
  /** First connect error. */
  error?: string;
}

function perConn(after: number | undefined, before: number | undefined, n: number) {
  return after === undefined || before === undefined || n === 0 ? undefined : (after - before) / n;
}

/** Holds `n` more idle connections open; resolves once the server has accepted them. */
async function hold(ctx: Context, side: Side, n: number, label: string, acceptedBefore: number) {
  const holder = startLoadgen(side, {
    mode: "hold",
    hostname: side.serverIp,
    n,
    parallel: 64,
    timeoutMs: 5_000,
    deadlineMs: 60_000,
    holdMs: 120_000,
  }, label);
  const opened = await holder.next(90_000);
  // Wait (bounded) until the server has accepted what the clients opened.
  const waitUntil = performance.now() + 10_000;
  let stats = (await serverStats(side))!;
  while (
    stats.counters.open - acceptedBefore < Number(opened.opened) && performance.now() < waitUntil
  ) {
    await new Promise((r) => setTimeout(r, 200));
    stats = (await serverStats(side))!;
  }
  await side.server!.request({ op: "gc" }, 10_000);
  ctx.log(`${label}: ${opened.opened} open`);
  return {
    holder,
    opened: Number(opened.opened),
    error: opened.error as string | undefined,
    stats: (await serverStats(side))!,
    wallMs: Number(opened.wallMs),
  };
}

/**
 * Runs experiment 5. Connections are opened in two halves: RSS after the second half minus RSS
 * after the first, per connection, is the marginal cost, free of one-time growth (the JS engine's
 * young generation, pools) that the whole delta divided by N charges to connections.
 */
export async function runMemory(ctx: Context): Promise<MemoryRow[]> {
  const { plan } = ctx;
  const rows: MemoryRow[] = [];
  for (const side of ctx.sides) {
    if (!side.server) continue;
    const what = `exp5 ${side.stack}`;
    const row = await attempt(ctx, what, async () => {
      await side.server!.request({ op: "gc" }, 10_000);
      const before = (await serverStats(side))!;
      const half = Math.floor(plan.memConns / 2);
      const first = await hold(ctx, side, half, `${what} holder 1`, before.counters.open);
      try {
        const second = await hold(
          ctx,
          side,
          plan.memConns - half,
          `${what} holder 2`,
          first.stats.counters.open,
        );
        try {
          const n = first.opened + second.opened;
          const after = second.stats;
          return {
            stack: side.stack,
            requested: plan.memConns,
            opened: n,
            serverOpen: after.counters.open - before.counters.open,
            rssBeforeBytes: before.rssBytes,
            rssAfterBytes: after.rssBytes,
            bytesPerConn: n > 0 ? (after.rssBytes - before.rssBytes) / n : NaN,
            marginalBytesPerConn: second.opened > 0
              ? (after.rssBytes - first.stats.rssBytes) / second.opened
              : NaN,
            marginalHeapBytesPerConn: perConn(
              after.memory?.heapUsed,
              first.stats.memory?.heapUsed,
              second.opened,
            ),
            marginalExternalBytesPerConn: perConn(
              after.memory?.external,
              first.stats.memory?.external,
              second.opened,
            ),
            openMs: first.wallMs + second.wallMs,
            error: first.error ?? second.error,
          } satisfies MemoryRow;
        } finally {
          await second.holder.send({ op: "close" }).catch(() => {});
          await second.holder.stop(5_000);
        }
      } finally {
        await first.holder.send({ op: "close" }).catch(() => {});
        await first.holder.stop(5_000);
      }
    });
    if (!row) continue;
    rows.push(row);
    ctx.log(
      `${what}: ${row.opened}/${row.requested} open, ${
        (row.bytesPerConn / 1024).toFixed(1)
      } KiB/conn, ` +
        `marginal ${(row.marginalBytesPerConn / 1024).toFixed(1)} KiB/conn (heap ${
          ((row.marginalHeapBytesPerConn ?? NaN) / 1024).toFixed(1)
        }, external ${((row.marginalExternalBytesPerConn ?? NaN) / 1024).toFixed(1)})`,
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
