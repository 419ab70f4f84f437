/**
 * The body shared by both benchmark servers: starts the servers of `workloads.ts` on a
 * {@link NetApi}, prints `{"ready":true,...}`, then answers JSON commands on stdin, one reply line
 * per command:
 *
 * - `{"op":"stats"}`: counters, RSS (bytes) and CPU seconds of this process.
 * - `{"op":"clients", hostname, n, bytes, timeoutMs, rounds, warmupRounds}`: runs
 *   {@link discardClientsRounds} from this stack towards a discard server elsewhere.
 * - `{"op":"gc"}`: runs V8's GC when started with `--v8-flags=--expose-gc`.
 * - `{"op":"udpsend", hostname, port, size, durationMs, maxCount}`: {@link udpBlast} from here.
 * - `{"op":"exit"}`: stops and exits.
 *
 * It exits by itself when stdin closes, so an orphaned server never lingers.
 * @module
 */

import process from "node:process";
import type { NetApi } from "../net_api.ts";
import { emit, stdinLines } from "../lines.ts";
import { discardClientsRounds, newCounters, startServers, udpBlast } from "../workloads.ts";

/** This process's RSS in bytes, from /proc/self/status VmRSS. */
export function rssBytes(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kb * 1024;
}

/** User+system CPU seconds of this process (getrusage). */
export function cpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/** Runs the server loop until `exit` or end of stdin; `extra` adds fields to `stats`. */
export async function serve(
  api: NetApi,
  info: Record<string, unknown>,
  extra: () => Record<string, unknown> = () => ({}),
): Promise<void> {
  const counters = newCounters();
  const stop = startServers(api, counters);
  await emit({ ready: true, pid: Deno.pid, stack: api.name, ...info });
  const commands = stdinLines();
  for (;;) {
    const command = await commands.next();
    if (command === undefined || command.op === "exit") break;
    try {
      switch (command.op) {
        case "stats":
          await emit({
            ok: true,
            counters,
            rssBytes: rssBytes(),
            memory: Deno.memoryUsage(),
            cpuSeconds: cpuSeconds(),
            ...extra(),
          });
          break;
        case "gc":
          // Only available with --v8-flags=--expose-gc; harmless otherwise. The last-resort
          // flavour also compacts the heap and shrinks the young generation: what V8's memory
          // reducer does by itself to a process left idle. Measured on the gonet server with
          // 10,000 idle connections: 6.8 KiB/conn after 20 s idle with no forced GC, 6.7 with
          // this GC; a plain gc() left half of the heap's pages empty (11.3 KiB/conn).
          (globalThis as { gc?: (options?: unknown) => void }).gc?.({
            type: "major",
            execution: "sync",
            flavor: "last-resort",
          });
          await emit({ ok: true });
          break;
        case "clients":
          await emit({
            ok: true,
            result: await discardClientsRounds(api, {
              hostname: String(command.hostname),
              n: Number(command.n),
              bytes: Number(command.bytes),
              timeoutMs: Number(command.timeoutMs),
              rounds: Number(command.rounds ?? 1),
              warmupRounds: Number(command.warmupRounds ?? 0),
            }),
          });
          break;
        case "udpsend":
          await emit({
            ok: true,
            result: await udpBlast(api, {
              hostname: String(command.hostname),
              port: Number(command.port),
              size: Number(command.size),
              durationMs: Number(command.durationMs),
              maxCount: Number(command.maxCount),
            }),
          });
          break;
        default:
          await emit({ ok: false, error: `unknown op ${command.op}` });
      }
    } catch (error) {
      await emit({ ok: false, error: String(error) });
    }
  }
  stop();
}
