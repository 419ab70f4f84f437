/**
 * A Linux TAP device as a {@link LinkDevice}: Ethernet frames in and out of the kernel through
 * /dev/net/tun (Documentation/networking/tuntap.rst).
 *
 * I/O design (numbers in /work/shared/TAP-FACTS.md):
 * - The fd is non-blocking. Receiving waits for readiness, then reads synchronously until EAGAIN
 *   (after a quiet spell the first frame goes up alone, see `#wakeupLimit`), so a wakeup is paid
 *   per batch, not per frame (~450k-700k frames/s instead of ~20k with one async read per frame).
 *   Three ways to wait, in the order a receiver goes through them after its last frame (see
 *   {@link TapOptions}):
 *   1. busy polling: non-blocking reads between event-loop turns, for `busyPollMicros`;
 *   2. inline waiting: `poll(2)` on the JS thread itself, together with the event loop's own
 *      epoll fds, in short waits that let the event loop turn in between (`inline_wait.ts`), for
 *      `inlineWaitMs`. A frame wakes this thread directly: one wake-up instead of two. For a
 *      second after the last frame the waits sleep in naps of `napMicros`, as a CPU woken from
 *      a short sleep answers sooner;
 *   3. sleeping: a `poll` on Deno's thread pool, which then wakes the JS thread. Free while idle,
 *      but the thread hop adds ~0.25 ms to the first frame of a burst on this kind of VM.
 *   Before each busy-poll slice or inline wait the stack's end-of-turn work runs
 *   (`setTurnHook`), so output corked until the end of the turn never waits behind them.
 * - Writes are synchronous `write(2)` calls (~3 us); a full device queue is a counted drop.
 * - Frames are read into a large arena, each frame a `subarray` of it, without a copy per frame.
 *   A full arena is exchanged for another from an {@link ArenaPool}, which hands it out again
 *   once a later read turn has begun and no retained view points into it
 *   (`stack/arena_pool.ts`). A yielded frame is therefore valid until the next read turn:
 *   whoever keeps one longer copies it or calls `retainBytes` (and `releaseBytes` when done).
 * - `close()` wakes the pending poll through an eventfd and waits for it before closing the TAP
 *   fd, so the poll thread never sees a closed (or reused) fd number.
 *
 * - Offloads (`offload: true`, the header in `vnet_header.ts`): `IFF_VNET_HDR` plus
 *   TUNSETOFFLOAD(CSUM|TSO4|TSO6|USO4|USO6), or without USO on kernels before 6.2. Every frame
 *   then carries a 10-byte `struct virtio_net_hdr` in front. On receive the kernel may hand over
 *   TCP super-frames of up to 64 KB and leaves checksums it would have offloaded unfinished
 *   (NEEDS_CSUM); the header is stripped and such frames are marked `verified` in the batch. A UDP
 *   super-frame (a kernel sender's `UDP_SEGMENT`) is split into its datagrams here, as a NIC would
 *   before the wire (`stack/link/uso.ts`). On send, plain frames get a zeroed header;
 *   {@link TapDevice.writeSegmented} sends a TCP super-frame with GSO fields so the kernel segments
 *   it (one syscall per 64 KB, not per 1.5 KB). When the kernel refuses, the device falls back to
 *   plain frames.
 * @module
 */

import {
  type FrameBatch,
  type LinkDevice,
  type LinkStats,
  newLinkStats,
  type SegmentationRequest,
} from "../stack/link/link.ts";
import { check, Errno, ErrnoError, lastErrno } from "./errno.ts";
import {
  close as closeFd,
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  eventfd,
  ioctl,
  O_CLOEXEC,
  O_NONBLOCK,
  O_RDWR,
  open,
  pollAsync,
  POLLERR,
  POLLFD_BYTES,
  POLLHUP,
  POLLIN,
  POLLNVAL,
  read,
  write,
} from "./libc.ts";
import { segmentUdpFrame } from "../stack/link/uso.ts";
import { ArenaPool } from "../stack/arena_pool.ts";
import {
  EchoRehearsal,
  REHEARSAL_TOKEN_BYTES,
  type RehearsalHook,
} from "../stack/link/echo_rehearsal.ts";
import { InlineWaiter } from "./inline_wait.ts";
import { SPIN_AHEAD_MIN_LEAD_MS, SpinAhead } from "./spin_ahead.ts";
import { startTxThread, transmitThreadEpollFds, type TxThread } from "./tx_thread.ts";
import type { TxRing } from "./tx_ring.ts";
import { getMtu, IFREQ_UNION_OFFSET, ifreqName, newIfreq, setMtu } from "./netif.ts";
import {
  copyBehindPlainHeader,
  enableOffloads,
  SHORT_FRAME_BYTES,
  VNET_F_DATA_VALID,
  VNET_F_NEEDS_CSUM,
  VNET_GSO_UDP_L4,
  VNET_HDR_BYTES,
  writeVnetHeader,
} from "./vnet_header.ts";

/** `TUNSETIFF = _IOW('T', 202, int)`: attach the fd to a new or existing tun/tap device. */
export const TUNSETIFF = 0x400454ca;
/** `ifr_flags` for TUNSETIFF: Ethernet frames (TAP) rather than IP packets (TUN). */
export const IFF_TAP = 0x0002;
/** `ifr_flags` for TUNSETIFF: no 4-byte packet-information prefix on each frame. */
export const IFF_NO_PI = 0x1000;
/** `ifr_flags` for TUNSETIFF: a `struct virtio_net_hdr` precedes each frame. */
export const IFF_VNET_HDR = 0x4000;
/** Largest frame the kernel hands over with TSO: a 64 KB IP datagram plus Ethernet and a tag. */
const MAX_OFFLOAD_FRAME = 65535 + 18;

