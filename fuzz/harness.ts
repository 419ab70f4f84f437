/**
 * The receive-path fuzzer's world and loop: a target {@link Stack} (10.0.0.2) and a
 * well-behaved helper stack (10.0.0.1) on the two ends of one in-memory link, a manual clock, and
 * a {@link FrameGenerator} whose frames are written raw into the helper's end of the link, so
 * they arrive at the target exactly as frames from the wire would. The helper's end is wrapped in
 * a tap through which the generator sees everything the target sends.
 *
 * The target runs an echo service on TCP 80, a tiny-backlog discard service on TCP 7 (so SYN
 * cookies are used), a UDP echo on 53 and a client task that connects out to the fuzzer's hosts,
 * with its caps lowered so the fuzzer reaches them; {@link FuzzProfile} picks its configuration.
 *
 * Each distinct failure is saved as JSON under `fuzz/corpus/` with the seed that reproduces the
 * whole run and the shortest tail of the last 3000 events (frames, clock steps, turns) that still
 * fails on replay, down to a single frame when that alone does; {@link replayCorpusFile} plays
 * such a file back against a fresh world.
 * @module
 */

import { ManualClock, SeededRandom } from "../stack/clock.ts";
import type { LinkDevice, LinkStats } from "../stack/link/link.ts";
import { createMemoryLinkPair } from "../stack/link/memory.ts";
import { Stack } from "../stack/stack.ts";
import type { TcpConn } from "../stack/tcp/conn.ts";
import type { TcpListener } from "../stack/tcp/listener.ts";
import type { UdpSocket } from "../stack/udp/layer.ts";
import { parseIpv4Cidr } from "../stack/wire/addr.ts";
import {
  arpAnswerFor,
  arpHelloFrame,
  DISCARD_PORT,
  ECHO_PORT,
  FrameGenerator,
  HELPER_MAC,
  PEER_COUNT,
  Rng,
  TARGET_MAC,
  UDP_ECHO_PORT,
} from "./generators.ts";
import {
  type Bounds,
  checkBounds,
  checkConnections,
  checkHeap,
  checkTargetFrame,
  type Failure,
  failureFrom,
  FailureLog,
  healthCheck,
  noteTargetFrame,
  turn,
} from "./invariants.ts";

/** The caps the target is configured with (and that {@link checkBounds} enforces). */
export const DEFAULT_BOUNDS: Bounds = {
  reassemblyBytes: 1024 * 1024,
  reassemblies: 64,
  connections: 4096,
  arpEntries: 128,
  heapBytes: 1024 * 1024 * 1024,
};

/**
 * Target configurations to fuzz: `default` (the stack's defaults, lowered caps); `lean` (no
 * window scaling, timestamps or SACK, 16 KiB buffers, NewReno, immediate ACKs, keepalives); `small-mtu` (a 576-byte link, so replies are fragmented and MSS is 536).
 */
export type FuzzProfile = "default" | "lean" | "small-mtu";

/** Every {@link FuzzProfile}. */
export const FUZZ_PROFILES: readonly FuzzProfile[] = ["default", "lean", "small-mtu"];

/** Passes every frame the target sends to `onFrame` before the helper stack sees it. */
class TapLink implements LinkDevice {
  readonly #inner: LinkDevice;
  readonly #onFrame: (frame: Uint8Array) => void;

  constructor(inner: LinkDevice, onFrame: (frame: Uint8Array) => void) {
    this.#inner = inner;
    this.#onFrame = onFrame;
  }

  get name(): string {
    return this.#inner.name;
  }

  get mtu(): number {
    return this.#inner.mtu;
  }

  get stats(): LinkStats {
    return this.#inner.stats;
  }

  async *receive(): AsyncGenerator<Uint8Array[]> {
    for await (const batch of this.#inner.receive()) {
      for (const frame of batch) this.#onFrame(frame);
      yield batch;
    }
  }

