/**
 * Experiment 1's load: `concurrency` kernel `ping` processes at once towards `target`, each
 * bounded (`-c count -i interval -W 2 -w deadline`). Collects every reply's RTT from ping's
 * per-reply lines and the transmitted/received counts from its summary, and prints one JSON line:
 * `{sent, received, loss, meanMs, p50Ms, p99Ms, maxMs, failures}`.
 * Run inside the client namespace: `deno run -A bench/load/pings.ts '{"target":...}'`.
 * @module
 */

import { emit } from "../lines.ts";

/** Options of {@link pingLoad}. */
export interface PingLoadOptions {
  /** Address to ping. */
  target: string;
  /** Concurrent ping processes. */
  concurrency: number;
  /** Echo requests per process. */
  count: number;
  /** Seconds between requests of one process. */
  interval: number;
  /** ICMP payload bytes (`ping -s`). */
  size: number;
}

/** Summary of one load point. */
export interface PingLoadResult {
  /** Requests sent. */
  sent: number;
  /** Replies received. */
  received: number;
  /** 1 - received/sent. */
  loss: number;
  /** Mean RTT, ms. */
  meanMs: number;
  /** Median RTT, ms. */
  p50Ms: number;
  /** 99th percentile RTT, ms. */
  p99Ms: number;
  /** Largest RTT, ms. */
  maxMs: number;
  /** Ping processes that exited without any reply or failed to start. */
  failures: number;
  /** Wall time of the whole point, ms. */
  wallMs: number;
}

/** The `q`-quantile (0..1) of sorted `values`, nearest-rank. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** Parses one `ping` run's output: reply RTTs and the transmitted/received counts. */
export function parsePingOutput(text: string): { rtts: number[]; sent: number; received: number } {
  const rtts: number[] = [];
  for (const match of text.matchAll(/time=([\d.]+) ms/g)) rtts.push(Number(match[1]));
  const summary = /(\d+) packets transmitted, (\d+) received/.exec(text);
  return {
    rtts,
    sent: summary ? Number(summary[1]) : 0,
    received: summary ? Number(summary[2]) : rtts.length,
  };
}

/**
 * Runs the load and summarises it. Aborting `stop` ends every ping process (SIGTERM).
 */
export async function pingLoad(
  o: PingLoadOptions,
  stop: AbortSignal = new AbortController().signal,
): Promise<PingLoadResult> {
  const start = performance.now();
  const deadline = Math.ceil(o.count * o.interval + 3);
  const decoder = new TextDecoder();
  const runs = await Promise.allSettled(
    Array.from({ length: o.concurrency }, () =>
      new Deno.Command("ping", {
        args: [
          "-n",
          "-c",
          String(o.count),
          "-i",
          String(o.interval),
          "-W",
          "2",
          "-w",
          String(deadline),
          "-s",
          String(o.size),
          o.target,
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "null",
        signal: AbortSignal.any([stop, AbortSignal.timeout((deadline + 5) * 1000)]),
      }).output()),
  );
  const rtts: number[] = [];
  let sent = 0;
  let received = 0;
  let failures = 0;
  for (const run of runs) {
    if (run.status === "rejected") {
      failures++;
      sent += o.count;
      continue;
    }
    const parsed = parsePingOutput(decoder.decode(run.value.stdout));
    if (parsed.sent === 0) {
      failures++;
      sent += o.count;
      continue;
    }
    rtts.push(...parsed.rtts);
    sent += parsed.sent;
    received += parsed.received;
  }
  rtts.sort((a, b) => a - b);
  const mean = rtts.length ? rtts.reduce((a, b) => a + b, 0) / rtts.length : NaN;
  return {
    sent,
    received,
    loss: sent > 0 ? 1 - received / sent : 1,
    meanMs: mean,
    p50Ms: quantile(rtts, 0.5),
    p99Ms: quantile(rtts, 0.99),
    maxMs: rtts.length ? rtts[rtts.length - 1] : NaN,
    failures,
    wallMs: performance.now() - start,
  };
}

if (import.meta.main) {
  const stop = new AbortController();
  // The orchestrator ends us with SIGTERM: take the ping processes along.
  Deno.addSignalListener("SIGTERM", () => {
    stop.abort();
    setTimeout(() => Deno.exit(143), 100);
  });
  await emit(await pingLoad(JSON.parse(Deno.args[0]), stop.signal));
  Deno.exit(0);
}