/** Ethernet header (14) plus one 802.1Q tag (4): frame bytes beyond the MTU we must accept. */
const FRAME_OVERHEAD = 18;
/** Default arena size; large enough that a new one is needed only every few thousand frames. */
const ARENA_BYTES = 256 * 1024;
const DEFAULT_MAX_BATCH = 256;

/** Longest stretch a busy-polling receiver spins before letting the event loop turn, ms. */
const BUSY_POLL_SLICE_MS = 0.25;

/** What a read that found nothing returns (never handed out: empty batches are not yielded). */
const NO_FRAMES: FrameBatch = Object.freeze([]) as unknown as FrameBatch;

/** Longest wait for room in a full transmit ring before the frame is dropped, ms. */
const FULL_RING_WAIT_MS = 100;

/** Quiet time, ms, after which the first frame of a wake-up is handed over alone. */
const LONE_FRAME_AFTER_QUIET_MS = 1;

/** How long after the last real echo was answered rehearsals go on, ms. */
const REHEARSAL_TTL_MS = 2000;
/** How long a rehearsal may go unanswered before it is counted as such and rehearsing stops, ms. */
const REHEARSAL_ANSWER_MS = 100;
/** Fewest microseconds of quiet before a rehearsal: the end of a busy-poll slice is checked. */
export const MIN_REHEARSE_MICROS = BUSY_POLL_SLICE_MS * 1000;
/**
 * The fd a rehearsal's reply is written to: none, so `write(2)` fails at once with EBADF, after
 * the same JS, FFI and libc code as a real write (which is what it keeps warm).
 */
const NO_FD = -1;

/** Resolves after one turn of the event loop (after pending I/O and timers had their go). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Options of {@link openTap}. */
export interface TapOptions {
  /**
   * Interface name, 1-15 bytes. A name containing `%d` lets the kernel pick a free number
   * (`gonet%d` gives `gonet0`, `gonet1`, ...); {@link TapDevice.name} holds the result.
   */
  name: string;
  /**
   * MTU in bytes. When given, the kernel side is set to it so both ends agree; when omitted, the
   * device takes the kernel's current MTU (1500 for a new TAP).
   */
  mtu?: number;
  /** Most frames yielded per batch; the rest wait for the next round. Default 256. */
  maxBatch?: number;
  /**
   * Ask for checksum and segmentation offloads (vnet header). Falls back to plain frames when the
   * kernel refuses; {@link TapDevice.offload} tells which one is in force. Default false.
   */
  offload?: boolean;
  /**
   * Busy polling, in microseconds (like Linux's `net.core.busy_poll`): after the last frame, keep
   * checking the TAP between turns of the event loop for this long before sleeping in `poll`.
   * A sleeping receiver pays a thread wake-up per burst and finds its caches cold; a polling one
   * answers a lone request in about a quarter of the time, at the price of one busy core.
   * Default 0 (always sleep when idle).
   */
  busyPollMicros?: number;
  /**
   * Inline waiting, in milliseconds: after the last frame (and any busy polling), wait for the
   * next one in `poll(2)` on the JS thread itself rather than on Deno's thread pool, for this
   * long, then sleep on the thread pool. The frame then wakes this thread directly, which saves
   * a thread hop (~0.25 ms per burst here). Other work on the thread may start a little late:
   * I/O rarely and by well under a millisecond, timers and other macrotasks by up to a quarter
   * of the quiet time before them and at most 4 ms (see `inline_wait.ts` for the rules). Costs
   * under 1% of a core while waiting. Use it for one device per thread.
   * Default 0 (sleep on the thread pool at once).
   */
  inlineWaitMs?: number;
  /**
   * Napping, in microseconds: for a second after the last frame, an inline wait sleeps in naps
   * of at most this long instead of in one piece. A CPU woken from a short sleep answers sooner
   * (a lone ping's round trip about a fifth shorter here, see rule 4 of `inline_wait.ts`); each
   * nap costs a wake-up, ~10% of a core in all at 100 us. Default 0 (one sleep per wait).
   */
  napMicros?: number;
  /**
   * Spinning ahead, in microseconds: when bursts of frames arrive at a steady period (a `ping`),
   * busy-poll for a window around the next expected arrival instead of sleeping through it; this
   * is the window's longest lead (its lag is four times as long). Needs inline waiting, and
   * predicts periods up to the inline-wait window (see `spin_ahead.ts`). A lone ping's round trip
   * up to half as long on a VM, for about 1% of a core while the traffic keeps its period.
   * Default 0 (off).
   */
  spinAheadMicros?: number;
  /**
   * Rehearsing, in microseconds: while the receiver spins (busy polling, spin-ahead windows) and
   * no frame came for this long (checked at the end of each 0.25 ms slice of it), hand up a copy
   * of the last echo request the stack answered and swallow its reply, to keep the path's code and
   * data in the caches (see `stack/link/echo_rehearsal.ts`). Only with a stack that registered a
   * rehearsal hook, which says when it would answer the same way and takes rehearsals out of its
   * counters; only for 2 s after a real echo was answered. A lone ping's round trip in probes
   * here: 0.075-0.087 ms instead of 0.103-0.131, at no cost beyond the spinning. Default 0 (off).
   */
  rehearseMicros?: number;
  /**
   * Write frames from a thread of their own (see `tx_thread.ts`) while the stack is busy. On a
   * TAP the kernel handles a frame inside our `write(2)` (a kernel TCP peer takes our ACK and
   * sends its next segments there), which under load is most of this thread's time; the
   * transmit thread moves it to another core. The first frame of a turn still goes out inline
   * when nothing is queued, so a lone request is answered without a thread hop. Default false.
   */
  txThread?: boolean;
  /**
   * Fill receive arenas with 0xEE before reusing them, so a frame kept past its turn without
   * `retainBytes` shows up as garbage (for tests). Default false.
   */
  poisonReusedArenas?: boolean;
}

