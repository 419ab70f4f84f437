/**
 * An in-memory Ethernet cable: two {@link LinkDevice} ends, each delivering what the other writes.
 * Used to join two stacks inside one process, so tests run without a TAP, root or real time.
 * @module
 */

import { Channel } from "../channel.ts";
import { type LinkDevice, type LinkStats, newLinkStats } from "./link.ts";

/** Options for {@link createMemoryLinkPair}. */
export interface MemoryLinkOptions {
  /** IP MTU of both ends (default 1500). */
  mtu?: number;
  /** Frames each end can hold before dropping, like a NIC ring (default 4096). */
  queueFrames?: number;
}

class MemoryLink implements LinkDevice {
  readonly name: string;
  readonly mtu: number;
  readonly stats: LinkStats = newLinkStats();
  /** Frames waiting to be received by this end. */
  readonly inbox: Channel<Uint8Array>;
  peer: MemoryLink | undefined;

  constructor(name: string, mtu: number, queueFrames: number) {
    this.name = name;
    this.mtu = mtu;
    this.inbox = new Channel<Uint8Array>(queueFrames, `${name}.rx`);
  }

  async *receive(): AsyncGenerator<Uint8Array[]> {
    for await (const batch of this.inbox.batches()) {
      for (const frame of batch) {
        this.stats.rxFrames++;
        this.stats.rxBytes += frame.length;
      }
      yield batch;
    }
  }

  write(frame: Uint8Array): boolean {
    // Copy: the caller may reuse its buffer as soon as write returns (LinkDevice contract).
    if (this.inbox.closed || !this.peer?.inbox.trySend(frame.slice())) {
      this.stats.txDrops++;
      return false;
    }
    this.stats.txFrames++;
    this.stats.txBytes += frame.length;
    return true;
  }

  close(): Promise<void> {
    this.inbox.close();
    return Promise.resolve();
  }
}

/**
 * Creates two connected link ends, `a` and `b`.
 * @example
 * ```ts
 * const [a, b] = createMemoryLinkPair();
 * a.write(new Uint8Array(60)); // b.receive() yields it
 * ```
 */
export function createMemoryLinkPair(options: MemoryLinkOptions = {}): [LinkDevice, LinkDevice] {
  const mtu = options.mtu ?? 1500;
  const queueFrames = options.queueFrames ?? 4096;
  const a = new MemoryLink("mem0", mtu, queueFrames);
  const b = new MemoryLink("mem1", mtu, queueFrames);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
