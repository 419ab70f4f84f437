/**
 * What must hold while the target stack eats fuzz frames:
 * - nothing throws out of the stack and no promise rejects unhandled (a dealer that dies leaves
 *   a rejected promise nobody awaits, so it surfaces as an `unhandledrejection`);
 * - the target's own bounded state stays within its configured caps (reassembly bytes and
 *   assemblies, TCP connections, ARP entries);
 * - the JavaScript heap stays under a cap;
 * - afterwards the target still answers a ping and serves a TCP echo connection from the
 *   well-behaved helper stack on the same link.
 * @module
 */

import { setImmediate } from "node:timers";
import type { ManualClock } from "../stack/clock.ts";
import type { Stack } from "../stack/stack.ts";
import { TARGET_IP } from "./generators.ts";

/** One broken invariant. */
export interface Failure {
  /** Which invariant: `unhandled-rejection`, `uncaught-error`, `exception`, `bound`, ... */
  kind: string;
  /** What went wrong. */
  message: string;
  /** Stack trace, when an error was involved. */
  stack?: string;
}

/** Turns anything thrown into a {@link Failure}. */
export function failureFrom(kind: string, error: unknown): Failure {
  if (error instanceof Error) {
    return { kind, message: `${error.name}: ${error.message}`, stack: error.stack };
  }
  return { kind, message: String(error) };
}

/**
 * Collects failures, including unhandled promise rejections and uncaught errors seen through
 * `globalThis` events while installed (their default handling, ending the process, is
 * prevented so the fuzzer can save the input and report).
 */
export class FailureLog {
  /** Everything recorded so far. */
  readonly failures: Failure[] = [];
  #onRejection = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    this.failures.push(failureFrom("unhandled-rejection", event.reason));
  };
  #onError = (event: ErrorEvent) => {
    event.preventDefault();
    this.failures.push(failureFrom("uncaught-error", event.error ?? event.message));
  };

  /** Starts listening for unhandled rejections and uncaught errors. */
  install(): void {
    globalThis.addEventListener("unhandledrejection", this.#onRejection);
    globalThis.addEventListener("error", this.#onError);
  }

  /** Stops listening. */
  uninstall(): void {
    globalThis.removeEventListener("unhandledrejection", this.#onRejection);
    globalThis.removeEventListener("error", this.#onError);
  }

  /** Records one failure. */
  add(failure: Failure): void {
    this.failures.push(failure);
  }
}

/** Caps the target was configured with, checked by {@link checkBounds}. */
export interface Bounds {
  /** IPv4 `maxReassemblyBytes`. */
  reassemblyBytes: number;
  /** IPv4 `maxReassemblies`. */
  reassemblies: number;
  /** TCP `maxConnections`. */
  connections: number;
  /** ARP `maxEntries`. */
  arpEntries: number;
  /** Bytes of JS heap allowed (`Deno.memoryUsage().heapUsed`). */
  heapBytes: number;
}

/** The target's counters against `bounds`; returns one failure per bound exceeded. */
export function checkBounds(target: Stack, bounds: Bounds): Failure[] {
  const stats = target.stats();
  const failures: Failure[] = [];
  const check = (name: string, value: number, cap: number) => {
    if (!(value <= cap)) failures.push({ kind: "bound", message: `${name} = ${value} > ${cap}` });
  };
  check("ipv4.reassembly.heldBytes", stats.ipv4.reassembly.heldBytes, bounds.reassemblyBytes);
  check("ipv4.reassembly.active", stats.ipv4.reassembly.active, bounds.reassemblies);
  check("tcp.activeConnections", stats.tcp.activeConnections, bounds.connections);
  check("arp.entries", stats.arp.entries, bounds.arpEntries);
  if (stats.ipv4.reassembly.heldBytes < 0) {
    failures.push({ kind: "bound", message: "ipv4.reassembly.heldBytes went negative" });
  }
  return failures;
}

/** The heap in use now, against `bounds.heapBytes`. */
export function checkHeap(bounds: Bounds): Failure | undefined {
  const used = Deno.memoryUsage().heapUsed;
  if (used <= bounds.heapBytes) return undefined;
  return { kind: "heap", message: `heapUsed ${used} > ${bounds.heapBytes}` };
}

/** One macrotask turn: every queued promise continuation and channel hand-off runs first. */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Waits for `promise` while letting the in-memory network run, moving the manual clock 10 ms
 * every few turns so timers (retransmission, delayed ACK, ping timeout) fire. Gives up after
 * `maxMs` of manual time.
 */
export async function drive<T>(
  promise: Promise<T>,
  clock: ManualClock,
  maxMs = 30_000,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  promise.then(
    (value) => outcome = { ok: true, value },
    (error) => outcome = { ok: false, error },
  );
  for (let turns = 0, elapsed = 0; outcome === undefined; turns++) {
    await turn();
    if (outcome !== undefined) break;
    if (turns % 4 === 3) {
      if (elapsed >= maxMs) return { ok: false, error: new Error(`no result after ${maxMs} ms`) };
      clock.advance(10);
      elapsed += 10;
    }
  }
  return outcome;
}

/**
 * The target still works: the helper pings it and gets the same data back, then opens a TCP
 * connection to its echo port, writes a line and reads it back, and closes. Returns the
 * failures (empty when healthy).
 */
export async function healthCheck(
  helper: Stack,
  clock: ManualClock,
  round: number,
  echoPort: number,
): Promise<Failure[]> {
  // The fuzz frames may have taught the target a wrong MAC for our address (that is legal ARP
  // behaviour, not a bug); announcing ourselves fixes its cache first (RFC 5227 §3).
  helper.arp.announce();
  await turn();
  const failures: Failure[] = [];
  const ping = await drive(
    helper.ping({
      destination: TARGET_IP,
      identifier: 0x4000 + (round & 0x3fff),
      sequence: round & 0xffff,
      dataBytes: 56,
      timeoutMs: 2000,
    }),
    clock,
  );
  if (!ping.ok) failures.push(failureFrom("health-ping", ping.error));
  else if (ping.value.kind !== "reply" || !ping.value.reply.dataMatches) {
    failures.push({ kind: "health-ping", message: `ping: ${JSON.stringify(ping.value)}` });
  }
  const message = new TextEncoder().encode(`health check ${round}\n`);
  const session = async () => {
    const conn = await helper.connect({ hostname: "10.0.0.2", port: echoPort });
    try {
      await conn.write(message);
      const received = new Uint8Array(message.length);
      let filled = 0;
      while (filled < message.length) {
        const n = await conn.read(received.subarray(filled));
        if (n === null) throw new Error(`echo closed after ${filled} bytes`);
        filled += n;
      }
      if (received.join() !== message.join()) throw new Error("echo returned different bytes");
    } finally {
      conn.close();
    }
  };
  const tcp = await drive(session(), clock);
  if (!tcp.ok) failures.push(failureFrom("health-tcp", tcp.error));
  return failures;
}