/** Counters of a TAP device: the {@link LinkStats} plus receive-side details. */
export interface TapStats extends LinkStats {
  /** Frames read but dropped because they were longer than MTU + 18 bytes (truncated). */
  rxDrops: number;
  /** Poll wakeups; `rxFrames / (rxWakeups + rxBusyPolls)` is the mean batch size. */
  rxWakeups: number;
  /** UDP GSO super-frames split into datagrams (USO, see `stack/link/uso.ts`). */
  rxUdpSuperFrames: number;
  /** Batches found by busy polling (see {@link TapOptions.busyPollMicros}) instead of a wakeup. */
  rxBusyPolls: number;
  /** Batches found by an inline wait (see {@link TapOptions.inlineWaitMs}). */
  rxInlineWakeups: number;
  /** Inline waits ended early because the event loop had I/O to handle. */
  rxInlineLoopWakeups: number;
  /** Spin-ahead windows opened (see {@link TapOptions.spinAheadMicros}). */
  rxSpinAheadWindows: number;
  /** Bursts that came inside a spin-ahead window (most are found spinning, a few end a wait). */
  rxSpinAheadHits: number;
  /** Rehearsed echoes whose reply was swallowed (see {@link TapOptions.rehearseMicros}). */
  rxRehearsals: number;
  /**
   * Rehearsed echoes the stack did not answer within 0.1 s; each stops rehearsing until it answers
   * a real echo (see `RehearsalStats.unanswered`).
   */
  rxRehearsalsUnanswered: number;
  /**
   * Frames handed to the transmit thread (see {@link TapOptions.txThread}), failed ones included;
   * `txFrames` counts those it wrote.
   */
  txQueued: number;
  /** Receive arenas allocated (see `stack/arena_pool.ts`). */
  rxArenasAllocated: number;
  /** Receive arenas used again. */
  rxArenasReused: number;
  /** Receive arenas given up to the garbage collector while views still pointed into them. */
  rxArenasForgotten: number;
  /** Free receive arenas given back to the garbage collector when the receiver went to sleep. */
  rxArenasTrimmed: number;
}

/**
 * An open TAP device. The kernel-side interface exists while the device is open (unless it was
 * made persistent beforehand, e.g. with `ip tuntap add`) and disappears on {@link close}.
 *
 * Frames yielded by `receive()` are views into arenas that are used again: a frame is valid until
 * the next read turn, so a consumer that keeps one longer must `slice()` it or `retainBytes` it.
 */
export interface TapDevice extends LinkDevice, AsyncDisposable {
  /** The kernel interface name, e.g. `gonet0`. */
  readonly name: string;
  /** The TAP file descriptor, or -1 once closed. */
  readonly fd: number;
  /** Whether frames carry a vnet header with checksum/segmentation offloads. */
  readonly offload: boolean;
  /** Counters, updated in place. */
  readonly stats: TapStats;
  /**
   * Received frames in batches, one per wakeup. Ends when the device is closed; throws an
   * {@link ErrnoError} if the device fails (e.g. `EBADFD` when the interface was deleted).
   */
  receive(): AsyncGenerator<Uint8Array[], void, undefined>;
  /** Runs `hook` before each busy-poll slice and each inline wait (see `LinkDevice`). */
  setTurnHook(hook: () => void): void;
  /** Rehearses while spinning, as `hook` allows (see `LinkDevice`). */
  setRehearsalHook(hook: RehearsalHook): void;
}

/**
 * Opens (creating if needed) the TAP interface `options.name` in the calling thread's network
 * namespace: /dev/net/tun with O_RDWR|O_NONBLOCK|O_CLOEXEC, then TUNSETIFF with
 * IFF_TAP|IFF_NO_PI. Needs CAP_NET_ADMIN. The interface starts down and without addresses; see
 * `ffi/netif.ts` to configure it.
 * @throws {RangeError} for an invalid name, MTU or batch size.
 * @throws {ErrnoError} e.g. `TUNSETIFF gonet0 failed: EPERM (Operation not permitted)`, `EBUSY`
 *   when another fd holds the device, `EINVAL` when the name is taken by a non-TAP interface.
 * @example
 * ```ts
 * await using tap = openTap({ name: "gonet0", mtu: 1500 });
 * tap.write(frame);
 * for await (const frames of tap.receive()) console.log(frames.length);
 * ```
 */
