/**
 * The reassembly tasks, in the CSP style of the GoNet paper: ONE async task per datagram being
 * reassembled, each reading its own {@link Channel} of fragments, keyed by (source, destination,
 * protocol, identification) as RFC 791 §3.2 prescribes. The IPv4 dealer only routes fragments to
 * the right channel; each task owns its {@link Reassembly} and ends when the datagram completes,
 * is dropped, times out or is evicted, closing its channel on the way out.
 *
 * Limits, so that fragments from the network cannot exhaust memory (RFC 1122 §3.3.2 leaves the
 * policy to the host; these follow common practice):
 * - a reassembly timeout from the first fragment (default 30 s, like Linux's
 *   `ipfrag_time`; RFC 1122 §3.3.2 suggests 60 to 120 s), after which an ICMP time exceeded
 *   (code 1) may be sent if fragment zero arrived (RFC 792, RFC 1122 §3.2.1.4);
 * - at most `maxAssemblies` datagrams in progress and `maxHeldBytes` bytes charged to fragments
 *   (queued or held); a new fragment that would exceed either evicts the oldest assemblies.
 * @module
 */

import { Channel } from "../channel.ts";
import type { Clock, TimerHandle } from "../clock.ts";
import { Ipv4Packet } from "../wire/ipv4.ts";
import { fragmentChargeBytes, Reassembly } from "./reassembly.ts";

/** Options of an {@link AssemblerPool}. */
export interface AssemblerPoolOptions {
  /** Time source for the reassembly timers. */
  clock: Clock;
  /** Reassembly timeout in ms, from the first arriving fragment of a datagram (default 30000). */
  timeoutMs?: number;
  /** Most datagrams reassembled at once (default 256). */
  maxAssemblies?: number;
  /** Most bytes charged to queued and held fragments, all datagrams together (default 4 MiB). */
  maxHeldBytes?: number;
  /** Largest datagram rebuilt, header included (default 65535). */
  maxDatagramBytes?: number;
  /** Capacity of each task's channel, in fragments (default 8192, the most one datagram has). */
  queueCapacity?: number;
  /** Receives each rebuilt datagram (a new array the callee owns). Must not throw. */
  onComplete: (datagram: Uint8Array) => void;
  /**
   * Called when a datagram times out, only if its first fragment (offset 0) had arrived, so the
   * caller can send ICMP time exceeded, code 1 (RFC 792). Must not throw.
   */
  onTimeout: (firstFragment: Ipv4Packet) => void;
}

/** Counters of an {@link AssemblerPool}. */
export interface AssemblerStats {
  /** Assembly tasks started (one per datagram key seen while none was in progress). */
  started: number;
  /** Datagrams rebuilt and handed to `onComplete`. */
  completed: number;
  /** Assemblies dropped by the timeout. */
  timedOut: number;
  /** Assemblies dropped to stay within `maxAssemblies` or `maxHeldBytes`. */
  evicted: number;
  /** Assemblies dropped for overlapping fragments. */
  overlaps: number;
  /** Exact duplicate fragments ignored. */
  duplicates: number;
  /** Assemblies dropped for exceeding the datagram size limit. */
  tooBig: number;
  /** Assemblies dropped for inconsistent fragments. */
  malformed: number;
  /** Fragments refused because a task's channel was full or the pool was closed. */
  queueDrops: number;
  /** Assemblies in progress now. */
  active: number;
  /** Bytes charged now to queued and held fragments (never above `maxHeldBytes`). */
  heldBytes: number;
}

interface Assembly {
  readonly key: string;
  readonly channel: Channel<Ipv4Packet>;
  readonly timer: TimerHandle;
  /** Bytes charged for this assembly's queued and held fragments. */
  chargedBytes: number;
  firstFragment: Ipv4Packet | undefined;
  done: boolean;
}

type Outcome =
  | "completed"
  | "timedOut"
  | "evicted"
  | "overlaps"
  | "tooBig"
  | "malformed"
  | "closed";

