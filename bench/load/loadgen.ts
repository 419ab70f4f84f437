/**
 * Load generator on the kernel's sockets, run by the benchmark inside the client namespace as its
 * own process. The single argument is a JSON object `{mode, ...options}`; the result is printed
 * as one JSON line. Modes:
 *
 * - `clients`: {@link discardClientsRounds}; `download`: {@link sourceClient};
 *   `rawrate`: {@link rawConnectionRate}; `blast`: {@link udpBlast}.
 * - `hold`: opens idle connections ({@link holdConnections}), prints `{"phase":"opened",...}`, keeps them
 *   until a line arrives on stdin (or `holdMs` passes), closes them and prints `{"closed":true}`.
 * - `udpsink`: binds `port`, prints `{"ready":true}`, counts datagrams until a line arrives on
 *   stdin (or `maxMs` passes), prints the count.
 * @module
 */

import { kernelNetApi } from "../net_api.ts";
import { rawConnectionRate } from "./raw_rate.ts";
import { emit, stdinLines } from "../lines.ts";
import {
  closeAll,
  discardClientsRounds,
  holdConnections,
  sourceClient,
  udpBlast,
} from "../workloads.ts";

type Options = Record<string, unknown>;

/** Waits for a stdin line or `ms`, whichever comes first. */
async function waitForSignal(ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    stdinLines().next(),
    new Promise((r) => timer = setTimeout(r, ms)),
  ]);
  clearTimeout(timer);
}

async function run(o: Options): Promise<void> {
  const api = kernelNetApi;
  const hostname = String(o.hostname);
  switch (o.mode) {
    case "clients":
      return emit(
        await discardClientsRounds(api, {
          hostname,
          n: Number(o.n),
          bytes: Number(o.bytes),
          timeoutMs: Number(o.timeoutMs),
          rounds: Number(o.rounds ?? 1),
          warmupRounds: Number(o.warmupRounds ?? 0),
        }),
      );
    case "download":
      return emit(
        await sourceClient(api, {
          hostname,
          bytes: Number(o.bytes),
          timeoutMs: Number(o.timeoutMs),
        }),
      );
    case "rawrate":
      return emit(
        rawConnectionRate({
          hostname,
          loops: Number(o.loops),
          durationMs: Number(o.durationMs),
          maxCount: Number(o.maxCount),
          timeoutMs: Number(o.timeoutMs),
        }),
      );
    case "blast":
      return emit(
        await udpBlast(api, {
          hostname,
          port: Number(o.port),
          size: Number(o.size),
          durationMs: Number(o.durationMs),
          maxCount: Number(o.maxCount),
        }),
      );
    case "hold": {
      const { conns, result } = await holdConnections(api, {
        hostname,
        n: Number(o.n),
        parallel: Number(o.parallel ?? 64),
        timeoutMs: Number(o.timeoutMs),
        deadlineMs: Number(o.deadlineMs),
      });
      await emit({ phase: "opened", ...result });
      await waitForSignal(Number(o.holdMs));
      closeAll(conns);
      return emit({ closed: true });
    }
    case "udpsink": {
      const socket = api.listenDatagram(Number(o.port));
      let count = 0;
      let bytes = 0;
      let first = 0;
      let last = 0;
      (async () => {
        const buf = new Uint8Array(2048);
        try {
          for (;;) {
            const [data] = await socket.receive(buf);
            last = performance.now();
            if (count === 0) first = last;
            count++;
            bytes += data.length;
          }
        } catch {
          // Closed.
        }
      })();
      await emit({ ready: true });
      await waitForSignal(Number(o.maxMs));
      socket.close();
      return emit({ count, bytes, spanMs: last - first });
    }
    default:
      throw new Error(`unknown mode ${o.mode}`);
  }
}

if (import.meta.main) {
  await run(JSON.parse(Deno.args[0]));
  Deno.exit(0);
}