export function openTap(options: TapOptions): TapDevice {
  const ifr = newIfreq(options.name);
  if (options.mtu !== undefined && !(Number.isInteger(options.mtu) && options.mtu >= 68)) {
    throw new RangeError(`Invalid MTU ${options.mtu}: must be an integer >= 68`);
  }
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  if (!(Number.isInteger(maxBatch) && maxBatch >= 1)) {
    throw new RangeError(`Invalid maxBatch ${maxBatch}: must be an integer >= 1`);
  }
  const busyPollMicros = options.busyPollMicros ?? 0;
  if (!(busyPollMicros >= 0)) {
    throw new RangeError(`Invalid busyPollMicros ${busyPollMicros}: must be >= 0`);
  }
  const inlineWaitMs = options.inlineWaitMs ?? 0;
  if (!(inlineWaitMs >= 0)) {
    throw new RangeError(`Invalid inlineWaitMs ${inlineWaitMs}: must be >= 0`);
  }
  const napMicros = options.napMicros ?? 0;
  if (!(napMicros >= 0)) {
    throw new RangeError(`Invalid napMicros ${napMicros}: must be >= 0`);
  }
  const rehearseMicros = options.rehearseMicros ?? 0;
  if (!(rehearseMicros === 0 || rehearseMicros >= MIN_REHEARSE_MICROS)) {
    throw new RangeError(
      `Invalid rehearseMicros ${rehearseMicros}: must be 0 or >= ${MIN_REHEARSE_MICROS}`,
    );
  }
  const spinAheadMicros = options.spinAheadMicros ?? 0;
  if (!(spinAheadMicros === 0 || spinAheadMicros >= SPIN_AHEAD_MIN_LEAD_MS * 1000)) {
    throw new RangeError(
      `Invalid spinAheadMicros ${spinAheadMicros}: must be 0 or >= ${
        SPIN_AHEAD_MIN_LEAD_MS * 1000
      }`,
    );
  }
  const fd = check(open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC), "open /dev/net/tun");
  let wakeFd = -1;
  try {
    const flags = IFF_TAP | IFF_NO_PI | (options.offload ? IFF_VNET_HDR : 0);
    new DataView(ifr.buffer).setUint16(IFREQ_UNION_OFFSET, flags, true);
    check(ioctl(fd, TUNSETIFF, ifr), `TUNSETIFF ${options.name}`);
    const name = ifreqName(ifr);
    const offload = options.offload === true && enableOffloads(fd);
    if (options.mtu !== undefined) setMtu(name, options.mtu);
    const mtu = options.mtu ?? getMtu(name);
    wakeFd = check(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), "eventfd");
    return new Tap(
      fd,
      wakeFd,
      name,
      mtu,
      maxBatch,
      offload,
      busyPollMicros / 1000,
      inlineWaitMs,
      napMicros / 1000,
      inlineWaitMs > 0 && spinAheadMicros > 0
        ? new SpinAhead(spinAheadMicros / 1000, inlineWaitMs)
        : undefined,
      rehearseMicros / 1000,
      options.txThread === true,
      options.poisonReusedArenas === true,
    );
  } catch (err) {
    // Closing the fd also removes a TAP that TUNSETIFF just created.
    closeFd(fd);
    if (wakeFd >= 0) closeFd(wakeFd);
    throw err;
  }
}

