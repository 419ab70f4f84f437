/**
 * Rehearsing a lone echo through the stack itself, for a link whose receiver spins while it
 * waits (the TAP's busy polling and spin-ahead windows, `ffi/tap.ts`).
 *
 * Why: on a VM whose host is busy, the code and data of the packet path leave the CPU caches
 * within a millisecond, even while our own thread spins. Timed here, a lone ping's request took
 * 40-60 us from TAP read to TAP write after 200 ms of spinning, against ~10 us when requests
 * came every 0.5 ms. The twin stacks of `stack/cache_warmer.ts` keep the code warm but not this
 * stack's own objects; only a packet through the real path warms both. So while it spins anyway,
 * the link hands up a copy of the last echo request the stack answered, every few hundred
 * microseconds, and swallows the reply.
 *
 * This module is the frame logic, without clocks or I/O:
 * 1. {@link noteReceived}: a lone echo request from the wire becomes the candidate.
 * 2. {@link noteSent}: when the stack sends the reply to the candidate, it becomes the template,
 *    with a token in place of its first eight data bytes. Only an echo the stack answered is
 *    rehearsed, so a rehearsal takes the path a real one took.
 * 3. {@link writeRehearsal} copies the template for the link to hand up; {@link noteSent}
 *    recognises its reply by the token (an echo reply carries the request's data back).
 *
 * The stack counts a rehearsal as it counts any echo; the link reports each swallowed reply
 * (`LinkDevice.setRehearsalHook`), and the stack takes the echo out of its counters again.
 * @module
 */

import { ETHERNET_ETHERTYPE_OFFSET, ETHERNET_HEADER_BYTES } from "../wire/ethernet.ts";
import { internetChecksum } from "../wire/checksum.ts";

/** Bytes of echo data the token replaces: a request needs at least this much data. */
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
 * What {@link EchoRehearsal.noteSent} found a frame to be: the reply to the candidate (which now
 * is the template), the reply to a rehearsal, or anything else.
 */
export type SentFrame = "answered" | "rehearsal-reply" | "other";

/**
 * The candidate, template and token of one link's rehearsals; see the module documentation.
 * @example
 * ```ts
 * const rehearsal = new EchoRehearsal(crypto.getRandomValues(new Uint8Array(8)));
 * rehearsal.noteReceived(request); // a lone echo request from the wire
 * rehearsal.noteSent(reply); // the stack's reply to it: now armed
 * const length = rehearsal.writeRehearsal(buffer); // a copy to hand up
 * ```
 */
export class EchoRehearsal {
  readonly #token: Uint8Array;
  readonly #candidate = new Uint8Array(MAX_REHEARSED_FRAME_BYTES);
  /** Bytes of the candidate, 0 when there is none. */
  #candidateBytes = 0;
  readonly #template = new Uint8Array(MAX_REHEARSED_FRAME_BYTES);
  /** Bytes of the template, 0 until armed. */
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
    return this.#templateBytes > 0;
  }

  /** Whether {@link noteSent} needs to see sent frames (a candidate waits or a template is set). */
  get watching(): boolean {
    return this.#candidateBytes > 0 || this.#templateBytes > 0;
  }

  /** A frame from the wire: a rehearsable echo request becomes the candidate. */
  noteReceived(frame: Uint8Array): void {
    if (echoDataOffset(frame, ECHO_REQUEST) < 0) return;
    this.#candidate.set(frame);
    this.#candidateBytes = frame.length;
  }

  /**
   * A frame the stack sends. The reply to the candidate arms the rehearsal with the candidate
   * (`"answered"`); the reply to a rehearsal is `"rehearsal-reply"`, for the link to swallow.
   */
  noteSent(frame: Uint8Array): SentFrame {
    const data = echoDataOffset(frame, ECHO_REPLY);
    if (data < 0) return "other";
    if (this.#templateBytes > 0 && holdsAt(frame, data, this.#token)) return "rehearsal-reply";
    if (this.#candidateBytes === 0 || !this.#answers(frame)) return "other";
    this.#arm();
    return "answered";
  }

  /** Forgets the template and the candidate (nothing is rehearsed until an echo is answered). */
  disarm(): void {
    this.#candidateBytes = 0;
    this.#templateBytes = 0;
  }

  /** Bytes of the rehearsal frame (0 when not armed). */
  get frameBytes(): number {
    return this.#templateBytes;
  }

  /**
   * Copies the rehearsal frame into `into` at `at` (room for {@link frameBytes} needed) and
   * returns its length, or 0 when not armed.
   */
  writeRehearsal(into: Uint8Array, at = 0): number {
    const length = this.#templateBytes;
    // A plain loop: `set` calls into V8's runtime, whose code is what goes cold (see tap.ts).
    for (let i = 0; i < length; i++) into[at + i] = this.#template[i];
    return length;
  }

  /** Whether `reply` answers the candidate: addresses swapped, same identifier and sequence. */
  #answers(reply: Uint8Array): boolean {
    const request = this.#candidate;
    const icmp = IP + (request[IP] & 0x0f) * 4;
    const replyIcmp = IP + (reply[IP] & 0x0f) * 4;
    // The ICMP messages match in length (the IP headers and Ethernet padding may not).
    if (IP + ipTotalBytes(reply) - replyIcmp !== IP + ipTotalBytes(request) - icmp) return false;
    for (let i = 0; i < 4; i++) {
      if (reply[IP_SOURCE + i] !== request[IP_DESTINATION + i]) return false;
      if (reply[IP_DESTINATION + i] !== request[IP_SOURCE + i]) return false;
      if (reply[replyIcmp + 4 + i] !== request[icmp + 4 + i]) return false;
    }
    return true;
  }

  /** The candidate becomes the template: the token in its data, the ICMP checksum redone. */
  #arm(): void {
    const length = this.#candidateBytes;
    const template = this.#template;
    template.set(this.#candidate.subarray(0, length));
    this.#candidateBytes = 0;
    const icmp = IP + (template[IP] & 0x0f) * 4;
    const icmpEnd = IP + ipTotalBytes(template);
    template.set(this.#token, icmp + ICMP_HEADER_BYTES);
    template[icmp + 2] = 0;
    template[icmp + 3] = 0;
    const checksum = internetChecksum(template.subarray(icmp, icmpEnd));
    template[icmp + 2] = checksum >>> 8;
    template[icmp + 3] = checksum & 0xff;
    this.#templateBytes = length;
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
