/**
 * Rehearsing a lone echo through the stack itself, for a link whose receiver spins while it
 * waits (the TAP's busy polling and spin-ahead windows, `ffi/tap.ts`).
 *
 * Why: on a VM whose host is busy, the code and data of the packet path leave the CPU caches
 * within a millisecond, even while our own thread spins. Timed here, a lone ping's request took
 * 40-60 us from TAP read to TAP write after 200 ms of spinning, against ~10 us when requests
 * came every 0.5 ms. The twin stacks of `stack/cache_warmer.ts` keep the code warm but not this
 * stack's own objects; only a packet through the real path warms both. So while it spins anyway,
 * the link hands up an echo request like the last one the stack answered, every few hundred
 * microseconds, and swallows the reply.
 *
 * This module is the frames and the schedule, without a clock or I/O of its own:
 * 1. {@link EchoRehearsal.noteAnswered}: an echo reply the stack sent (after it was written, so
 *    the real reply never waits for this) is kept.
 * 2. {@link EchoRehearsal.next}: when one is due, the request that reply answered, rebuilt from it
 *    (addresses swapped back, type 8) with a token in place of its first eight data bytes. It is
 *    built while the link spins, not on a real packet's path. Only what the stack answered is
 *    rehearsed, and only when the stack says it would answer it the same way again
 *    ({@link RehearsalHook.ready}), so a rehearsal takes the path a real request took.
 * 3. {@link EchoRehearsal.isRehearsalReply}: the reply to a rehearsal, known by the token (an echo
 *    reply carries the request's data back), for the link to swallow, however late it comes: the
 *    token never reaches the wire.
 *
 * The stack counts a rehearsal as it counts any echo; the link reports each swallowed reply
 * ({@link RehearsalHook.rehearsed}), and the stack takes the echo out of its counters again.
 *
 * Frames are read at fixed offsets rather than through `stack/wire`'s views: this runs on the
 * send path of every short frame, where a view object per frame costs more than the checks.
 * @module
 */

import { type Ipv4Addr, readIpv4 } from "../wire/addr.ts";
import { readU16 } from "../wire/bytes.ts";
import { ETHERNET_ETHERTYPE_OFFSET, ETHERNET_HEADER_BYTES } from "../wire/ethernet.ts";
import { internetChecksum } from "../wire/checksum.ts";

/** Bytes of echo data the token replaces: a rehearsed echo carries at least this much data. */
export const REHEARSAL_TOKEN_BYTES = 8;

/**
 * Longest frame rehearsed: a full standard Ethernet frame, as `ping -s 1472` sends. A rehearsal
 * copies the frame each time (~1 us at this size); jumbo frames are left out.
 */
export const MAX_REHEARSED_FRAME_BYTES = 1514;

/** IPv4 offsets within an Ethernet frame (the stack's replies carry no options). */
const IP = ETHERNET_HEADER_BYTES;
const IP_HEADER_BYTES = 20;
const IP_TOTAL_LENGTH = IP + 2;
const IP_FLAGS_FRAGMENT = IP + 6;
const IP_PROTOCOL = IP + 9;
const IP_SOURCE = IP + 12;
const IP_DESTINATION = IP + 16;
const ICMP = IP + IP_HEADER_BYTES;
/** ICMP header: type, code, checksum, identifier, sequence. */
const ICMP_HEADER_BYTES = 8;
const ECHO_DATA = ICMP + ICMP_HEADER_BYTES;
const PROTOCOL_ICMP = 1;
const ECHO_REQUEST = 8;
const ECHO_REPLY = 0;

/** What a link needs from its stack to rehearse (see `LinkDevice.setRehearsalHook`). */
export interface RehearsalHook {
  /**
   * Whether the stack would now answer an echo request from `source` to `destination` as it
   * answered the last one: the destination still its address, the way back resolved (no ARP
   * request would go out), a rate-limit token to spend.
   */
  ready(source: Ipv4Addr, destination: Ipv4Addr): boolean;
  /** A rehearsal's reply was swallowed: take its echo out of the counters. */
  rehearsed(): void;
}

/** When rehearsals happen (see {@link EchoRehearsal.next}). */
export interface RehearsalTiming {
  /** Quiet time (no frame, no rehearsal) before a rehearsal, ms. */
  intervalMs: number;
  /** How long after the last real echo was answered rehearsals go on, ms. */
  ttlMs: number;
  /** How long a rehearsal may go unanswered before rehearsing stops, ms. */
  answerMs: number;
}