/**
 * Routes IPv4 fragments to one reassembly task per datagram.
 * @example
 * ```ts
 * import { ManualClock } from "../clock.ts";
 * import { fragmentIpv4 } from "./fragmenter.ts";
 * import { Ipv4Packet } from "../wire/ipv4.ts";
 * const done: Uint8Array[] = [];
 * const pool = new AssemblerPool({
 *   clock: new ManualClock(),
 *   onComplete: (datagram) => done.push(datagram),
 *   onTimeout: () => {},
 * });
 * const repr = { source: 0x0a000001, destination: 0x0a000002, protocol: 17, ttl: 64 };
 * for (const bytes of fragmentIpv4({ ...repr, payloadLength: 0 }, new Uint8Array(3000), 1500)) {
 *   pool.deliver(new Ipv4Packet(bytes));
 * }
 * await pool.whenIdle();
 * // done.length === 1
 * pool.close();
 * ```
 */
export class AssemblerPool {
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #maxAssemblies: number;
  readonly #maxHeldBytes: number;
  readonly #maxDatagramBytes: number;
  readonly #queueCapacity: number;
  readonly #onComplete: (datagram: Uint8Array) => void;
  readonly #onTimeout: (firstFragment: Ipv4Packet) => void;
  /** In start order, so the first entry is the oldest. */
  readonly #assemblies = new Map<string, Assembly>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #stats: AssemblerStats = {
    started: 0,
    completed: 0,
    timedOut: 0,
    evicted: 0,
    overlaps: 0,
    duplicates: 0,
    tooBig: 0,
    malformed: 0,
    queueDrops: 0,
    active: 0,
    heldBytes: 0,
  };
  /** Fragments queued or being processed by a task. */
  #inFlight = 0;
  #idleWaiters: (() => void)[] = [];
  #closed = false;

  /** Creates an empty pool; tasks start as fragments arrive. */
  constructor(options: AssemblerPoolOptions) {
    this.#clock = options.clock;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#maxAssemblies = options.maxAssemblies ?? 256;
    this.#maxHeldBytes = options.maxHeldBytes ?? 4 * 1024 * 1024;
    this.#maxDatagramBytes = options.maxDatagramBytes ?? 65535;
    this.#queueCapacity = options.queueCapacity ?? 8192;
    this.#onComplete = options.onComplete;
    this.#onTimeout = options.onTimeout;
    if (!(this.#maxAssemblies >= 1)) {
      throw new RangeError(`maxAssemblies must be >= 1, got ${this.#maxAssemblies}`);
    }
  }

  /** Live counters (read-only to callers). */
  get stats(): Readonly<AssemblerStats> {
    return this.#stats;
  }

  /** Assembly tasks that have started and not yet returned. */
  get runningTasks(): number {
    return this.#tasks.size;
  }

  /**
   * Hands a parsed fragment to the task reassembling its datagram, starting one if none is in
   * progress. Never waits. The pool copies the packet (its first `totalLength` bytes), so the
   * caller may reuse its buffer as soon as this returns. A fragment that would break the caps
   * evicts the oldest assemblies first; one that cannot be queued is counted in `queueDrops`.
   */
  deliver(fragment: Ipv4Packet): void {
    if (this.#closed) {
      this.#stats.queueDrops++;
      return;
    }
    const key =
      `${fragment.source}/${fragment.destination}/${fragment.protocol}/${fragment.identification}`;
    const charge = fragmentChargeBytes(fragment);
    let assembly = this.#assemblies.get(key);
    if (!assembly) {
      while (this.#assemblies.size >= this.#maxAssemblies) this.#evictOldest(undefined);
    }
    while (this.#stats.heldBytes + charge > this.#maxHeldBytes && this.#evictOldest(assembly)) {
      // Evicted one more; check again.
    }
    if (this.#stats.heldBytes + charge > this.#maxHeldBytes) {
      // Only this datagram is left and it cannot grow: give it up.
      if (assembly) this.#finish(assembly, "evicted");
      this.#stats.queueDrops++;
      return;
    }
    if (!assembly) assembly = this.#start(key);
    const copy = new Ipv4Packet(fragment.bytes.slice(0, fragment.totalLength));
    if (!assembly.channel.trySend(copy)) {
      this.#stats.queueDrops++;
      return;
    }
    this.#inFlight++;
    assembly.chargedBytes += charge;
    this.#stats.heldBytes += charge;
  }

  /** Resolves once every fragment delivered so far has been processed by its task. */
  whenIdle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Resolves once every task started so far has returned. */
  async settled(): Promise<void> {
    await Promise.all([...this.#tasks]);
  }

  /** Drops every assembly in progress and refuses further fragments. Tasks end promptly. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const assembly of [...this.#assemblies.values()]) this.#finish(assembly, "closed");
  }

  #start(key: string): Assembly {
    const assembly: Assembly = {
      key,
      channel: new Channel<Ipv4Packet>(this.#queueCapacity, `reassembly ${key}`),
      timer: this.#clock.setTimer(this.#timeoutMs, () => this.#timedOut(assembly)),
      chargedBytes: 0,
      firstFragment: undefined,
      done: false,
    };
    this.#assemblies.set(key, assembly);
    this.#stats.started++;
    this.#stats.active++;
    const task = this.#run(assembly);
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task));
    return assembly;
  }

  /** The task: one per datagram, owning its Reassembly. */
  async #run(assembly: Assembly): Promise<void> {
    const reassembly = new Reassembly(this.#maxDatagramBytes);
    try {
      for await (const fragment of assembly.channel) {
        try {
          if (assembly.done) break;
          this.#process(assembly, reassembly, fragment);
        } finally {
          this.#processed(1);
        }
      }
    } finally {
      this.#finish(assembly, "closed");
    }
  }

  #process(assembly: Assembly, reassembly: Reassembly, fragment: Ipv4Packet): void {
    const result = reassembly.add(fragment);
    assembly.firstFragment = reassembly.firstFragment;
    switch (result) {
      case "incomplete":
        return;
      case "duplicate": {
        this.#stats.duplicates++;
        const charge = fragmentChargeBytes(fragment);
        assembly.chargedBytes -= charge;
        this.#stats.heldBytes -= charge;
        return;
      }
      case "complete": {
        const datagram = reassembly.assemble();
        this.#finish(assembly, "completed");
        this.#onComplete(datagram);
        return;
      }
      case "overlap":
        return this.#finish(assembly, "overlaps");
      case "too-big":
        return this.#finish(assembly, "tooBig");
      case "malformed":
        return this.#finish(assembly, "malformed");
    }
  }

  #timedOut(assembly: Assembly): void {
    if (assembly.done) return;
    const first = assembly.firstFragment;
    this.#finish(assembly, "timedOut");
    if (first) this.#onTimeout(first);
  }

  /** Evicts the oldest assembly other than `keep`; returns false when there is none. */
  #evictOldest(keep: Assembly | undefined): boolean {
    for (const assembly of this.#assemblies.values()) {
      if (assembly === keep) continue;
      this.#finish(assembly, "evicted");
      return true;
    }
    return false;
  }

  /** Ends an assembly once: releases its bytes, cancels its timer, closes its channel. */
  #finish(assembly: Assembly, outcome: Outcome): void {
    if (assembly.done) return;
    assembly.done = true;
    if (this.#assemblies.get(assembly.key) === assembly) this.#assemblies.delete(assembly.key);
    assembly.timer.cancel();
    this.#stats.heldBytes -= assembly.chargedBytes;
    assembly.chargedBytes = 0;
    this.#stats.active--;
    if (outcome !== "closed") this.#stats[outcome]++;
    const discarded = assembly.channel.drain().length;
    assembly.channel.close();
    this.#processed(discarded);
  }

  #processed(count: number): void {
    if (count === 0) return;
    this.#inFlight -= count;
    if (this.#inFlight === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}
