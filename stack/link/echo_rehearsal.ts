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
 * This module is the frame logic, without clocks or I/O:
 * 1. {@link EchoRehearsal.noteAnswered}: an echo reply the stack sent (after it was written, so
 *    the real reply never waits for this) is kept.
 * 2. {@link EchoRehearsal.writeRehearsal}: the request it answered, rebuilt from it (addresses
 *    swapped back, type 8), with a token in place of its first eight data bytes. It is built
 *    while the link spins, not on a real packet's path. Only what the stack answered is
 *    rehearsed, so a rehearsal takes the path a real request took.
 * 3. {@link EchoRehearsal.isRehearsalReply}: the reply to a rehearsal, known by the token (an echo
 *    reply carries the request's data back), for the link to swallow.
 *
 * The stack counts a rehearsal as it counts any echo; the link reports each swallowed reply
 * (`LinkDevice.setRehearsalHook`), and the stack takes the echo out of its counters again.
 * @module
 */

import { ETHERNET_ETHERTYPE_OFFSET, ETHERNET_HEADER_BYTES } from "../wire/ethernet.ts";
import { internetChecksum } from "../wire/checksum.ts";

/** Bytes of echo data the token replaces: a rehearsed echo carries at least this much data. */
export const REHEARSAL_TOKEN_BYTES = 8;

/**
 * Longest frame rehearsed. A rehearsal copies the frame each time, and a lone pinger's requests
 * are short (`ping` sends 98-byte frames by default).
 */
export const MAX_REHEARSED_FRAME_BYTES = 256;

/** IPv4 offsets within an Ethernet frame. */
const IP = ETHERNET_HEADER_BYTES;
const IP_FLAGS_FRAGMENT = IP + 6;
const IP_PROTOCOL = IP + 9;
const IP_SOURCE = IP + 12;
const IP_DESTINATION = IP + 16;
const PROTOCOL_ICMP = 1;
const ECHO_REQUEST = 8;
const ECHO_REPLY = 0;
/** ICMP header: type, code, checksum, identifier, sequence. */
const ICMP_HEADER_BYTES = 8;

/**
 * The last answered echo and the token of one link's rehearsals; see the module documentation.
 * @example
 * ```ts
 * const rehearsal = new EchoRehearsal(crypto.getRandomValues(new Uint8Array(8)));
 * rehearsal.noteAnswered(reply); // an echo reply the stack sent: now armed
 * const length = rehearsal.writeRehearsal(buffer); // a request like it, to hand up
 * rehearsal.isRehearsalReply(replyToThat); // true: swallow it
 * ```
 */
export class EchoRehearsal {
  readonly #token: Uint8Array;
  /** The last echo reply the stack sent, until the template is built from it. */
  readonly #answered = new Uint8Array(MAX_REHEARSED_FRAME_BYTES);
  /** Bytes of {@link #answered} waiting to become the template, 0 when none. */
  #answeredBytes = 0;
  readonly #template = new Uint8Array(MAX_REHEARSED_FRAME_BYTES);
  /** Bytes of the template, 0 until built. */
  #templateBytes = 0;

  /** Rehearsals marked with `token` (random, {@link REHEARSAL_TOKEN_BYTES} long). */
  constructor(token: Uint8Array) {
    if (token.length !== REHEARSAL_TOKEN_BYTES) {
      throw new RangeError(`Invalid token: ${token.length} bytes, need ${REHEARSAL_TOKEN_BYTES}`);
    }
    this.#token = token.slice();
  }

  /** Whether there is an answered echo to rehearse. */
  get armed(): boolean {
    return this.#templateBytes > 0 || this.#answeredBytes > 0;
  }

  /**
   * A frame the stack sent. Whether it was an echo reply that can be rehearsed (whole, IPv4, at
   * most {@link MAX_REHEARSED_FRAME_BYTES}, with room for the token), now kept for that; the reply
   * to a rehearsal is not (see {@link isRehearsalReply}).
   */
  noteAnswered(frame: Uint8Array): boolean {
    const data = echoDataOffset(frame, ECHO_REPLY);
    if (data < 0 || holdsAt(frame, data, this.#token)) return false;
    // The datagram only: Ethernet padding after it is not part of the request.
    const length = IP + ipTotalBytes(frame);
    // A plain loop: `set` calls into V8's runtime, whose code is what goes cold (see tap.ts).
    for (let i = 0; i < length; i++) this.#answered[i] = frame[i];
    this.#answeredBytes = length;
    return true;
  }

  /** Whether `frame`, about to be sent, is the reply to a rehearsal (the link swallows it). */
  isRehearsalReply(frame: Uint8Array): boolean {
    const data = echoDataOffset(frame, ECHO_REPLY);
    return data >= 0 && holdsAt(frame, data, this.#token);
  }

  /** Forgets the answered echo (nothing is rehearsed until the stack answers another). */
  disarm(): void {
    this.#answeredBytes = 0;
    this.#templateBytes = 0;
  }

  /**
   * Writes the rehearsal, an echo request like the last one answered, into `into` at `at` (room
   * for {@link MAX_REHEARSED_FRAME_BYTES} needed) and returns its length, or 0 when not armed.
   */
  writeRehearsal(into: Uint8Array, at = 0): number {
    if (this.#answeredBytes > 0) this.#build();
    const length = this.#templateBytes;
    for (let i = 0; i < length; i++) into[at + i] = this.#template[i];
    return length;
  }

  /**
   * Turns the kept reply into the template: the request it answered, back to front (MACs and
   * addresses swapped; the IP checksum covers both addresses, so it stays valid), type 8, the
   * token in its data and the ICMP checksum computed again.
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
    const icmp = IP + (template[IP] & 0x0f) * 4;
    template[icmp] = ECHO_REQUEST;
    template.set(this.#token, icmp + ICMP_HEADER_BYTES);
    template[icmp + 2] = 0;
    template[icmp + 3] = 0;
    const checksum = internetChecksum(template.subarray(icmp, length));
    template[icmp + 2] = checksum >>> 8;
    template[icmp + 3] = checksum & 0xff;
    this.#templateBytes = length;
    this.#answeredBytes = 0;
  }
}

/**
 * Where the echo data of `frame` begins when it is a whole (unfragmented) IPv4 ICMP echo message
 * of `type`, short enough to rehearse and with room for the token; -1 otherwise.
 */
function echoDataOffset(frame: Uint8Array, type: number): number {
  if (frame.length > MAX_REHEARSED_FRAME_BYTES) return -1;
  if (frame.length < IP + 20 + ICMP_HEADER_BYTES + REHEARSAL_TOKEN_BYTES) return -1;
  if (frame[ETHERNET_ETHERTYPE_OFFSET] !== 0x08 || frame[ETHERNET_ETHERTYPE_OFFSET + 1] !== 0) {
    return -1;
  }
  if (frame[IP_PROTOCOL] !== PROTOCOL_ICMP || (frame[IP] >>> 4) !== 4) return -1;
  // More-fragments flag or a fragment offset: a piece of a datagram, not a whole echo.
  if (((frame[IP_FLAGS_FRAGMENT] & 0x3f) | frame[IP_FLAGS_FRAGMENT + 1]) !== 0) return -1;
  const headerBytes = (frame[IP] & 0x0f) * 4;
  const totalBytes = ipTotalBytes(frame);
  const icmp = IP + headerBytes;
  const data = icmp + ICMP_HEADER_BYTES;
  if (headerBytes < 20 || IP + totalBytes > frame.length) return -1;
  if (IP + totalBytes < data + REHEARSAL_TOKEN_BYTES) return -1;
  if (frame[icmp] !== type || frame[icmp + 1] !== 0) return -1;
  return data;
}

/** The IPv4 total length of the datagram in `frame`. */
function ipTotalBytes(frame: Uint8Array): number {
  return (frame[IP + 2] << 8) | frame[IP + 3];
}

/** Whether `frame[at..]` starts with `bytes`. */
function holdsAt(frame: Uint8Array, at: number, bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (frame[at + i] !== bytes[i]) return false;
  return true;
}
