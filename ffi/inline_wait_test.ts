import assert from "node:assert/strict";
import { close, EFD_CLOEXEC, EFD_NONBLOCK, eventfd, read, write } from "./libc.ts";
import { InlineWaiter, NAP_WINDOW_MS, QUIET_CHECKS_BEFORE_BLOCKING } from "./inline_wait.ts";

/** Resolves after one turn of the event loop. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Runs `fn` with a fresh non-blocking eventfd: readable while its counter is non-zero. */
async function withEventFd(fn: (fd: number) => Promise<void> | void): Promise<void> {
  const fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  assert.ok(fd >= 0);
  try {
    await fn(fd);
  } finally {
    close(fd);
  }
}

const ONE = new Uint8Array(new BigUint64Array([1n]).buffer);

/** Waits once after a turn, as the TAP receiver does, with no activity of the caller's own. */
async function waitAfterTurn(waiter: InlineWaiter): Promise<string> {
  const turnStartedAt = performance.now();
  await nextTurn();
  return waiter.wait(turnStartedAt, -Infinity);
}

/**
 * Waits after turns until one wait blocks (at most 10 s) and returns what each wait ended with.
 * Other tests' leftovers may keep an epoll fd of the process ready for a while (once 36,170
 * turns, about a second, in a full run), and a waiter that never blocks tests nothing.
 */
async function untilFirstBlockingWait(waiter: InlineWaiter): Promise<string[]> {
  const results: string[] = [];
  const deadline = performance.now() + 10_000;
  while (waiter.stats.blockingWaits === 0 && performance.now() < deadline) {
    results.push(await waitAfterTurn(waiter));
  }
  return results;
}

/** What one wait did. */
interface WaitOutcome {
  result: string;
  /** Naps it slept. */
  naps: number;
  ms: number;
  /** Whether it blocked (or only checked). */
  blocked: boolean;
}

/** One wait after a turn, as if the caller's last frame came `quietMs` ago. */
async function oneWait(waiter: InlineWaiter, quietMs: number): Promise<WaitOutcome> {
  const turnStartedAt = performance.now();
  await nextTurn();
  const { naps, blockingWaits } = waiter.stats;
  const startedAt = performance.now();
  const result = waiter.wait(turnStartedAt, startedAt - quietMs);
  return {
    result,
    naps: waiter.stats.naps - naps,
    ms: performance.now() - startedAt,
    blocked: waiter.stats.blockingWaits > blockingWaits,
  };
}

/**
 * One blocking wait. A wait only blocks once the event loop was found quiet, and other tests'
 * leftovers may keep an epoll fd of the process ready for a while (see below): waits that only
 * checked are tried again.
 */
async function blockingWait(waiter: InlineWaiter, quietMs: number): Promise<WaitOutcome> {
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline) {
    const wait = await oneWait(waiter, quietMs);
    if (wait.blocked) return wait;
  }
  throw new Error("the event loop was never found quiet");
}

Deno.test("inline wait: within a second of the last frame, a wait sleeps in naps", () =>
  withEventFd(async (fd) => {
    const waiter = new InlineWaiter(fd, () => [], 0.1);
    // A wait lasts 0.25-4 ms (a quarter of the quiet time, which a busy turn also ends): several
    // naps of 0.1 ms. A wait that an event-loop fd ended early, or that one late nap outlasted
    // (a busy CPU), is tried again; without naps none of them would count more than one.
    let wait: WaitOutcome | undefined;
    for (let tries = 0; tries < 20 && !(wait?.result === "timeout" && wait.naps >= 2); tries++) {
      wait = await blockingWait(waiter, 100);
    }
    assert.equal(wait?.result, "timeout");
    assert.ok(wait.naps >= 2, `slept in naps (${wait.naps})`);
    assert.ok(wait.ms >= 0.25, `the naps together last the whole wait (${wait.ms} ms)`);
  }));