  write(frame: Uint8Array): boolean {
    return this.#inner.write(frame);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

/** Errors a service may see when a peer misbehaves; anything else is a failure. */
function isExpectedConnectionError(error: unknown): boolean {
  return error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionAborted ||
    error instanceof Deno.errors.ConnectionRefused ||
    error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.TimedOut ||
    error instanceof Deno.errors.BadResource ||
    error instanceof Deno.errors.NotConnected ||
    error instanceof Deno.errors.Interrupted;
}

/**
 * Errors a UDP socket reports for ICMP errors about what it sent (by design, like a Linux socket
 * with IP_RECVERR): any `Deno.errors` class, and RangeError for "fragmentation needed".
 */
function isExpectedUdpError(error: unknown): boolean {
  if (error instanceof RangeError) return error.message.startsWith("Message too long");
  return Object.values(Deno.errors).some((type) => error instanceof type);
}

/** Target, helper, clock and the services, ready for frames. */
export class FuzzWorld {
  /** The manual clock both stacks use. */
  readonly clock: ManualClock;
  /** The stack under test (10.0.0.2). */
  readonly target: Stack;
  /** The well-behaved stack used for health checks (10.0.0.1). */
  readonly helper: Stack;
  /** Failures seen so far (services report here too). */
  readonly log: FailureLog;
  /** Observers of every frame the target sends. */
  readonly taps: ((frame: Uint8Array) => void)[] = [];
  /** Oddities seen in the target's output that are not failures (see `noteTargetFrame`). */
  readonly notes: Record<string, number> = {};
  /** Connections the services accepted. */
  accepted = 0;
  readonly #inject: LinkDevice;
  readonly #listeners: TcpListener[] = [];
  readonly #socket: UdpSocket;
  /** Service tasks still running (each removes itself when done, so long runs do not grow). */
  readonly #services = new Set<Promise<void>>();

  /** The link MTU. */
  readonly mtu: number;

  /** Builds the world for `seed` and starts the target's services. */
  constructor(
    seed: number,
    log: FailureLog,
    bounds: Bounds = DEFAULT_BOUNDS,
    profile: FuzzProfile = "default",
  ) {
    this.log = log;
    this.clock = new ManualClock(1_000_000);
    this.mtu = profile === "small-mtu" ? 576 : 1500;
    const [sideA, sideB] = createMemoryLinkPair({ queueFrames: 8192, mtu: this.mtu });
    this.#inject = sideA;
    const tap = new TapLink(sideA, (frame) => {
      for (const observer of this.taps) {
        try {
          observer(frame);
        } catch (error) {
          log.add(failureFrom("tap-observer", error));
        }
      }
    });
    this.target = Stack.create({
      link: sideB,
      address: parseIpv4Cidr("10.0.0.2/24")!,
      mac: TARGET_MAC,
      clock: this.clock,
      random: new SeededRandom(seed ^ 0x7a26e7),
      quiet: true,
      arp: { maxEntries: bounds.arpEntries },
      ipv4: {
        maxReassemblies: bounds.reassemblies,
        maxReassemblyBytes: bounds.reassemblyBytes,
      },
      tcp: {
        maxConnections: bounds.connections,
        backlog: 32,
        ...(profile === "lean"
          ? {
            tcb: {
              windowScaling: false,
              timestamps: false,
              sack: false,
              sendBufferBytes: 16 * 1024,
              recvBufferBytes: 16 * 1024,
              maxOutOfOrderBytes: 8 * 1024,
              congestion: "newreno",
              delayedAckMs: 0,
              noDelay: true,
              keepAlive: true,
              keepAliveIdleMs: 10_000,
              keepAliveIntervalMs: 1_000,
              keepAliveProbes: 3,
              tailLossProbe: false,
            },
          }
          : {}),
      },
    });
    this.helper = Stack.create({
      link: tap,
      address: parseIpv4Cidr("10.0.0.1/24")!,
      mac: HELPER_MAC,
      clock: this.clock,
      random: new SeededRandom(seed ^ 0x4e1be2),
      quiet: true,
    });
    const echo = this.target.listen({ port: ECHO_PORT });
    const discard = this.target.listen({ port: DISCARD_PORT, backlog: 2 });
    this.#listeners.push(echo, discard);
    this.#track(this.#serve(echo, true));
    this.#track(this.#serve(discard, false));
    this.#socket = this.target.listenDatagram({ port: UDP_ECHO_PORT });
    this.#track(this.#udpEcho(this.#socket));
    // Everything the target sends must be well-formed and correctly addressed.
    this.taps.push((frame) => {
      const problem = checkTargetFrame(frame, this.mtu);
      if (problem && log.failures.length < 20) {
        log.add({ kind: "output", message: `${problem}; frame ${toHex(frame.subarray(0, 80))}` });
      }
      const note = noteTargetFrame(frame);
      if (note) this.notes[note] = (this.notes[note] ?? 0) + 1;
    });
  }

  /** Active opens the client task has in flight. */
  clientsInFlight = 0;

  /**
   * Has the target's client task open a connection to `peer:port` (one of the fuzzer's hosts),
   * write a line and close; the generator answers its SYN however it likes.
   */
  startClient(hostname: string, port: number): void {
    this.clientsInFlight++;
    const client = (async () => {
      try {
        const conn = await this.target.connect({ hostname, port });
        const timer = this.clock.setTimer(60_000, () => conn.close());
        try {
          await conn.write(new TextEncoder().encode("hello from the target\n"));
          await conn.closeWrite();
          const buf = new Uint8Array(2048);
          while (await conn.read(buf) !== null) {
            // Discard whatever the fuzzer sends back.
          }
        } finally {
          timer.cancel();
          conn.close();
        }
      } catch (error) {
        if (!isExpectedConnectionError(error)) this.log.add(failureFrom("service-client", error));
      } finally {
        this.clientsInFlight--;
      }
    })();
    this.#track(client);
  }

  /** Listener sanity: half-open connections never exceed the backlog. */
  checkListeners(): Failure[] {
    return this.#listeners
      .filter((l) => !l.closed && l.halfOpen.size > l.backlog)
      .map((l) => ({
        kind: "bound",
        message: `port ${l.port}: ${l.halfOpen.size} half-open > backlog ${l.backlog}`,
      }));
  }

  /** Writes one raw frame into the link, towards the target. */
  inject(frame: Uint8Array): void {
    this.#inject.write(frame);
  }

  /** Closes services and both stacks, and waits for the service tasks. */
  async close(): Promise<void> {
    for (const listener of this.#listeners) {
      if (!listener.closed) listener.close();
    }
    this.#socket.close();
    await this.target.close();
    await this.helper.close();
    await Promise.allSettled([...this.#services]);
  }

  #track(task: Promise<void>): void {
    this.#services.add(task);
    task.finally(() => this.#services.delete(task));
  }

  async #serve(listener: TcpListener, echo: boolean): Promise<void> {
    try {
      for await (const conn of listener) {
        this.accepted++;
        this.#track(this.#session(conn, echo));
      }
    } catch (error) {
      if (!isExpectedConnectionError(error)) this.log.add(failureFrom("service-listener", error));
    }
  }

  async #session(conn: TcpConn, echo: boolean): Promise<void> {
    // Services close idle connections after a minute of manual time, like a server timeout.
    const timer = this.clock.setTimer(60_000, () => conn.close());
    const buf = new Uint8Array(4096);
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        if (echo) await conn.write(buf.slice(0, n));
      }
    } catch (error) {
      if (!isExpectedConnectionError(error)) this.log.add(failureFrom("service-tcp", error));
    } finally {
      timer.cancel();
      try {
        conn.close();
      } catch (error) {
        if (!isExpectedConnectionError(error)) this.log.add(failureFrom("service-close", error));
      }
    }
  }