/** Counters of an {@link EchoRehearsal}. */
export interface RehearsalStats {
  /** Rehearsals whose reply was swallowed. */
  rehearsals: number;
  /**
   * Rehearsals not answered within `answerMs`: the stack dropped the echo on its way (its
   * counters may keep a drop), or answers late (swallowed then, and counted as rehearsed too).
   */
  unanswered: number;
}

/**
 * The last answered echo, the token and the schedule of one link's rehearsals; see the module
 * documentation.
 * @example
 * ```ts
 * const rehearsal = new EchoRehearsal(crypto.getRandomValues(new Uint8Array(8)), {
 *   intervalMs: 0.25,
 *   ttlMs: 2000,
 *   answerMs: 100,
 * });
 * // After each frame the stack sent (the link's write), at time `now`:
 * function sent(frame: Uint8Array, now: number): void {
 *   rehearsal.noteAnswered(frame, now); // kept if it was an echo reply
 * }
 * // While the link spins, nothing received since `lastFrameAt`:
 * function spin(into: Uint8Array, now: number, lastFrameAt: number): Uint8Array | undefined {
 *   const length = rehearsal.next(into, 0, now, lastFrameAt, { ready: () => true });
 *   return length > 0 ? into.subarray(0, length) : undefined; // hand this up to the stack
 * }
 * // Before each write: the reply to a rehearsal is swallowed instead.
 * function mustSwallow(frame: Uint8Array): boolean {
 *   return rehearsal.isRehearsalReply(frame);
 * }
 * ```
 */
export class EchoRehearsal {
  /** Counters, updated in place. */
  readonly stats: RehearsalStats = { rehearsals: 0, unanswered: 0 };
  readonly #token: Uint8Array;
  readonly #timing: RehearsalTiming;
  /** The last echo reply the stack sent, until the template is built from it. */
  readonly #answered = new Uint8Array(MAX_REHEARSED_FRAME_BYTES);
  /** Bytes of {@link #answered} waiting to become the template, 0 when none. */
  #answeredBytes = 0;
  /** When the last real echo was answered, ms. */
  #answeredAt = -Infinity;
  readonly #template = new Uint8Array(MAX_REHEARSED_FRAME_BYTES);
  /** Bytes of the template, 0 until built. */
  #templateBytes = 0;
  /** The pinger's address and ours in the template. */
  #source: Ipv4Addr = 0;
  #destination: Ipv4Addr = 0;
  /** When the last rehearsal was handed out, ms. */
  #lastAt = -Infinity;
  /** Whether the last rehearsal still waits for its reply. */
  #pending = false;

  /** Rehearsals marked with `token` (random, {@link REHEARSAL_TOKEN_BYTES} long). */
  constructor(token: Uint8Array, timing: RehearsalTiming) {
    if (token.length !== REHEARSAL_TOKEN_BYTES) {
      throw new RangeError(`Invalid token: ${token.length} bytes, need ${REHEARSAL_TOKEN_BYTES}`);
    }
    this.#token = token.slice();
    this.#timing = timing;
  }

  /** Whether there is an answered echo to rehearse. */
  get armed(): boolean {
    return this.#templateBytes > 0 || this.#answeredBytes > 0;
  }