Deno.test("inline wait: a frame ends napping at once; past the nap window waits sleep whole", () =>
  withEventFd(async (fd) => {
    const waiter = new InlineWaiter(fd, () => [], 0.1);
    // Waits block once the event loop was found quiet with the fd unready; then it turns ready.
    // An event-loop fd that turns ready in between makes the next wait only check: again.
    let wait: WaitOutcome | undefined;
    for (let tries = 0; tries < 100 && !wait?.blocked; tries++) {
      await blockingWait(waiter, 100);
      assert.equal(write(fd, ONE), 8);
      wait = await oneWait(waiter, 100);
      read(fd, new Uint8Array(8));
    }
    assert.deepEqual({ ...wait, ms: 0 }, { result: "fd", naps: 1, ms: 0, blocked: true });
    assert.equal((await blockingWait(waiter, NAP_WINDOW_MS + 1)).naps, 0);
    assert.equal((await blockingWait(new InlineWaiter(fd), 100)).naps, 0, "no naps by default");
    assert.throws(() => new InlineWaiter(fd, () => [], -1), RangeError);
  }));

Deno.test("inline wait: a readable fd ends the wait with 'fd' and its revents", () =>
  withEventFd(async (fd) => {
    const waiter = new InlineWaiter(fd);
    assert.equal(write(fd, ONE), 8);
    assert.equal(await waitAfterTurn(waiter), "fd");
    assert.equal(waiter.fdEvents & 1, 1); // POLLIN
    read(fd, new Uint8Array(8));
  }));

Deno.test("inline wait: only checks until the event loop was found quiet, then blocks", () =>
  withEventFd(async (fd) => {
    const waiter = new InlineWaiter(fd);
    // Record every wait until the first blocking one, and check the ones just before it.
    const results = await untilFirstBlockingWait(waiter);
    assert.equal(waiter.stats.blockingWaits, 1);
    const checks = results.slice(-1 - QUIET_CHECKS_BEFORE_BLOCKING, -1);
    assert.deepEqual(checks, Array(QUIET_CHECKS_BEFORE_BLOCKING).fill("timeout"));
    assert.ok(results.length > QUIET_CHECKS_BEFORE_BLOCKING, "the first waits only check");
  }));

/** Exchanges the pipe test may take to see the child's byte end a wait that blocked. */
const PIPE_ROUNDS = 3;

