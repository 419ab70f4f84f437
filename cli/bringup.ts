/**
 * Brings a stack up on a TAP device the way `gonet up` describes it: creates the TAP, configures
 * the kernel side (unless `--no-host-config`), wraps the link with the fault injector and the pcap
 * writer when asked, and starts the stack and its cache warmer. Tear-down undoes all of it.
 * @module
 */

import { pinCallingThread } from "../ffi/affinity.ts";
import { openTap } from "../ffi/tap.ts";
import { setIpv4Address, setLinkUp, setTxQueueLength } from "../ffi/netif.ts";
import { CacheWarmer } from "../stack/cache_warmer.ts";
import { SeededRandom, systemClock } from "../stack/clock.ts";
import { FaultyLink } from "../stack/link/faults.ts";
import type { LinkDevice } from "../stack/link/link.ts";
import { PcapLink, PcapWriter } from "../stack/link/pcap.ts";
import { Stack } from "../stack/stack.ts";
import type { StackConfig } from "./stack_flags.ts";

/** A stack running on a TAP, with its tear-down. */
export interface RunningStack {
  /** The stack. */
  readonly stack: Stack;
  /** The cache warmer, unless `--keep-warm 0` or `--inline-wait 0`. */
  readonly warmer: CacheWarmer | undefined;
  /** Stops the stack, closes the pcap file and removes the TAP. Idempotent. */
  close(): Promise<void>;
}

/** What tests may add to a {@link bringUp}. */
export interface BringUpTestOptions {
  /** `poisonReusedArenas` of `openTap` (`ffi/tap.ts`). */
  poisonReusedArenas?: boolean;
}

/** Brings up the stack described by `config`. */
export function bringUp(config: StackConfig, testOptions: BringUpTestOptions = {}): RunningStack {
  const tap = openTap({
    name: config.tap,
    mtu: config.mtu,
    offload: config.offload,
    busyPollMicros: config.busyPollMicros,
    inlineWaitMs: config.inlineWaitMs,
    napMicros: config.napMicros,
    spinAheadMicros: config.spinAheadMicros,
    rehearseMicros: config.rehearseMicros,
    txThread: config.txThread,
    poisonReusedArenas: testOptions.poisonReusedArenas,
  });
  let pcapFile: Deno.FsFile | undefined;
  try {
    // After the TAP, whose transmit thread (when asked for) exists to take writes to another
    // CPU: it keeps every CPU, like the runtime's own helper threads.
    if (config.cpus) pinCallingThread(config.cpus);
    // The kernel queues frames for us here; bursts from many connections overflow Linux's
    // default of 1000 (drops the kernel then retransmits after an RTO), so allow more.
    setTxQueueLength(tap.name, config.tapQueueFrames);
    if (config.hostIp) {
      setIpv4Address(tap.name, config.hostIp);
      setLinkUp(tap.name, true);
    }
    let link: LinkDevice = tap;
    if (Object.values(config.faults).some((p) => p !== undefined && p > 0)) {
      link = new FaultyLink(link, config.faults, new SeededRandom(config.seed));
    }
    if (config.pcap) {
      pcapFile = Deno.openSync(config.pcap, { write: true, create: true, truncate: true });
      // Microsecond stamps, as tcpdump writes them (Date.now has only milliseconds).
      const wallClockMs = () => performance.timeOrigin + performance.now();
      link = new PcapLink(link, new PcapWriter(pcapFile, { wallClockMs }));
    }
    const stack = Stack.create({
      ...config.limits,
      link,
      address: config.ip,
      mac: config.mac,
      gateway: config.gateway,
    });
    // The warmer rehearses while the TAP has seen frames lately, for as long as the TAP itself
    // waits inline (without an inline wait, wake-ups dominate and warm caches matter less).
    const warmer = config.keepWarmMs > 0 && config.inlineWaitMs > 0
      ? CacheWarmer.start({
        intervalMs: config.keepWarmMs,
        idleAfterMs: config.inlineWaitMs,
        activity: () => tap.stats.rxFrames,
        clock: systemClock,
      })
      : undefined;
    let closing: Promise<void> | undefined;
    return {
      stack,
      warmer,
      close() {
        closing ??= (async () => {
          await warmer?.close();
          await stack.close();
          pcapFile?.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    pcapFile?.close();
    void tap.close();
    throw error;
  }
}
