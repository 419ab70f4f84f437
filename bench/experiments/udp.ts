/**
 * Experiment 6, UDP datagrams per second: received (a kernel client sends to the responder's sink
 * as fast as its socket takes them; the responder counts) and sent (the responder sends to a
 * kernel sink in the load namespace), at each datagram size.
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
  startLoadgen,
} from "./context.ts";
import { pickInteresting } from "./throughput.ts";
import { CLIENT_UDP_SINK_PORT, UDP_SINK_PORT } from "../workloads.ts";

/** One direction, size and side. */
export interface UdpRow {
  /** Responder. */
  stack: string;
  /** `received` (by the responder) or `sent` (by the responder). */
  direction: "received" | "sent";
  /** UDP payload bytes. */
  size: number;
  /** Datagrams the sender handed to its socket. */
  sent: number;
  /** Datagrams the receiver counted. */
  delivered: number;
  /** Sender's duration, ms. */
  wallMs: number;
  /** Sent per second. */
  sentPerSecond: number;
  /** Delivered per second. */
  deliveredPerSecond: number;
  /** 1 - delivered/sent. */
  loss: number;
  /** gonet counters that moved (drops...), gonet only. */
  counters?: Record<string, number>;
  /** Kernel drop counters of the load namespace's link. */
  linkDrops?: LinkDrops;
}

/** Runs experiment 6. */
export async function runUdp(ctx: Context): Promise<UdpRow[]> {
  const { plan } = ctx;
  const rows: UdpRow[] = [];
  for (const direction of ["received", "sent"] as const) {
    for (const size of plan.udpSizes) {
      for (const side of ctx.sides) {
        if (!side.server) continue;
        const what = `exp6 ${side.stack} ${direction} ${size} B`;
        const row = await attempt(ctx, what, async () => {
          let sent: number;
          let delta: Record<string, number> | undefined;
          let delivered: number;
          let wallMs: number;
          const before = (await serverStats(side))!;
          const dropsBefore = await linkDrops(side);
          if (direction === "received") {
            const r = await loadgen(side, {
              mode: "blast",
              hostname: side.serverIp,
              port: UDP_SINK_PORT,
              size,
              durationMs: plan.udpMs,
              maxCount: plan.udpMaxCount,
            }, plan.udpMs + 20_000);
            // Give the receiver a moment to drain its queues before counting.
            await new Promise((res) => setTimeout(res, 300));
            const after = (await serverStats(side))!;
            delta = counterDelta(before, after);
            sent = Number(r.sent);
            wallMs = Number(r.wallMs);
            delivered = after.counters.udpDatagrams - before.counters.udpDatagrams;
          } else {
            const sink = startLoadgen(side, {
              mode: "udpsink",
              port: CLIENT_UDP_SINK_PORT,
              maxMs: plan.udpMs + 30_000,
            }, `${what} sink`);
            try {
              await sink.next(15_000);
              const reply = await side.server!.request({
                op: "udpsend",
                hostname: side.clientIp,
                port: CLIENT_UDP_SINK_PORT,
                size,
                durationMs: plan.udpMs,
                maxCount: plan.udpMaxCount,
              }, plan.udpMs + 20_000);
              await new Promise((res) => setTimeout(res, 300));
              await sink.send({ op: "stop" });
              const counted = await sink.next(10_000);
              const r = reply.result as Record<string, number>;
              sent = r.sent;
              wallMs = r.wallMs;
              delivered = Number(counted.count);
              delta = counterDelta(before, (await serverStats(side))!);
            } finally {
              await sink.stop();
            }
          }
          return {
            stack: side.stack,
            direction,
            size,
            sent,
            delivered,
            wallMs,
            sentPerSecond: sent / (wallMs / 1000),
            deliveredPerSecond: delivered / (wallMs / 1000),
            loss: sent > 0 ? 1 - delivered / sent : 0,
            counters: delta ? pickInteresting(delta) : undefined,
            linkDrops: linkDropsDelta(dropsBefore, await linkDrops(side)),
          } satisfies UdpRow;
        });
        if (!row) continue;
        rows.push(row);
        ctx.log(
          `${what}: ${row.deliveredPerSecond.toFixed(0)}/s delivered of ` +
            `${row.sentPerSecond.toFixed(0)}/s sent`,
        );
      }
    }
  }
  return rows;
}
