/**
 * The benchmark's traffic, written once against {@link NetApi} so the kernel and gonet run the
 * same code: the servers' per-connection handlers and the clients' load loops. Every loop here is
 * bounded by a count and by a deadline.
 * @module
 */

import type { BenchConn, NetApi } from "./net_api.ts";

/** TCP discard port: reads to EOF, replies the byte count as a decimal line, closes. */
export const DISCARD_PORT = 5001;
/** TCP one-exchange echo port: reads once, writes the bytes back, closes. */
export const ECHO_PORT = 5002;
/** UDP sink port: counts datagrams. */
export const UDP_SINK_PORT = 5003;
/** TCP source port: reads a decimal byte count line, sends that many bytes, closes. */
export const SOURCE_PORT = 5004;
/** UDP sink port of the load generator (for datagrams the server sends). */
export const CLIENT_UDP_SINK_PORT = 5006;

const CHUNK = 64 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Counters a server keeps. */
export interface ServerCounters {
  /** Connections accepted. */
  accepted: number;
  /** Connections open now. */
  open: number;
  /** Handler failures (reset, timeout...). */
  errors: number;
  /** Bytes read by the discard handler. */
  discardBytes: number;
  /** Bytes written by the source handler. */
  sourceBytes: number;
  /** Datagrams received on the UDP sink. */
  udpDatagrams: number;
  /** Bytes received on the UDP sink. */
  udpBytes: number;
  /** Last handler error message. */
  lastError: string;
}

/** Fresh zeroed counters. */
export function newCounters(): ServerCounters {
  return {
    accepted: 0,
    open: 0,
    errors: 0,
    discardBytes: 0,
    sourceBytes: 0,
    udpDatagrams: 0,
    udpBytes: 0,
    lastError: "",
  };
}

/**
 * Writes all of `p`. `Deno.Conn.write` may write only part of it (it returns the count), gonet's
 * writes everything; this loop serves both.
 */
export async function writeAll(conn: BenchConn, p: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < p.length) offset += await conn.write(p.subarray(offset));
}

/**
 * The 64 KB read buffers of connections being drained, back from connections that finished. A
 * fresh zeroed 64 KB per connection had cost the server ~0.1 ms of each 4 KB connection (its
 * pages faulted in and cleared), in both the gonet and the kernel server; reused, the benchmark
 * code costs the same at any connection rate. Holds at most as many as were ever drained at once.
 */
const drainBuffers: Uint8Array[] = [];

/**
 * Reads until EOF and returns the byte count. The first read uses a small buffer so an idle
 * connection costs the benchmark code almost nothing (experiment 5 measures the stack, not us).
 */
async function drain(conn: BenchConn, onBytes?: (n: number) => void): Promise<number> {
  let buf: Uint8Array | undefined;
  let total = 0;
  try {
    let n = await conn.read(new Uint8Array(256));
    while (n !== null) {
      total += n;
      onBytes?.(n);
      buf ??= drainBuffers.pop() ?? new Uint8Array(CHUNK);
      n = await conn.read(buf);
    }
    return total;
  } finally {
    if (buf) drainBuffers.push(buf);
  }
}

/** Reads one `\n`-terminated line (at most 64 bytes). */
async function readLine(conn: BenchConn): Promise<string | null> {
  const buf = new Uint8Array(64);
  let text = "";
  while (!text.includes("\n") && text.length < 64) {
    const n = await conn.read(buf);
    if (n === null) return text.length > 0 ? text : null;
    text += decoder.decode(buf.subarray(0, n));
  }
  return text.split("\n")[0];
}

/** What {@link writeBytes} sends: one buffer for all connections, which only read it. */
const PATTERN = new Uint8Array(CHUNK).fill(0x61);

/** Writes `total` bytes of a fixed pattern. */
async function writeBytes(conn: BenchConn, total: number): Promise<void> {
  const chunk = PATTERN;
  let left = total;
  while (left > 0) {
    const n = Math.min(left, CHUNK);
    await writeAll(conn, n === CHUNK ? chunk : chunk.subarray(0, n));
    left -= n;
  }
}

function safeClose(conn: BenchConn): void {
  try {
    conn.close();
  } catch {
    // Already closed by the peer's reset.
  }
}

/**
 * Starts the four servers on `api` and returns a function that stops them. Handlers run until
 * their peer closes; the counters are updated as they go.
 */
