/**
 * Two stacks joined by the in-memory link, for deterministic tests without a TAP or root.
 * @module
 */

import { type Clock, type Random, SeededRandom } from "../../stack/clock.ts";
import { type FaultOptions, FaultyLink } from "../../stack/link/faults.ts";
import type { LinkDevice } from "../../stack/link/link.ts";
import { createMemoryLinkPair } from "../../stack/link/memory.ts";
import { Stack, type StackOptions } from "../../stack/stack.ts";
import { parseIpv4Cidr } from "../../stack/wire/addr.ts";

/** Options of {@link createStackPair}. */
export interface StackPairOptions {
  /** Clock shared by both stacks (default: system clock). */
  clock?: Clock;
  /** Faults injected on side A's link (both directions). */
  faults?: FaultOptions;
  /** Seed of the fault injector and both stacks' randomness. */
  seed?: number;
  /** Link MTU. */
  mtu?: number;
  /** Wraps A's link end (after faults), e.g. to drop chosen frames. */
  wrapLinkA?: (link: LinkDevice) => LinkDevice;
  /** Extra options for both stacks. */
  stack?: Partial<StackOptions>;
}

/** Two stacks, `a` (10.0.0.1, MAC 02:00:00:00:00:01) and `b` (10.0.0.2, ...:02). */
export interface StackPair extends AsyncDisposable {
  /** The first stack. */
  a: Stack;
  /** The second stack. */
  b: Stack;
  /** The fault injector on A's side, when faults were asked for. */
  faulty?: FaultyLink;
}

/** Creates and starts the pair. */
export function createStackPair(options: StackPairOptions = {}): StackPair {
  const seed = options.seed ?? 1;
  const [linkA, linkB] = createMemoryLinkPair({ mtu: options.mtu });
  let faulty: FaultyLink | undefined;
  let sideA: LinkDevice = linkA;
  if (options.faults) {
    sideA = faulty = new FaultyLink(linkA, options.faults, new SeededRandom(seed));
  }
  if (options.wrapLinkA) sideA = options.wrapLinkA(sideA);
  const make = (link: LinkDevice, n: number, random: Random) =>
    Stack.create({
      link,
      address: parseIpv4Cidr(`10.0.0.${n}/24`)!,
      mac: 0x02_00_00_00_00_00 + n,
      clock: options.clock,
      random,
      ...options.stack,
    });
  const a = make(sideA, 1, new SeededRandom(seed + 1));
  const b = make(linkB, 2, new SeededRandom(seed + 2));
  return {
    a,
    b,
    faulty,
    async [Symbol.asyncDispose]() {
      await a.close();
      await b.close();
    },
  };
}

/**
 * Lets every queued promise and channel hand-off run to completion: in-memory links and dealers
 * make progress only through microtasks, so one macrotask turn drains all of them.
 */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
