/**
 * Keeps the packet path in the CPU caches while traffic is sparse.
 *
 * On a VM a lone ping finds the stack's code and data evicted after tens of milliseconds of
 * idleness (by the host, the other vCPU and other tenants): the same echo takes ~50 us from TAP
 * read to TAP write at 2 ms intervals and ~240 us at 200 ms intervals. Low-latency systems warm
 * their hot path with rehearsal traffic; this is gonet's rehearsal. Two private twin stacks,
 * joined by an in-memory link, exchange one echo every `intervalMs`. They run the very functions a
 * real packet runs (the Ethernet, IPv4 and ICMP dealers, the channels between them, the reply's
 * way down), and V8 shares compiled code, builtins, inline caches and object layouts between
 * instances. That keeps the code of the real stack's path warm, not its own objects, which are
 * few; the twins share no state with it: no frame reaches a wire, no counter of the real stack
 * moves. (The Ethernet layer's calls into its link now see two classes, a memory link and a TAP:
 * V8 handles such call sites polymorphically, at no measurable cost here.)
 *
 * It rehearses only while it matters: not while real frames keep the path warm anyway (the
 * watched counter moved since the last tick), and not once the link has been quiet for
 * `idleAfterMs`; then it only looks for traffic every `idleCheckMs`, so the first rehearsal after
 * a long quiet spell, and the last one before it, may come up to that much late.
 * @module
 */

import type { Clock, TimerHandle } from "./clock.ts";
import { createMemoryLinkPair } from "./link/memory.ts";
import { Stack } from "./stack.ts";
import type { Ipv4Addr } from "./wire/addr.ts";

/** The twins' addresses: TEST-NET-1 (RFC 5737), only ever inside this process. */
const TWIN_PINGER: Ipv4Addr = 0xc000_0201;
const TWIN_RESPONDER: Ipv4Addr = 0xc000_0202;
/** Payload of a rehearsal echo: `ping`'s default. */
const ECHO_DATA_BYTES = 56;

/** Options of {@link CacheWarmer.start}. */
export interface CacheWarmerOptions {
  /** Time between rehearsal echoes while warming, ms (> 0). */
  intervalMs: number;
  /** Stop warming once `activity` has not moved for this long, ms. */
  idleAfterMs: number;
  /** How often a cold (idle) warmer looks at `activity` again, ms (default 1000). */
  idleCheckMs?: number;
  /** A counter that moves with real traffic, e.g. the link's `stats.rxFrames`. */
  activity: () => number;
  /** Time source of the warmer and its twins. */
  clock: Clock;
}

/** Counters of a {@link CacheWarmer}. */
export interface CacheWarmerStats {
  /** Rehearsal echoes answered by the twin. */
  echoes: number;
  /** Rehearsal echoes that failed (never expected: counted to make a fault visible). */
  failures: number;
}

/** Rehearsal traffic between two private stacks; see the module documentation. */
export class CacheWarmer implements AsyncDisposable {
  /** Counters, updated in place. */
  readonly stats: CacheWarmerStats = { echoes: 0, failures: 0 };
  readonly #options: Required<CacheWarmerOptions>;
  readonly #pinger: Stack;
  readonly #responder: Stack;
  readonly #identifier: number;
  #sequence = 0;
  #lastActivity: number;
  #lastActiveAt = -Infinity;
  #timer: TimerHandle | undefined;
  #closing: Promise<void> | undefined;

  private constructor(options: CacheWarmerOptions) {
    if (!(options.intervalMs > 0)) {
      throw new RangeError(`Invalid intervalMs ${options.intervalMs}: must be > 0`);
    }
    this.#options = { idleCheckMs: 1000, ...options };
    const [pingerLink, responderLink] = createMemoryLinkPair();
    const twin = { clock: options.clock, quiet: true, inboxPackets: 64 };
    this.#pinger = Stack.create({
      ...twin,
      link: pingerLink,
      address: { address: TWIN_PINGER, prefixLength: 24 },
    });
    this.#responder = Stack.create({
      ...twin,
      link: responderLink,
      address: { address: TWIN_RESPONDER, prefixLength: 24 },
    });
    this.#identifier = this.#pinger.icmp.allocateIdentifier();
    this.#lastActivity = options.activity();
    this.#schedule(this.#options.idleCheckMs);
  }

  /** Starts watching `options.activity`; rehearses once it moves. */
  static start(options: CacheWarmerOptions): CacheWarmer {
    return new CacheWarmer(options);
  }

  /** Whether rehearsal echoes are being sent (traffic seen within `idleAfterMs`). */
  get warming(): boolean {
    return this.#options.clock.now() - this.#lastActiveAt < this.#options.idleAfterMs;
  }

  /** Stops rehearsing and closes the twins. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#timer?.cancel();
      this.#timer = undefined;
      await Promise.all([this.#pinger.close(), this.#responder.close()]);
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #schedule(delayMs: number): void {
    if (this.#closing) return;
    this.#timer = this.#options.clock.setTimer(delayMs, () => this.#tick());
  }

  #tick(): void {
    const { clock, activity, intervalMs, idleCheckMs } = this.#options;
    const now = clock.now();
    const seen = activity();
    if (seen !== this.#lastActivity) {
      // Real frames went through since the last tick: they warmed the path themselves.
      this.#lastActivity = seen;
      this.#lastActiveAt = now;
      this.#schedule(intervalMs);
      return;
    }
    if (!this.warming) {
      this.#schedule(idleCheckMs);
      return;
    }
    this.#rehearse().then(
      (answered) => {
        if (answered) this.stats.echoes++;
        else if (!this.#closing) this.stats.failures++;
      },
      () => this.stats.failures++,
    ).finally(() => this.#schedule(intervalMs));
  }

  /** One echo between the twins; whether it was answered. */
  async #rehearse(): Promise<boolean> {
    const result = await this.#pinger.ping({
      destination: TWIN_RESPONDER,
      identifier: this.#identifier,
      sequence: this.#sequence,
      dataBytes: ECHO_DATA_BYTES,
    });
    this.#sequence = (this.#sequence + 1) & 0xffff;
    return result.kind === "reply";
  }
}