export function startServers(api: NetApi, counters: ServerCounters): () => void {
  const handle = async (conn: BenchConn, body: (conn: BenchConn) => Promise<void>) => {
    counters.accepted++;
    counters.open++;
    try {
      await body(conn);
    } catch (error) {
      counters.errors++;
      counters.lastError = String(error);
    } finally {
      counters.open--;
      safeClose(conn);
    }
  };
  const serve = (port: number, body: (conn: BenchConn) => Promise<void>) => {
    const listener = api.listen(port);
    (async () => {
      try {
        for await (const conn of listener) void handle(conn, body);
      } catch {
        // The listener was closed.
      }
    })();
    return listener;
  };
  const listeners = [
    serve(DISCARD_PORT, async (conn) => {
      const total = await drain(conn, (n) => counters.discardBytes += n);
      await writeAll(conn, encoder.encode(`${total}\n`));
    }),
    serve(ECHO_PORT, async (conn) => {
      const buf = new Uint8Array(64);
      const n = await conn.read(buf);
      if (n !== null) await writeAll(conn, buf.subarray(0, n));
    }),
    serve(SOURCE_PORT, async (conn) => {
      const line = await readLine(conn);
      const total = Number(line);
      if (!Number.isSafeInteger(total) || total < 0) throw new Error(`bad request ${line}`);
      await writeBytes(conn, total);
      counters.sourceBytes += total;
    }),
  ];
  const udp = api.listenDatagram(UDP_SINK_PORT);
  (async () => {
    const buf = new Uint8Array(2048);
    try {
      for (;;) {
        const [data] = await udp.receive(buf);
        counters.udpDatagrams++;
        counters.udpBytes += data.length;
      }
    } catch {
      // Closed.
    }
  })();
  return () => {
    for (const listener of listeners) listener.close();
    udp.close();
  };
}

/** Result of {@link discardClients}. */
export interface ClientsResult {
  /** Clients that finished (server confirmed every byte). */
  completed: number;
  /** Clients that failed. */
  failed: number;
  /** Bytes the server confirmed. */
  bytes: number;
  /** From the first connect to the last confirmation, ms. */
  wallMs: number;
  /** Aggregate goodput, Mbit/s (confirmed bytes over wall time). */
  mbitPerS: number;
  /** First error message, if any. */
  error?: string;
}

