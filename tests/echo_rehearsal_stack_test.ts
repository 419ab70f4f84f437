/**
 * Rehearsals through a real stack, in process: a link that rehearses as the TAP does (a copy of
 * the last answered echo request handed up, its reply swallowed; `stack/link/echo_rehearsal.ts`)
 * and the stack's hook that takes each rehearsal out of its counters again. The TAP's own use of
 * it, against the kernel's `ping`, is tested in `tap_rehearsal_test.ts`.
 */

import assert from "node:assert/strict";
import { Channel } from "../stack/channel.ts";
import { ManualClock } from "../stack/clock.ts";
import {
  EchoRehearsal,
  MAX_REHEARSED_FRAME_BYTES,
  REHEARSAL_TOKEN_BYTES,
  type RehearsalHook,
} from "../stack/link/echo_rehearsal.ts";
import type { FrameBatch, LinkDevice } from "../stack/link/link.ts";
import { LinkWrapper } from "../stack/link/wrapper.ts";
import type { Stack, StackOptions, StackStats } from "../stack/stack.ts";
import { createStackPair, settle, type StackPair } from "./helpers/memory_stacks.ts";

/** How long a test waits for a rehearsal's reply before it fails, ms. */
const REPLY_WAIT_MS = 2000;

/**
 * A link end that rehearses on demand, as the TAP does while it spins (`ffi/tap.ts`), with the
 * same {@link EchoRehearsal}: echo replies kept once written, every frame checked for the token,
 * the stack's `ready` asked first.
 */
class RehearsingLink extends LinkWrapper {
  readonly rehearsal = new EchoRehearsal(new Uint8Array(REHEARSAL_TOKEN_BYTES).fill(0xa5), {
    intervalMs: 0,
    ttlMs: Infinity,
    answerMs: Infinity,
  });
  readonly #inbox = new Channel<FrameBatch>(64, "rehearsing.rx");
  #hook: RehearsalHook | undefined;
  #answered: (() => void) | undefined;
  /** The frame clock of the rehearsal schedule: one step per rehearsal. */
  #now = 0;

  constructor(inner: LinkDevice) {
    super(inner);
    void this.#pump();
  }