class Tap implements TapDevice {
  readonly name: string;
  readonly mtu: number;
  readonly #stats: TapStats = {
    ...newLinkStats(),
    rxDrops: 0,
    rxWakeups: 0,
    rxBusyPolls: 0,
    rxInlineWakeups: 0,
    rxInlineLoopWakeups: 0,
    rxSpinAheadWindows: 0,
    rxSpinAheadHits: 0,
    rxRehearsals: 0,
    rxRehearsalsUnanswered: 0,
    rxUdpSuperFrames: 0,
    txQueued: 0,
    rxArenasAllocated: 0,
    rxArenasReused: 0,
    rxArenasForgotten: 0,
    rxArenasTrimmed: 0,
  };
  readonly offload: boolean;
  readonly maxSegmentedFrameBytes: number;
  readonly #fd: number;
  /** Bytes of vnet header in front of every frame (0 or 10). */
  readonly #headerBytes: number;
  /** With a vnet header: frame plus header for writing, one copy per write. */
  readonly #txBuffer: Uint8Array | undefined;
  readonly #wakeFd: number;
  readonly #maxBatch: number;
  /** How long to keep polling after the last frame before sleeping, ms (0: never poll). */
  readonly #busyPollMs: number;
  /** How long to wait inline (after busy polling) before sleeping on the thread pool, ms. */
  readonly #inlineWaitMs: number;
  /** Largest frame accepted: MTU + Ethernet header + one VLAN tag. */
  readonly #maxFrame: number;
  /** Bytes offered to one read: one more than {@link #maxFrame}, to detect truncation. */
  readonly #readBytes: number;
  readonly #arenas: ArenaPool;
  /** Two `struct pollfd`: the TAP, then the wakeup eventfd. Owned by the poll while pending. */
  readonly #pollFds = new Uint8Array(2 * POLLFD_BYTES);
  readonly #pollView = new DataView(this.#pollFds.buffer);
  /** Inline waiting on the TAP fd (see {@link TapOptions.inlineWaitMs}). */
  readonly #inline: InlineWaiter;
  /** Spinning ahead of periodic bursts (see {@link TapOptions.spinAheadMicros}). */
  readonly #spinAhead: SpinAhead | undefined;
  /** Rehearsing while spinning (see {@link TapOptions.rehearseMicros}); off without a hook. */
  readonly #rehearsal: EchoRehearsal | undefined;
  /** The stack's side of rehearsing. */
  #rehearsalHook: RehearsalHook | undefined;
  #arena: Uint8Array;
  #offset = 0;
  /**
   * Where the next read lands: the arena from {@link #offset}, {@link #readBytes} long; made by
   * the read that needs it.
   */
  #readView: Uint8Array | undefined;
  #closed = false;
  /** When a burst began that the spin-ahead predictor has yet to hear of, or -1. */
  #burstAt = -1;
  #closing: Promise<void> | undefined;
  #receiving = false;
  #pendingPoll: Promise<number> | undefined;
  /** The stack's end-of-turn work, run before each busy-poll slice or inline wait. */
  #turnHook: (() => void) | undefined;
  /** The transmit thread (see {@link TapOptions.txThread}). */
  readonly #tx: TxThread | undefined;
  /** Frames written since the turn began; only the first may skip the transmit thread. */
  #turnWrites = 0;
  /** When the last frame was written or queued, ms (a quiet spell also begins a turn). */
  #lastWriteAt = -Infinity;
  /** The transmit thread's failed writes (and their bytes) already counted in the stats. */
  #txFailuresSeen = 0;
  #txFailedBytesSeen = 0;

  constructor(
    fd: number,
    wakeFd: number,
    name: string,
    mtu: number,
    maxBatch: number,
    offload: boolean,
    busyPollMs: number,
    inlineWaitMs: number,
    napMs: number,
    spinAhead: SpinAhead | undefined,
    rehearseMs: number,
    txThread: boolean,
    poisonReusedArenas: boolean,
  ) {
    this.#spinAhead = spinAhead;
    this.#rehearsal = rehearseMs > 0
      ? new EchoRehearsal(crypto.getRandomValues(new Uint8Array(REHEARSAL_TOKEN_BYTES)), {
        intervalMs: rehearseMs,
        ttlMs: REHEARSAL_TTL_MS,
        answerMs: REHEARSAL_ANSWER_MS,
      })
      : undefined;
    this.#fd = fd;
    this.#wakeFd = wakeFd;
    this.name = name;
    this.mtu = mtu;
    this.offload = offload;
    this.#maxBatch = maxBatch;
    this.#busyPollMs = busyPollMs;
    this.#inlineWaitMs = inlineWaitMs;
    this.#inline = new InlineWaiter(fd, transmitThreadEpollFds, napMs);
    // Once the thread runs, its epoll fds are known: the inline waiter must look again.
    this.#tx = txThread
      ? startTxThread(fd, { onRunning: () => this.#inline.refresh() })
      : undefined;
    this.#headerBytes = offload ? VNET_HDR_BYTES : 0;
    this.#maxFrame = offload
      ? Math.max(MAX_OFFLOAD_FRAME, mtu + FRAME_OVERHEAD)
      : mtu + FRAME_OVERHEAD;
    this.maxSegmentedFrameBytes = offload ? 65535 + 14 : 0;
    this.#txBuffer = offload ? new Uint8Array(VNET_HDR_BYTES + this.#maxFrame) : undefined;
    this.#readBytes = this.#headerBytes + this.#maxFrame + 1;
    this.#arenas = new ArenaPool(
      Math.max(offload ? 4 * ARENA_BYTES : ARENA_BYTES, 4 * this.#readBytes),
      { poison: poisonReusedArenas },
    );
    this.#arena = this.#arenas.take();
    this.#readView = this.#arena.subarray(0, this.#readBytes);
    this.#pollView.setInt32(0, fd, true);
    this.#pollView.setInt16(4, POLLIN, true);
    this.#pollView.setInt32(POLLFD_BYTES, wakeFd, true);
    this.#pollView.setInt16(POLLFD_BYTES + 4, POLLIN, true);
  }

  get fd(): number {
    return this.#closed ? -1 : this.#fd;
  }

  get stats(): TapStats {
    if (this.#tx !== undefined) this.#countTxFailures(this.#tx.ring);
    const arenas = this.#arenas.stats;
    this.#stats.rxArenasAllocated = arenas.allocated;
    this.#stats.rxArenasReused = arenas.reused;
    this.#stats.rxArenasForgotten = arenas.forgotten;
    this.#stats.rxArenasTrimmed = arenas.trimmed;
    if (this.#spinAhead !== undefined) {
      this.#stats.rxSpinAheadWindows = this.#spinAhead.stats.windows;
      this.#stats.rxSpinAheadHits = this.#spinAhead.stats.hits;
    }
    if (this.#rehearsal !== undefined) {
      this.#stats.rxRehearsals = this.#rehearsal.stats.rehearsals;
      this.#stats.rxRehearsalsUnanswered = this.#rehearsal.stats.unanswered;
    }
    return this.#stats;
  }

  async *receive(): AsyncGenerator<FrameBatch, void, undefined> {
    if (this.#receiving) throw new Error(`Cannot receive: ${this.name} already has a receiver`);
    this.#receiving = true;
    let lastFrameAt = -Infinity;
    try {
      while (!this.#closed) {
        const now = performance.now();
        const busyUntil = Math.max(
          lastFrameAt + this.#busyPollMs,
          this.#spinAhead?.spinUntil(now) ?? -Infinity,
        );
        if (now < busyUntil) {
          // Busy polling: one macrotask turn lets the dealers, timers and other I/O run, then
          // look again for a short slice, never letting this thread (and its caches) go to sleep.
          // The slice spins without allocating: a heap churning through promises would evict the
          // stack's code and data from the caches as surely as sleeping does.
          await nextTurn();
          if (this.#closed) return;
          this.#noteBurst();
          // Deferred work first: the slice below holds the thread for up to its length.
          this.#beginTurn();
          // Spinning ahead of a burst after quiet, its first frame goes up alone (see below).
          const limit = this.#wakeupLimit(lastFrameAt);
          let frames = this.#drain(limit);
          const sliceEnd = Math.min(performance.now() + BUSY_POLL_SLICE_MS, busyUntil);
          while (frames.length === 0 && performance.now() < sliceEnd) frames = this.#drain(limit);
          // Nothing came: maybe a rehearsal, which goes up the way real frames do, to warm it.
          const isRehearsal = frames.length === 0;
          if (isRehearsal) frames = this.#rehearsalBatch(lastFrameAt) ?? NO_FRAMES;
          if (frames.length > 0) {
            // A rehearsal runs the same code, and changes nothing: no count, no burst, no frame.
            if (!isRehearsal) this.#stats.rxBusyPolls++;
            const foundAt = this.#frameFound(lastFrameAt, isRehearsal);
            if (!isRehearsal) lastFrameAt = foundAt;
            this.#turnWrites = 0;
            yield frames;
          }
          continue;
        }
        if (performance.now() - lastFrameAt < this.#inlineWaitMs) {
          // Let the dealers, timers and other I/O run first: the wait below blocks this thread.
          const turnStartedAt = performance.now();
          await nextTurn();
          if (this.#closed) return;
          this.#noteBurst();
          this.#beginTurn();
          const result = this.#inline.wait(
            turnStartedAt,
            lastFrameAt,
            this.#spinAhead?.nextWindowAt(turnStartedAt),
          );
          if (result === "event-loop") this.#stats.rxInlineLoopWakeups++;
          if (result !== "fd") continue;
          const frames = this.#drain(this.#wakeupLimit(lastFrameAt));
          if (frames.length > 0) {
            this.#stats.rxInlineWakeups++;
            lastFrameAt = this.#frameFound(lastFrameAt);
            this.#turnWrites = 0;
            yield frames;
          } else {
            this.#checkErrorCondition(this.#inline.fdEvents);
          }
          continue;
        }
        // Quiet for the whole inline-wait window: free receive arenas go back to the GC, so a
        // burst long past does not keep its memory (up to 16 MiB) while the stack idles.
        if (this.#inlineWaitMs > 0 && lastFrameAt > -Infinity) this.#arenas.trim();
        this.#pendingPoll = pollAsync(this.#pollFds, 2, -1);
        const ready = await this.#pendingPoll;
        this.#pendingPoll = undefined;
        if (this.#closed) return;
        // poll only fails with EINTR/ENOMEM here (both fds stay open while it runs): retry.
        if (ready < 0) continue;
        this.#stats.rxWakeups++;
        // After a sleep the event loop's fds may have changed (Workers come and go).
        this.#inline.refresh();
        const frames = this.#drain(this.#wakeupLimit(lastFrameAt));
        if (frames.length > 0) {
          if (this.#busyPollMs > 0 || this.#inlineWaitMs > 0) {
            lastFrameAt = this.#frameFound(lastFrameAt);
          }
          this.#turnWrites = 0;
          yield frames;
        } else {
          this.#checkErrorCondition(this.#pollView.getInt16(6, true));
        }
      }
    } finally {
      this.#receiving = false;
    }
  }

  /**
   * Notes frames found now, the previous ones at `lastFrameAt`: the start of a burst after quiet
   * is kept for the spin-ahead predictor ({@link #noteBurst}). Returns the time, the new
   * `lastFrameAt`. A rehearsal (`isRehearsal`) runs the same code, to keep it warm, but is no
   * burst.
   */
  #frameFound(lastFrameAt: number, isRehearsal = false): number {
    const now = performance.now();
    if (
      !isRehearsal && this.#spinAhead !== undefined &&
      now - lastFrameAt > LONE_FRAME_AFTER_QUIET_MS
    ) {
      this.#burstAt = now;
    }
    return now;
  }

  /**
   * Gives the predictor the burst {@link #frameFound} kept, once the turn that handled it is over:
   * run before the frame is answered, its code (cold after the quiet spell before the burst) cost
   * a lone ping's round trip ~20 us here.
   */
  #noteBurst(): void {
    if (this.#burstAt < 0) return;
    this.#spinAhead!.burstStarted(this.#burstAt);
    this.#burstAt = -1;
  }

  /**
   * How many frames a read after a wake-up takes. The first frame after a quiet spell goes up
   * alone: looking for a second one costs a read that fails and an errno call (~20 us when cold)
   * before the first is handled, and the next turn's busy poll or wait finds the rest at once.
   * Without either, the rest would cost another trip through the thread pool: take them all.
   */
  #wakeupLimit(lastFrameAt: number): number {
    if (this.#busyPollMs === 0 && this.#inlineWaitMs === 0) return this.#maxBatch;
    return performance.now() - lastFrameAt > LONE_FRAME_AFTER_QUIET_MS ? 1 : this.#maxBatch;
  }

  /**
   * A batch holding one rehearsal when one is due (see {@link EchoRehearsal.next}). The frame lies
   * in the arena like a read one, so the stack's path handles it from the same memory, and is not
   * counted as received.
   */
  #rehearsalBatch(lastFrameAt: number): FrameBatch | undefined {
    const rehearsal = this.#rehearsal;
    const hook = this.#rehearsalHook;
    if (rehearsal === undefined || hook === undefined) return undefined;
    const start = this.#offset + this.#headerBytes;
    const length = rehearsal.next(this.#arena, start, performance.now(), lastFrameAt, hook);
    if (length === 0) return undefined;
    const frame = this.#arena.subarray(start, start + length);
    this.#advance(this.#headerBytes + length);
    const batch: FrameBatch = [frame];
    if (this.#headerBytes > 0) batch.verified = [0];
    return batch;
  }

  /** Throws when the TAP's `revents` report an error condition and there was nothing to read. */
  #checkErrorCondition(revents: number): void {
    // Without this, a TAP stuck in an error state would make every poll return at once.
    if ((revents & (POLLERR | POLLHUP | POLLNVAL)) !== 0) {
      throw new Error(`Cannot receive: ${this.name} reported an error condition`);
    }
  }

  /**
   * Reads every ready frame, up to `limit` (a USO super-frame counts as its datagrams and may
   * overshoot it), without blocking. Finding nothing allocates nothing, so busy polling does not
   * churn the heap (and with it the CPU caches).
   */
  #drain(limit: number = this.#maxBatch): FrameBatch {
    // Every read comes a macrotask after the last batch was handed up: that batch has been dealt
    // with, and arenas it left are free unless something retained a view.
    this.#arenas.beginTurn();
    let frames: FrameBatch | undefined;
    // Checksum flags, one per frame, when the vnet header carries them.
    let verified: number[] | undefined;
    const header = this.#headerBytes;
    let count = 0;
    while (count < limit) {
      const start = this.#offset;
      const view = this.#readView ??= this.#arena.subarray(
        this.#offset,
        this.#offset + this.#readBytes,
      );
      const n = read(this.#fd, view);
      if (n < 0) {
        const errno = lastErrno();
        if (errno === Errno.EAGAIN) break;
        if (errno === Errno.EINTR) continue;
        throw new ErrnoError(`read ${this.name}`, errno);
      }
      if (n === 0) break;
      if (n - header > this.#maxFrame) {
        // tun silently truncates a frame to the read size, so a read that fills the extra byte
        // was a longer frame (the kernel MTU was raised behind our back): drop it, counted.
        this.#stats.rxDrops++;
        continue;
      }
      frames ??= [];
      // #advance may move to a new arena: keep this one for the vnet header's fields.
      const arena = this.#arena;
      const frame = arena.subarray(start + header, start + n);
      this.#stats.rxFrames++;
      this.#stats.rxBytes += n - header;
      this.#advance(n);
      if (header > 0 && arena[start + 1] === VNET_GSO_UDP_L4) {
        // One frame carrying many UDP datagrams (USO): hand them over one by one, each with a
        // complete checksum, so the batch may grow past maxBatch by one super-frame's worth.
        const gsoSize = arena[start + 4] | (arena[start + 5] << 8);
        const datagrams = segmentUdpFrame(frame, gsoSize);
        if (datagrams === undefined) {
          this.#stats.rxDrops++;
          continue;
        }
        this.#stats.rxUdpSuperFrames++;
        for (const datagram of datagrams) {
          (verified ??= []).push(1);
          frames.push(datagram);
          count++;
        }
        continue;
      }
      if (header > 0) {
        (verified ??= []).push(
          (arena[start] & (VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID)) !== 0 ? 1 : 0,
        );
      }
      frames.push(frame);
      count++;
    }
    if (frames === undefined) return NO_FRAMES;
    if (verified !== undefined) frames.verified = verified;
    return frames;
  }

  /** Moves the read position past `n` bytes, to a new arena when this one is nearly full. */
  #advance(n: number): void {
    this.#offset += n;
    if (this.#arena.length - this.#offset < this.#readBytes) {
      // This turn's frames still point into it: the pool keeps it until a later turn at least.
      this.#arena = this.#arenas.exchange(this.#arena);
      this.#offset = 0;
    }
    // Made by the next read, not here: after a lone frame that read comes once the frame is
    // answered, and a subarray costs microseconds on a cold path.
    this.#readView = undefined;
  }

  write(frame: Uint8Array): boolean {
    return this.#send(frame, undefined);
  }

  writeSegmented(frame: Uint8Array, request: SegmentationRequest): boolean {
    // Only a vnet header can carry the request.
    return this.#txBuffer === undefined ? this.#drop() : this.#send(frame, request);
  }

  /** Sends `frame`, or swallows it when it answers a rehearsal; keeps echo replies to rehearse. */
  #send(frame: Uint8Array, request: SegmentationRequest | undefined): boolean {
    const rehearsal = this.#rehearsal;
    const hook = this.#rehearsalHook;
    if (rehearsal === undefined || hook === undefined) {
      return this.#sendFrame(frame, request, this.#fd);
    }
    // Every frame, armed or not: a rehearsal's reply that comes late is swallowed all the same.
    if (rehearsal.isRehearsalReply(frame)) {
      // The same way out as a real reply, to the end: only the fd differs.
      this.#sendFrame(frame, request, NO_FD);
      rehearsal.replied();
      hook.rehearsed();
      return true;
    }
    const sent = this.#sendFrame(frame, request, this.#fd);
    // After the write (or the hand-over to the transmit thread), so a real reply never waits.
    if (sent) rehearsal.noteAnswered(frame, performance.now());
    return sent;
  }

  /**
   * Writes `frame` to `fd` (the TAP's, or {@link NO_FD} for a rehearsal's reply) or queues it for
   * the transmit thread, behind its vnet header if any.
   */
  #sendFrame(frame: Uint8Array, request: SegmentationRequest | undefined, fd: number): boolean {
    if (fd !== NO_FD && this.#tx !== undefined && !this.#mayWriteInline()) {
      return this.#queue(frame, request);
    }
    const tx = this.#txBuffer;
    if (tx === undefined) return this.#writeRaw(frame, frame.length, frame.length, fd);
    if (frame.length > this.#maxFrame) return this.#drop();
    if (request === undefined && frame.length <= SHORT_FRAME_BYTES) {
      copyBehindPlainHeader(tx, frame);
    } else {
      writeVnetHeader(tx, 0, request);
      tx.set(frame, VNET_HDR_BYTES);
    }
    return this.#writeRaw(tx, VNET_HDR_BYTES + frame.length, frame.length, fd);
  }

  /** The end-of-turn hook runs: the stack starts a new turn, and so do its writes. */
  #beginTurn(): void {
    this.#turnWrites = 0;
    this.#turnHook?.();
  }

  /**
   * Whether this frame may skip the transmit thread: only with nothing queued or being written
   * (frames must leave in order), and only as the first of its turn or after a quiet spell (one
   * frame is cheaper to write here than to hand over; a burst is not).
   */
  #mayWriteInline(): boolean {
    const now = performance.now();
    const first = this.#turnWrites++ === 0 || now - this.#lastWriteAt > LONE_FRAME_AFTER_QUIET_MS;
    this.#lastWriteAt = now;
    return first && this.#tx!.ring.drained;
  }

  /**
   * Queues `frame` (with the vnet header that `request` asks for, if any) for the transmit
   * thread. A ring still full after {@link FULL_RING_WAIT_MS} drops the frame.
   */
  #queue(frame: Uint8Array, request: SegmentationRequest | undefined): boolean {
    if (this.#closed || frame.length > this.#maxFrame) return this.#drop();
    const ring = this.#tx!.ring;
    this.#countTxFailures(ring);
    const header = this.#headerBytes;
    // A full ring holds this thread until there is room, as the write itself would have.
    const at = ring.reserveWaiting(header + frame.length, FULL_RING_WAIT_MS);
    if (at < 0) return this.#drop();
    const data = ring.data;
    if (header > 0) writeVnetHeader(data, at, request);
    data.set(frame, at + header);
    ring.publish();
    this.#stats.txQueued++;
    this.#stats.txFrames++;
    this.#stats.txBytes += frame.length;
    return true;
  }

  /** Moves frames the transmit thread failed to write from the sent to the dropped counts. */
  #countTxFailures(ring: TxRing): void {
    const failures = ring.failed;
    if (failures === this.#txFailuresSeen) return;
    const frames = failures - this.#txFailuresSeen;
    // The thread counts whole records, vnet headers included, and adds the bytes first: they
    // may run one frame ahead of the count, which the next call evens out.
    const failedBytes = ring.failedBytes;
    this.#stats.txFrames -= frames;
    this.#stats.txBytes -= failedBytes - this.#txFailedBytesSeen - frames * this.#headerBytes;
    this.#stats.txDrops += frames;
    this.#txFailuresSeen = failures;
    this.#txFailedBytesSeen = failedBytes;
  }

  #drop(): boolean {
    this.#stats.txDrops++;
    return false;
  }

  /**
   * Writes the first `length` bytes of `bytes`, which hold a frame of `frameBytes`, to `fd` (see
   * {@link #sendFrame}).
   */
  #writeRaw(bytes: Uint8Array, length: number, frameBytes: number, fd: number): boolean {
    // A short or failed write (EAGAIN: device queue full; EIO/EINVAL: bad frame) is a drop.
    const written = this.#closed ? -1 : write(fd, bytes, length);
    // A rehearsal's reply: written nowhere, and not counted.
    if (fd === NO_FD) return true;
    if (written === length) {
      this.#stats.txFrames++;
      this.#stats.txBytes += frameBytes;
      return true;
    }
    this.#stats.txDrops++;
    return false;
  }

  setTurnHook(hook: () => void): void {
    this.#turnHook = hook;
  }

  setRehearsalHook(hook: RehearsalHook): void {
    this.#rehearsalHook = hook;
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    const pending = this.#pendingPoll;
    if (pending !== undefined) {
      // Adding 1 to the eventfd counter makes it readable, which ends the poll.
      const one = new Uint8Array(8);
      one[0] = 1;
      write(this.#wakeFd, one);
      await pending;
    }
    // The thread must be done with the fd before it is closed (and its number reused).
    if (this.#tx !== undefined) {
      await this.#tx.close();
      this.#countTxFailures(this.#tx.ring);
    }
    closeFd(this.#fd);
    closeFd(this.#wakeFd);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