async function withDeadline<T>(work: Promise<T>, deadlineMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: no answer in ${deadlineMs} ms`)),
      deadlineMs,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `n` concurrent clients, each connecting to the discard port, sending `bytes`, half-closing and
 * waiting for the server's byte count. Gives up on a client after `timeoutMs`.
 */
export async function discardClients(
  api: NetApi,
  options: { hostname: string; port?: number; n: number; bytes: number; timeoutMs: number },
): Promise<ClientsResult> {
  const start = performance.now();
  const result: ClientsResult = { completed: 0, failed: 0, bytes: 0, wallMs: 0, mbitPerS: 0 };
  const conns: BenchConn[] = [];
  const one = async () => {
    const conn = await api.connect(options.hostname, options.port ?? DISCARD_PORT);
    conns.push(conn);
    await writeBytes(conn, options.bytes);
    await conn.closeWrite();
    const line = await readLine(conn);
    safeClose(conn);
    const confirmed = Number(line);
    if (confirmed !== options.bytes) {
      throw new Error(`server confirmed ${line} of ${options.bytes}`);
    }
    result.completed++;
    result.bytes += confirmed;
  };
  const settled = await Promise.allSettled(
    Array.from({ length: options.n }, () => withDeadline(one(), options.timeoutMs, "client")),
  );
  for (const s of settled) {
    if (s.status === "rejected") {
      result.failed++;
      result.error ??= String(s.reason);
    }
  }
  for (const conn of conns) safeClose(conn);
  result.wallMs = performance.now() - start;
  result.mbitPerS = (result.bytes * 8) / (result.wallMs * 1000);
  return result;
}

/** Result of {@link sourceClient}. */
export interface DownloadResult {
  /** Bytes received. */
  bytes: number;
  /** ms from connect to EOF. */
  wallMs: number;
  /** Mbit/s. */
  mbitPerS: number;
  /** Error message if it did not finish. */
  error?: string;
}

/** Asks the source port for `bytes` and reads them to EOF. */
export async function sourceClient(
  api: NetApi,
  options: { hostname: string; bytes: number; timeoutMs: number },
): Promise<DownloadResult> {
  const start = performance.now();
  let received = 0;
  let conn: BenchConn | undefined;
  let error: string | undefined;
  try {
    await withDeadline(
      (async () => {
        conn = await api.connect(options.hostname, SOURCE_PORT);
        await writeAll(conn, encoder.encode(`${options.bytes}\n`));
        await drain(conn, (n) => received += n);
      })(),
      options.timeoutMs,
      "download",
    );
  } catch (e) {
    error = String(e);
  } finally {
    if (conn) safeClose(conn);
  }
  const wallMs = performance.now() - start;
  return { bytes: received, wallMs, mbitPerS: (received * 8) / (wallMs * 1000), error };
}

/** Result of a connection-rate run (`load/raw_rate.ts`). */
export interface RateResult {
  /** Exchanges completed. */
  completed: number;
  /** Attempts that failed. */
  failed: number;
  /** Measured duration, ms. */
  wallMs: number;
  /** Completed exchanges per second. */
  perSecond: number;
  /** First error message. */
  error?: string;
}

/** Result of {@link udpBlast}. */
export interface BlastResult {
  /** Datagrams handed to the socket. */
  sent: number;
  /** Send errors. */
  errors: number;
  /** Duration, ms. */
  wallMs: number;
  /** Sent per second. */
  perSecond: number;
}

/**
 * Sends `size`-byte datagrams to `hostname:port` as fast as the socket takes them, for
 * `durationMs` or `maxCount` datagrams.
 */
export async function udpBlast(
  api: NetApi,
  options: { hostname: string; port: number; size: number; durationMs: number; maxCount: number },
): Promise<BlastResult> {
  const socket = api.listenDatagram(0);
  const payload = new Uint8Array(options.size).fill(0x63);
  const to = { hostname: options.hostname, port: options.port };
  const start = performance.now();
  const end = start + options.durationMs;
  let sent = 0;
  let errors = 0;
  try {
    while (sent + errors < options.maxCount) {
      // Checking the clock every 64 sends keeps the loop cheap.
      if ((sent & 63) === 0 && performance.now() >= end) break;
      try {
        await socket.send(payload, to);
        sent++;
      } catch {
        errors++;
        // A full socket buffer (ENOBUFS) or ICMP error: yield and retry.
        await new Promise((r) => setTimeout(r, 0));
      }
      // gonet's send returns an already-resolved promise: let the stack's dealers run now and
      // then, or the loop would starve them.
      if ((sent & 255) === 0) await new Promise((r) => setTimeout(r, 0));
    }
  } finally {
    socket.close();
  }
  const wallMs = performance.now() - start;
  return { sent, errors, wallMs, perSecond: sent / (wallMs / 1000) };
}

/** Result of {@link holdConnections}' opening phase. */
export interface HoldResult {
  /** Connections established. */
  opened: number;
  /** Connects that failed. */
  failed: number;
  /** Time to open them, ms. */
  wallMs: number;
  /** First error. */
  error?: string;
}

/**
 * Opens up to `n` idle connections to the discard port, `parallel` connects at a time, and
 * returns them with a report. The caller closes them.
 */
export async function holdConnections(
  api: NetApi,
  options: { hostname: string; n: number; parallel: number; timeoutMs: number; deadlineMs: number },
): Promise<{ conns: BenchConn[]; result: HoldResult }> {
  const start = performance.now();
  const conns: BenchConn[] = [];
  const result: HoldResult = { opened: 0, failed: 0, wallMs: 0 };
  let next = 0;
  const worker = async () => {
    while (next < options.n && performance.now() - start < options.deadlineMs) {
      next++;
      try {
        conns.push(
          await withDeadline(
            api.connect(options.hostname, DISCARD_PORT),
            options.timeoutMs,
            "connect",
          ),
        );
        result.opened++;
      } catch (e) {
        result.failed++;
        result.error ??= String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: options.parallel }, worker));
  result.wallMs = performance.now() - start;
  return { conns, result };
}

/** Closes every connection of `conns`. */
export function closeAll(conns: BenchConn[]): void {
  for (const conn of conns) safeClose(conn);
}

/**
 * Runs {@link discardClients} `warmupRounds` times uncounted, then `rounds` times, and returns the
 * counted round with the median throughput, plus every round's Mbit/s (short points are noisy; the
 * median of a few is steadier). Warm-up rounds exist because the first rounds of a point run
 * code that is not yet compiled for it, in the load generator as much as in the responder.
 */
export async function discardClientsRounds(
  api: NetApi,
  options: {
    hostname: string;
    n: number;
    bytes: number;
    timeoutMs: number;
    rounds: number;
    warmupRounds?: number;
  },
): Promise<ClientsResult & { roundsMbitPerS: number[]; warmupMbitPerS: number[] }> {
  const warmups: ClientsResult[] = [];
  for (let i = 0; i < (options.warmupRounds ?? 0); i++) {
    warmups.push(await discardClients(api, options));
  }
  const results: ClientsResult[] = [];
  for (let i = 0; i < Math.max(1, options.rounds); i++) {
    results.push(await discardClients(api, options));
  }
  const sorted = [...results].sort((a, b) => a.mbitPerS - b.mbitPerS);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  // A failure in any round, warm-up included, is reported, not hidden by the median.
  const all = [...warmups, ...results];
  const failed = all.find((r) => r.failed > 0);
  return {
    ...median,
    failed: all.reduce((sum, r) => sum + r.failed, 0),
    error: failed?.error,
    roundsMbitPerS: results.map((r) => r.mbitPerS),
    warmupMbitPerS: warmups.map((r) => r.mbitPerS),
  };
}