  async #udpEcho(socket: UdpSocket): Promise<void> {
    for (;;) {
      try {
        const [data, from] = await socket.receive();
        await socket.send(data, { hostname: from.hostname, port: from.port });
      } catch (error) {
        if (error instanceof Deno.errors.BadResource) return;
        if (!isExpectedUdpError(error)) this.log.add(failureFrom("service-udp", error));
      }
    }
  }
}

/** One recorded step: a frame written, the clock moved, or a macrotask turn. */
export type FuzzEvent =
  | { type: "frame"; bytes: Uint8Array }
  | { type: "advance"; ms: number }
  | { type: "turn" };

/** The last `capacity` events, oldest first. */
class EventRing {
  readonly #events: (FuzzEvent | undefined)[];
  #next = 0;
  #count = 0;

  constructor(capacity: number) {
    this.#events = new Array(capacity);
  }

  push(event: FuzzEvent): void {
    this.#events[this.#next] = event;
    this.#next = (this.#next + 1) % this.#events.length;
    this.#count = Math.min(this.#count + 1, this.#events.length);
  }

  list(): FuzzEvent[] {
    const out: FuzzEvent[] = [];
    const start = (this.#next - this.#count + this.#events.length) % this.#events.length;
    for (let i = 0; i < this.#count; i++) {
      out.push(this.#events[(start + i) % this.#events.length]!);
    }
    return out;
  }
}

/** Options of {@link runFuzz}. */
export interface FuzzOptions {
  /** Seed of the generator, the clock schedule and both stacks. */
  seed: number;
  /** Frames to send (the run stops earlier on a failure or the time limit). */
  frames: number;
  /** Wall-clock limit in seconds (default none). */
  seconds?: number;
  /** Frames written between macrotask turns (default 128; the link queue holds 8192). */
  burst?: number;
  /** Frames between health checks (default 500 000; one more always runs at the end). */
  healthEvery?: number;
  /** Caps to enforce (default {@link DEFAULT_BOUNDS}). */
  bounds?: Bounds;
  /** Directory to save failing inputs into (default: do not save). */
  corpusDir?: string;
  /** Receives a progress line every `progressEvery` frames. */
  progress?: (line: string) => void;
  /** Frames between progress lines (default 1 000 000). */
  progressEvery?: number;
  /**
   * Keep fuzzing after a failure (default false: stop at the first). Each new failure signature
   * is saved once; the run stops after 50 distinct ones.
   */
  keepGoing?: boolean;
  /** Target configuration (default `default`). */
  profile?: FuzzProfile;
}

/** What a run did. */
export interface FuzzReport {
  /** The seed. */
  seed: number;
  /** Frames written into the link. */
  frames: number;
  /** Wall time of the loop in ms. */
  elapsedMs: number;
  /** Frames per second of wall time. */
  framesPerSecond: number;
  /** Manual-clock time that passed, in ms. */
  simulatedMs: number;
  /** Broken invariants, the first of each signature (empty when the run passed). */
  failures: Failure[];
  /** Frames made by each generator branch. */
  kinds: Record<string, number>;
  /** Health checks run (each a ping and a TCP echo). */
  healthChecks: number;
  /** Largest `heapUsed` seen at a check, in bytes. */
  peakHeapBytes: number;
  /** Connections the target's services accepted. */
  accepted: number;
  /** Oddities in the target's output that are not failures, by kind. */
  notes: Record<string, number>;
  /** The target's final counters. */
  stats: ReturnType<Stack["stats"]>;
  /** How often each failure signature (see {@link failureSignature}) was seen. */
  occurrences: Record<string, number>;
  /** Paths of the corpus entries saved for this run's failures. */
  savedFiles: string[];
}

/** How far the manual clock moves after each burst: mostly a little, sometimes past timeouts. */
function clockStep(rng: Rng): number {
  const r = rng.int(1000);
  if (r < 700) return 1;
  if (r < 900) return 20;
  if (r < 980) return 200;
  if (r < 995) return 2_000;
  return 31_000; // past the reassembly timeout
}

/**
 * A failure's signature for de-duplication: its kind and message with numbers masked and
 * anything after `;` (frame bytes) dropped.
 */
export function failureSignature(failure: Failure): string {
  return `${failure.kind}: ${failure.message.split(";")[0].replace(/\d+/g, "#")}`;
}

/** Runs the fuzzer; never throws for a stack failure (see {@link FuzzReport.failures}). */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const bounds = options.bounds ?? DEFAULT_BOUNDS;
  const burst = options.burst ?? 128;
  const healthEvery = options.healthEvery ?? 500_000;
  const progressEvery = options.progressEvery ?? 1_000_000;
  const keepGoing = options.keepGoing ?? false;
  const profile = options.profile ?? "default";
  const log = new FailureLog();
  const world = new FuzzWorld(options.seed, log, bounds, profile);
  log.install();
  const generator = new FrameGenerator(options.seed);
  world.taps.push((frame) => generator.observe(frame));
  const schedule = new Rng(options.seed ^ 0x51ed);
  const ring = new EventRing(3000);
  const kinds: Record<string, number> = {};
  const distinct = new Map<string, Failure>();
  const occurrences: Record<string, number> = {};
  const savedFiles: string[] = [];
  const started = performance.now();
  const startClock = world.clock.now();
  const deadline = options.seconds === undefined ? Infinity : started + options.seconds * 1000;
  let frames = 0;
  let healthChecks = 0;
  let peakHeapBytes = 0;
  let nextHealth = healthEvery;
  let nextProgress = progressEvery;
  let bursts = 0;
  const heap = async () => {
    peakHeapBytes = Math.max(peakHeapBytes, Deno.memoryUsage().heapUsed);
    if (!checkHeap(bounds)) return;
    // Give the collector a chance before calling it a leak.
    for (let i = 0; i < 5 && checkHeap(bounds); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const failure = checkHeap(bounds);
    if (failure) log.add(failure);
  };
  /** Moves new failures into `distinct`; saves the first of each signature. True to stop. */
  const collect = async (): Promise<boolean> => {
    if (log.failures.length === 0) return false;
    const fresh: Failure[] = [];
    for (const failure of log.failures.splice(0)) {
      const signature = failureSignature(failure);
      occurrences[signature] = (occurrences[signature] ?? 0) + 1;
      if (distinct.has(signature)) continue;
      distinct.set(signature, failure);
      fresh.push(failure);
      options.progress?.(`${frames} frames: new failure [${failure.kind}] ${failure.message}`);
    }
    if (fresh.length > 0 && options.corpusDir) {
      log.uninstall(); // the replays used to shrink the input install their own
      savedFiles.push(
        await saveCorpusEntry(options.corpusDir, {
          seed: options.seed,
          profile,
          frames,
          failures: fresh,
          events: ring.list(),
        }),
      );
      log.install();
    }
    return !keepGoing || distinct.size >= 50;
  };
  try {
    while (frames < options.frames && performance.now() < deadline) {
      // Now and then a burst far bigger than the inboxes (4096), so ingress overflow is counted.
      const n = Math.min(schedule.chance(0.004) ? 6000 : burst, options.frames - frames);
      for (let i = 0; i < n; i++) {
        const frame = generator.next();
        kinds[frame.kind] = (kinds[frame.kind] ?? 0) + 1;
        ring.push({ type: "frame", bytes: frame.bytes });
        world.inject(frame.bytes);
      }
      frames += n;
      ring.push({ type: "turn" });
      await turn();
      const ms = clockStep(schedule);
      ring.push({ type: "advance", ms });
      try {
        world.clock.advance(ms);
      } catch (error) {
        log.add(failureFrom("exception", error));
      }
      if (bursts % 8 === 0 && world.clientsInFlight < 8) {
        const peer = schedule.int(PEER_COUNT);
        world.startClient(`10.0.0.${10 + peer}`, schedule.range(1, 65535));
      }
      if (++bursts % 64 === 0) {
        for (const failure of checkBounds(world.target, bounds)) log.add(failure);
        for (const failure of checkConnections(world.target, generator.sessionTuples())) {
          log.add(failure);
        }
        for (const failure of world.checkListeners()) log.add(failure);
        if (bursts % 1024 === 0) await heap();
      }
      if (await collect()) break;
      if (frames >= nextHealth) {
        nextHealth += healthEvery;
        healthChecks++;
        const round = healthChecks;
        for (const failure of await healthCheck(world.helper, world.clock, round, ECHO_PORT)) {
          log.add(failure);
        }
        if (await collect()) break;
      }
      if (frames >= nextProgress && options.progress) {
        nextProgress += progressEvery;
        const seconds = (performance.now() - started) / 1000;
        options.progress(
          `${frames} frames, ${Math.round(frames / seconds)} frames/s, ` +
            `heap ${Math.round(Deno.memoryUsage().heapUsed / 1048576)} MiB, ` +
            `tcp conns ${world.target.stats().tcp.activeConnections}, accepted ${world.accepted}`,
        );
      }
    }
    await turn();
    if (distinct.size === 0 || keepGoing) {
      for (const failure of checkBounds(world.target, bounds)) log.add(failure);
      await heap();
      healthChecks++;
      for (const failure of await healthCheck(world.helper, world.clock, healthChecks, ECHO_PORT)) {
        log.add(failure);
      }
    }
  } catch (error) {
    log.add(failureFrom("exception", error));
  }
  const elapsedMs = performance.now() - started;
  const stats = world.target.stats();
  const simulatedMs = world.clock.now() - startClock;
  const accepted = world.accepted;
  try {
    await world.close();
  } catch (error) {
    log.add(failureFrom("close", error));
  }
  await turn();
  await collect();
  log.uninstall();
  return {
    seed: options.seed,
    frames,
    elapsedMs,
    framesPerSecond: Math.round(frames / (elapsedMs / 1000)),
    simulatedMs,
    failures: [...distinct.values()],
    occurrences,
    kinds,
    healthChecks,
    peakHeapBytes,
    accepted,
    notes: { ...world.notes },
    stats,
    savedFiles,
  };
}

// ------------------------------------------------------------------------------ corpus

/** A saved failing input: the seed and frame count that reproduce it, and the last events. */
export interface CorpusEntry {
  /** Seed of the run (`deno task fuzz --seed <seed> --frames <frames>` reproduces it). */
  seed: number;
  /** Target configuration, when not `default` (pass `--profile` to reproduce). */
  profile?: FuzzProfile;
  /** Frames sent when the failure was seen. */
  frames: number;
  /** What broke. */
  failures: Failure[];
  /** The last events before the failure: `f:<hex>` frame, `a:<ms>` clock step, `t` turn. */
  events: string[];
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >>> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Encodes events for a corpus file. */
export function encodeEvents(events: FuzzEvent[]): string[] {
  return events.map((e) =>
    e.type === "frame" ? `f:${toHex(e.bytes)}` : e.type === "advance" ? `a:${e.ms}` : "t"
  );
}

/** Decodes the events of a corpus file. */
export function decodeEvents(lines: string[]): FuzzEvent[] {
  return lines.map((line): FuzzEvent => {
    if (line.startsWith("f:")) return { type: "frame", bytes: fromHex(line.slice(2)) };
    if (line.startsWith("a:")) return { type: "advance", ms: Number(line.slice(2)) };
    return { type: "turn" };
  });
}

async function saveCorpusEntry(
  dir: string,
  found: {
    seed: number;
    profile: FuzzProfile;
    frames: number;
    failures: Failure[];
    events: FuzzEvent[];
  },
): Promise<string> {
  const { seed, profile, frames, failures } = found;
  await Deno.mkdir(dir, { recursive: true });
  const kept = await minimizeEvents(seed, found.events, profile);
  const entry: CorpusEntry = { seed, frames, failures, events: encodeEvents(kept) };
  if (profile !== "default") entry.profile = profile;
  const suffix = profile === "default" ? "" : `-${profile}`;
  const path = `${dir}/seed-${seed}${suffix}-frame-${frames}.json`;
  await Deno.writeTextFile(path, JSON.stringify(entry, null, 2) + "\n");
  return path;
}

/**
 * Shrinks a failing event list for the corpus: first the shortest tail (1, 16, 256 events) that
 * still fails on replay, then, when one frame alone (followed by a turn) fails, just that frame.
 * Returns `events` unchanged when no shorter list fails.
 */
export async function minimizeEvents(
  seed: number,
  events: FuzzEvent[],
  profile: FuzzProfile = "default",
): Promise<FuzzEvent[]> {
  let kept = events;
  for (const n of [1, 16, 256]) {
    if (n >= events.length) break;
    const tail = events.slice(events.length - n);
    if ((await replayEvents(seed, tail, profile)).length > 0) {
      kept = tail;
      break;
    }
  }
  if (kept.length > 256) return kept;
  for (let i = kept.length - 1; i >= 0; i--) {
    const event = kept[i];
    if (event.type !== "frame") continue;
    const alone: FuzzEvent[] = [event, { type: "turn" }];
    if ((await replayEvents(seed, alone, profile)).length > 0) return alone;
  }
  return kept;
}

/**
 * Plays `events` against a fresh world built from `seed`, then checks the bounds and the health
 * of the target. Returns the failures (empty when everything held).
 */
export async function replayEvents(
  seed: number,
  events: FuzzEvent[],
  profile: FuzzProfile = "default",
  bounds: Bounds = DEFAULT_BOUNDS,
): Promise<Failure[]> {
  const log = new FailureLog();
  const world = new FuzzWorld(seed, log, bounds, profile);
  log.install();
  // Without the generator, the fake hosts still introduce themselves and answer ARP, so the
  // target can reach them as it did in the original run.
  const answers: Uint8Array[] = [];
  world.taps.push((frame) => {
    const answer = arpAnswerFor(frame);
    if (answer) answers.push(answer);
  });
  try {
    for (let i = 0; i < PEER_COUNT; i++) world.inject(arpHelloFrame(i));
    await turn();
    for (const event of events) {
      if (event.type === "frame") world.inject(event.bytes);
      else if (event.type === "turn") {
        await turn();
        for (const answer of answers.splice(0)) world.inject(answer);
      } else world.clock.advance(event.ms);
    }
    await turn();
    for (const failure of checkBounds(world.target, bounds)) log.add(failure);
    if (log.failures.length === 0) {
      for (const failure of await healthCheck(world.helper, world.clock, 1, ECHO_PORT)) {
        log.add(failure);
      }
    }
  } catch (error) {
    log.add(failureFrom("exception", error));
  }
  try {
    await world.close();
  } catch (error) {
    log.add(failureFrom("close", error));
  }
  await turn();
  log.uninstall();
  return [...log.failures];
}

/** Replays one saved corpus file; returns its failures (empty when it now passes). */
export async function replayCorpusFile(path: string): Promise<Failure[]> {
  const entry = JSON.parse(await Deno.readTextFile(path)) as CorpusEntry;
  return replayEvents(entry.seed, decodeEvents(entry.events), entry.profile ?? "default");
}