Deno.test("inline wait: data arriving on one of Deno's pipes ends a blocking wait", () =>
  withEventFd(async (fd) => {
    const waiter = new InlineWaiter(fd);
    // The child's stdout is a pipe in Deno's epoll. It answers each line with one byte, 0.1 s
    // later, so that our waits block again after the write: sending the line keeps the event loop
    // busy for a while, longer on a loaded machine. Another test's leftovers may keep an epoll fd
    // ready for up to a second, and a byte that arrives then ends no blocking wait; so the test
    // takes up to three exchanges to see one that does.
    const child = new Deno.Command("sh", {
      args: ["-c", "while read go; do sleep 0.1; printf x; done"],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const stdin = child.stdin.getWriter();
    const stdout = child.stdout.getReader();
    const seen: string[] = [];
    try {
      for (let round = 1; round <= PIPE_ROUNDS; round++) {
        const blockedAtStart = waiter.stats.blockingWaits;
        const quietBy = performance.now() + 10_000;
        while (waiter.stats.blockingWaits === blockedAtStart && performance.now() < quietBy) {
          await waitAfterTurn(waiter);
        }
        assert.ok(waiter.stats.blockingWaits > blockedAtStart, "the event loop never went quiet");
        let arrived = false;
        const reading = stdout.read().then((chunk) => {
          arrived = true;
          return chunk;
        });
        await stdin.write(new TextEncoder().encode("go\n"));
        // What the last wait that blocked ended with, before the byte reached its reader.
        let lastBlocking = "none";
        const deadline = performance.now() + 10_000;
        while (!arrived && performance.now() < deadline) {
          const blockedBefore = waiter.stats.blockingWaits;
          const result = await waitAfterTurn(waiter);
          if (waiter.stats.blockingWaits > blockedBefore) lastBlocking = result;
        }
        const chunk = await reading;
        assert.equal(new TextDecoder().decode(chunk.value), "x");
        if (lastBlocking === "event-loop") return;
        seen.push(lastBlocking);
      }
      assert.fail(`the byte never ended a blocking wait; the last ones ended by: ${seen}`);
    } finally {
      await stdin.close();
      stdout.releaseLock();
      await child.stdout.cancel();
      assert.equal((await child.status).code, 0);
    }
  }));

Deno.test("inline wait: socket round trips are not held up by waits on the same thread", async () => {
  await withEventFd(async (fd) => {
    const dir = await Deno.makeTempDir({ prefix: "gonet-inline-" });
    const path = `${dir}/echo.sock`;
    const listener = Deno.listen({ transport: "unix", path });
    const serving = (async () => {
      const conn = await listener.accept();
      const byte = new Uint8Array(1);
      while ((await conn.read(byte)) === 1) await conn.write(byte);
      conn.close();
    })();
    const waiter = new InlineWaiter(fd);
    // First a quiet event loop (see untilFirstBlockingWait).
    await untilFirstBlockingWait(waiter);
    assert.ok(waiter.stats.blockingWaits > 0, "the event loop never went quiet");
    const blockedFirst = waiter.stats.blockingWaits;
    // The round trip in progress, if any, and those during which a wait blocked until its
    // timeout: client and server share this thread, so while a byte is on its way the event loop
    // has work, and a wait that sleeps through it holds the round trip up. Counting those waits,
    // rather than timing the round trips, keeps a descheduled vCPU out of the result.
    let current = -1;
    const held = new Set<number>();
    let stop = false;
    const waiting = (async () => {
      while (!stop) {
        const blockedBefore = waiter.stats.blockingWaits;
        const during = current;
        const result = await waitAfterTurn(waiter);
        const blocked = waiter.stats.blockingWaits > blockedBefore;
        if (blocked && result === "timeout" && during >= 0 && during === current) held.add(during);
      }
    })();
    const client = await Deno.connect({ transport: "unix", path });
    const byte = new Uint8Array(1);
    try {
      for (let i = 0; i < 200; i++) {
        current = i;
        await client.write(Uint8Array.of(i));
        assert.equal(await client.read(byte), 1);
        assert.equal(byte[0], i);
        current = -1;
        // A timer between round trips, as a paced client has: the waiter's waits grow meanwhile.
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    } finally {
      stop = true;
      client.close();
      await Promise.all([serving, waiting]);
      listener.close();
      await Deno.remove(dir, { recursive: true });
    }
    assert.ok(waiter.stats.blockingWaits > blockedFirst, "the waiter must have blocked in between");
    // With rule 2 switched off (QUIET_CHECKS_BEFORE_BLOCKING = 0) all 200 are held up; with it,
    // none were in ten runs, five of them with both cores loaded.
    assert.ok(held.size <= 2, `${held.size} of 200 round trips were held up by a wait`);
  });
});

Deno.test("inline wait: an event-loop fd closed under the waiter makes it look them up again", () =>
  withEventFd(async (fd) => {
    const waiter = new InlineWaiter(fd);
    await waitAfterTurn(waiter);
    assert.equal(waiter.stats.fdRefreshes, 1);
    // A Worker brings its own event loop and epoll fd; after it ends, that fd number is stale.
    const worker = new Worker(
      `data:application/javascript,${encodeURIComponent("postMessage('up')")}`,
      { type: "module" },
    );
    await new Promise((resolve) => worker.onmessage = resolve);
    waiter.refresh();
    await waitAfterTurn(waiter);
    assert.equal(waiter.stats.fdRefreshes, 2);
    worker.terminate();
    // The stale fd reports POLLNVAL (or, reused, constant readiness): either way the waiter
    // looks its fds up again instead of spinning on them.
    for (let i = 0; i < 5000 && waiter.stats.fdRefreshes < 3; i++) await waitAfterTurn(waiter);
    assert.ok(waiter.stats.fdRefreshes >= 3);
  }));