  /**
   * A frame the stack sent at `now`. Whether it was an echo reply that can be rehearsed (whole,
   * IPv4 without options, at most {@link MAX_REHEARSED_FRAME_BYTES}, with room for the token), now
   * kept for that; the reply to a rehearsal is not (see {@link isRehearsalReply}).
   */
  noteAnswered(frame: Uint8Array, now: number): boolean {
    if (!isEchoReply(frame) || holdsToken(frame, this.#token)) return false;
    // The datagram only: Ethernet padding after it is not part of the request.
    const length = IP + readU16(frame, IP_TOTAL_LENGTH);
    // A plain loop: `set` calls into V8's runtime, whose code is what goes cold (see tap.ts).
    for (let i = 0; i < length; i++) this.#answered[i] = frame[i];
    this.#answeredBytes = length;
    this.#answeredAt = now;
    return true;
  }

  /** Whether `frame`, about to be sent, is the reply to a rehearsal (the link swallows it). */
  isRehearsalReply(frame: Uint8Array): boolean {
    return isEchoReply(frame) && holdsToken(frame, this.#token);
  }

  /** A rehearsal's reply was swallowed. */
  replied(): void {
    this.stats.rehearsals++;
    this.#pending = false;
  }

  /**
   * Writes a rehearsal into `into` at `at` (room needed for the answered frame it was made from, at
   * most {@link MAX_REHEARSED_FRAME_BYTES}) when one is due at `now`, and returns its length; 0
   * when none is. One is due when an echo was
   * answered within `ttlMs`, the last rehearsal was answered, neither a frame (the last at
   * `lastFrameAt`) nor a rehearsal came for `intervalMs`, and `hook.ready` says the stack would
   * answer it as before. A rehearsal unanswered for `answerMs` is counted and ends rehearsing until
   * the stack answers another real echo. (Should its reply still come, after a newer rehearsal went
   * up, it ends that one's wait: two may then be on their way at once, which is harmless.)
   */
  next(
    into: Uint8Array,
    at: number,
    now: number,
    lastFrameAt: number,
    hook: Pick<RehearsalHook, "ready">,
  ): number {
    if (!this.armed) return 0;
    if (this.#pending) {
      if (now - this.#lastAt < this.#timing.answerMs) return 0;
      this.stats.unanswered++;
      this.disarm();
      return 0;
    }
    if (now - this.#answeredAt > this.#timing.ttlMs) {
      // The pinger has gone quiet: nothing to stay warm for.
      this.disarm();
      return 0;
    }
    if (now - Math.max(lastFrameAt, this.#lastAt) < this.#timing.intervalMs) return 0;
    if (this.#answeredBytes > 0) this.#build();
    if (!hook.ready(this.#source, this.#destination)) return 0;
    const length = this.#templateBytes;
    for (let i = 0; i < length; i++) into[at + i] = this.#template[i];
    this.#pending = true;
    this.#lastAt = now;
    return length;
  }

  /** Forgets the answered echo (nothing is rehearsed until the stack answers another). */
  disarm(): void {
    this.#answeredBytes = 0;
    this.#templateBytes = 0;
    this.#pending = false;
  }

  /**
   * Turns the kept reply into the template: the request it answered, back to front (MACs and
   * addresses swapped; the IP checksum covers both addresses, so it stays valid), type 8, the
   * token in its data and the ICMP checksum computed again. Runs while the link spins, off any
   * real packet's path, so `set` is fine here.
   */
  #build(): void {
    const reply = this.#answered;
    const length = this.#answeredBytes;
    const template = this.#template;
    template.set(reply.subarray(0, length));
    template.set(reply.subarray(0, 6), 6);
    template.set(reply.subarray(6, 12), 0);
    template.set(reply.subarray(IP_SOURCE, IP_SOURCE + 4), IP_DESTINATION);
    template.set(reply.subarray(IP_DESTINATION, IP_DESTINATION + 4), IP_SOURCE);
    template[ICMP] = ECHO_REQUEST;
    template.set(this.#token, ECHO_DATA);
    template[ICMP + 2] = 0;
    template[ICMP + 3] = 0;
    const checksum = internetChecksum(template.subarray(ICMP, length));
    template[ICMP + 2] = checksum >>> 8;
    template[ICMP + 3] = checksum & 0xff;
    this.#source = readIpv4(template, IP_SOURCE);
    this.#destination = readIpv4(template, IP_DESTINATION);
    this.#templateBytes = length;
    this.#answeredBytes = 0;
  }
}

/**
 * Whether `frame` is a whole (unfragmented) IPv4 ICMP echo reply without IP options, short enough
 * to rehearse and with room for the token.
 */
function isEchoReply(frame: Uint8Array): boolean {
  if (frame.length > MAX_REHEARSED_FRAME_BYTES) return false;
  if (frame.length < ECHO_DATA + REHEARSAL_TOKEN_BYTES) return false;
  if (frame[ETHERNET_ETHERTYPE_OFFSET] !== 0x08 || frame[ETHERNET_ETHERTYPE_OFFSET + 1] !== 0) {
    return false;
  }
  if (frame[IP] !== 0x45 || frame[IP_PROTOCOL] !== PROTOCOL_ICMP) return false;
  // More-fragments flag or a fragment offset: a piece of a datagram, not a whole echo.
  if (((frame[IP_FLAGS_FRAGMENT] & 0x3f) | frame[IP_FLAGS_FRAGMENT + 1]) !== 0) return false;
  const end = IP + readU16(frame, IP_TOTAL_LENGTH);
  if (end > frame.length || end < ECHO_DATA + REHEARSAL_TOKEN_BYTES) return false;
  return frame[ICMP] === ECHO_REPLY && frame[ICMP + 1] === 0;
}

/** Whether the echo data of `frame` starts with `token`. */
function holdsToken(frame: Uint8Array, token: Uint8Array): boolean {
  for (let i = 0; i < token.length; i++) if (frame[ECHO_DATA + i] !== token[i]) return false;
  return true;
}