  override async *receive(): AsyncGenerator<FrameBatch> {
    for await (const batches of this.#inbox.batches()) yield* batches;
  }

  override write(frame: Uint8Array): boolean {
    if (this.rehearsal.isRehearsalReply(frame)) {
      this.rehearsal.replied();
      this.#hook!.rehearsed();
      this.#answered?.();
      return true;
    }
    const sent = this.inner.write(frame);
    if (sent) this.rehearsal.noteAnswered(frame, this.#now);
    return sent;
  }

  setRehearsalHook(hook: RehearsalHook): void {
    this.#hook = hook;
  }

  /**
   * Hands up one rehearsal if the stack is ready for it: resolves true once its reply was
   * swallowed, false when none went up; rejects when the reply does not come.
   */
  async rehearse(): Promise<boolean> {
    const buffer = new Uint8Array(MAX_REHEARSED_FRAME_BYTES);
    const length = this.rehearsal.next(buffer, 0, ++this.#now, -Infinity, this.#hook!);
    if (length === 0) return false;
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const timer = setTimeout(
      () => reject(new Error("the rehearsal was not answered")),
      REPLY_WAIT_MS,
    );
    this.#answered = resolve;
    assert.ok(this.#inbox.trySend([buffer.subarray(0, length)]));
    try {
      await promise;
    } finally {
      clearTimeout(timer);
    }
    return true;
  }

  override close(): Promise<void> {
    this.#inbox.close();
    return this.inner.close();
  }

  async #pump(): Promise<void> {
    for await (const batch of this.inner.receive()) this.#inbox.trySend(batch);
    this.#inbox.close();
  }
}

/** A pair on a frozen clock whose A side (10.0.0.1) rehearses, when `rehearsing` is set. */
function pair(
  rehearsing: boolean,
  stack: Partial<StackOptions> = {},
): { pair: StackPair; link: RehearsingLink | undefined } {
  let link: RehearsingLink | undefined;
  const created = createStackPair({
    clock: new ManualClock(),
    stack,
    wrapLinkA: rehearsing ? (inner) => link = new RehearsingLink(inner) : undefined,
  });
  return { pair: created, link };
}

/** B pings A once; the result's kind. */
async function ping(from: Stack, to: Stack, sequence: number): Promise<string> {
  const result = await from.ping({
    destination: to.address.address,
    identifier: 7,
    sequence,
    timeoutMs: 1000,
  });
  return result.kind;
}

/** Every counter of `stats` but the link's (the rehearsing link keeps none of its own). */
function layerCounters(stats: StackStats): Omit<StackStats, "link"> {
  const { link: _link, ...layers } = stats;
  return layers;
}

Deno.test("rehearsed echoes are answered through the stack and leave its counters as they were", async () => {
  const rehearsed = pair(true);
  const control = pair(false);
  await using _rehearsed = rehearsed.pair;
  await using _control = control.pair;
  const link = rehearsed.link!;
  for (const { pair: { a, b } } of [rehearsed, control]) {
    assert.equal(await ping(b, a, 1), "reply");
  }
  for (let i = 0; i < 5; i++) assert.equal(await link.rehearse(), true);
  for (const { pair: { a, b } } of [rehearsed, control]) {
    assert.equal(await ping(b, a, 2), "reply");
    assert.equal(await ping(b, a, 3), "reply");
  }
  assert.equal(await link.rehearse(), true);
  assert.equal(link.rehearsal.stats.rehearsals, 6);
  const seen = layerCounters(rehearsed.pair.a.stats());
  assert.deepEqual(seen, layerCounters(control.pair.a.stats()));
  assert.equal(seen.icmp.echoRequestsIn, 3);
  assert.equal(seen.icmp.echoRepliesOut, 3);
  // The pinger saw its three replies and nothing else.
  assert.equal(rehearsed.pair.b.stats().icmp.echoRepliesIn, 3);
  assert.equal(rehearsed.pair.b.stats().link.rxFrames, control.pair.b.stats().link.rxFrames);
});

Deno.test("a rehearsed echo gives its rate-limit token back", async () => {
  // Two echo replies per second and a clock that stands still: two tokens in all.
  const { pair: stacks, link } = pair(true, { icmp: { echoReplyRatePerSec: 2 } });
  await using _stacks = stacks;
  const { a, b } = stacks;
  assert.equal(await ping(b, a, 1), "reply");
  for (let i = 0; i < 3; i++) assert.equal(await link!.rehearse(), true);
  assert.equal(await ping(b, a, 2), "reply");
  // No token left: the stack is not ready, and nothing is rehearsed (or counted as dropped).
  assert.equal(await link!.rehearse(), false);
  assert.equal(a.stats().icmp.drops["echo-rate-limited"], undefined);
  // The limit is real: a third request finds no token left and goes unanswered.
  const third = ping(b, a, 3);
  await settle(); // A has dealt with it
  (a.clock as ManualClock).advance(1000);
  assert.equal(await third, "timeout");
  assert.equal(a.stats().icmp.drops["echo-rate-limited"], 1);
  assert.equal(link!.rehearsal.stats.rehearsals, 3);
});

Deno.test("no rehearsal while the way back needs ARP: no request goes out for one", async () => {
  const { pair: stacks, link } = pair(true);
  await using _stacks = stacks;
  const { a, b } = stacks;
  assert.equal(await ping(b, a, 1), "reply");
  assert.ok(a.arp.cache.delete(b.address.address));
  const before = a.stats();
  assert.equal(await link!.rehearse(), false);
  await settle();
  assert.deepEqual(a.stats(), before);
  // Once the stack has resolved the pinger again (its next request), rehearsals resume.
  assert.equal(await ping(b, a, 2), "reply");
  assert.equal(await link!.rehearse(), true);
});
