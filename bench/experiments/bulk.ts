/**
 * Experiment 3, bulk transfer: one TCP stream of `bulkBytes`, kernel client to the responder
 * (discard) and responder to kernel client (source); Mbit/s and CPU seconds per GB, both of the
 * server process (getrusage) and of the whole machine (/proc/stat). gonet runs with its TAP
 * offloads (checksum, TSO) and, as an extra side, without them.
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
  machineBusySeconds,
  serverStats,
} from "./context.ts";
import { pickInteresting } from "./throughput.ts";

/** One direction of one side. */
export interface BulkRow {
  /** Responder. */
  stack: string;
  /** `to-server` (responder receives) or `from-server` (responder sends). */
  direction: "to-server" | "from-server";
  /** Offload setting of the responder. */
  offloads: string;
  /** Bytes moved. */
  bytes: number;
  /** Mbit/s. */
  mbitPerS: number;
  /** Wall time, ms. */
  wallMs: number;
  /** Server process CPU seconds per GB (1e9 bytes). */
  serverCpuSecPerGB?: number;
  /** Whole-machine busy CPU seconds per GB. */
  machineCpuSecPerGB: number;
  /** Error, if it did not finish. */
  error?: string;
  /** gonet counters that moved (drops, retransmissions...). */
  counters?: Record<string, number>;
  /** Kernel drop counters of the load namespace's link. */
  linkDrops?: LinkDrops;
}

/** Runs experiment 3. */
export async function runBulk(ctx: Context): Promise<BulkRow[]> {
  const { plan } = ctx;
  const rows: BulkRow[] = [];
  for (const direction of ["to-server", "from-server"] as const) {
    for (const side of [...ctx.sides, ...(ctx.bulkOnlySides ?? [])]) {
      const what = `exp3 ${side.stack} ${direction}`;
      const before = await attempt(ctx, `${what} stats`, () => serverStats(side));
      const dropsBefore = await linkDrops(side);
      const busyBefore = machineBusySeconds();
      const r = await attempt(ctx, what, () =>
        direction === "to-server"
          ? loadgen(side, {
            mode: "clients",
            hostname: side.serverIp,
            n: 1,
            bytes: plan.bulkBytes,
            timeoutMs: plan.bulkTimeoutMs,
          }, plan.bulkTimeoutMs + 15_000)
          : loadgen(side, {
            mode: "download",
            hostname: side.serverIp,
            bytes: plan.bulkBytes,
            timeoutMs: plan.bulkTimeoutMs,
          }, plan.bulkTimeoutMs + 15_000));
      const busy = machineBusySeconds() - busyBefore;
      const after = await attempt(ctx, `${what} stats`, () => serverStats(side));
      const drops = linkDropsDelta(dropsBefore, await linkDrops(side));
      if (!r) continue;
      // For uploads the server confirms the bytes it read; count those when the client gave up.
      const moved = direction === "to-server"
        ? Number(r.bytes) ||
          (after && before ? after.counters.discardBytes - before.counters.discardBytes : 0)
        : Number(r.bytes);
      const gb = moved / 1e9;
      const wallMs = Number(r.wallMs);
      const delta = counterDelta(before, after);
      const row: BulkRow = {
        stack: side.stack,
        direction,
        offloads: side.offloads ?? "-",
        bytes: moved,
        mbitPerS: (moved * 8) / (wallMs * 1000),
        wallMs,
        serverCpuSecPerGB: after && before && gb > 0
          ? (after.cpuSeconds - before.cpuSeconds) / gb
          : undefined,
        machineCpuSecPerGB: gb > 0 ? busy / gb : NaN,
        error: (r.error as string | undefined) ?? undefined,
        counters: delta ? pickInteresting(delta) : undefined,
        linkDrops: drops,
      };
      rows.push(row);
      ctx.log(`${what}: ${row.mbitPerS.toFixed(1)} Mbit/s, ${moved} B in ${wallMs.toFixed(0)} ms`);
      if (row.error) ctx.note(`${what}: ${row.error} (${moved} of ${plan.bulkBytes} B)`);
    }
  }
  return rows;
}
