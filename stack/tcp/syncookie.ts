/**
 * SYN cookies (RFC 4987 §3.6): when a listener's backlog is full, the SYN-ACK's sequence number
 * encodes the connection instead of keeping state. The cookie holds a 5-bit time counter (64 s
 * steps), a 3-bit index into an MSS table, and 24 bits of a keyed hash of the 4-tuple, the
 * counter and the client's ISN. The returning ACK (ack = cookie + 1) is checked against the
 * current and previous counter. Options other than MSS (window scale, SACK, timestamps) cannot
 * be remembered this way and are off for such connections.
 * @module
 */

import type { Random } from "../clock.ts";
import type { Ipv4Addr } from "../wire/addr.ts";
import { keyedHash, randomKey } from "./isn.ts";

/** MSS values a cookie can encode (index in 3 bits). */
export const COOKIE_MSS = [536, 1200, 1400, 1440, 1460, 4312, 8960, 9000] as const;

const PERIOD_MS = 64_000;

/** The connection a valid cookie stands for. */
export interface CookieConnection {
  /** Our ISS (the cookie). */
  iss: number;
  /** The client's ISN. */
  irs: number;
  /** The MSS the client announced, rounded down to the table. */
  mss: number;
}

/** Makes and checks SYN cookies. */
export class SynCookies {
  readonly #key: Uint32Array;

  /** Draws the secret from `random`. */
  constructor(random: Random) {
    this.#key = randomKey(random);
  }

  /** The cookie (our ISS) for a SYN with sequence `clientIsn` and MSS `mss`. */
  make(
    nowMs: number,
    tuple: { local: Ipv4Addr; localPort: number; remote: Ipv4Addr; remotePort: number },
    clientIsn: number,
    mss: number,
  ): number {
    const counter = Math.floor(nowMs / PERIOD_MS) & 31;
    let index = 0;
    for (let i = 0; i < COOKIE_MSS.length; i++) if (COOKIE_MSS[i] <= mss) index = i;
    const h = this.#hash(tuple, counter, clientIsn);
    return ((counter << 27) | (index << 24) | (h & 0xff_ffff)) >>> 0;
  }

  /**
   * Checks the ACK that completes a cookie handshake (`ack - 1` is the cookie, `seq - 1` the
   * client's ISN); returns the connection or undefined when forged or older than ~2 periods.
   */
  check(
    nowMs: number,
    tuple: { local: Ipv4Addr; localPort: number; remote: Ipv4Addr; remotePort: number },
    seq: number,
    ack: number,
  ): CookieConnection | undefined {
    const cookie = (ack - 1) >>> 0;
    const irs = (seq - 1) >>> 0;
    const counter = cookie >>> 27;
    const now = Math.floor(nowMs / PERIOD_MS) & 31;
    if (counter !== now && counter !== ((now + 31) & 31)) return undefined;
    const h = this.#hash(tuple, counter, irs);
    if ((h & 0xff_ffff) !== (cookie & 0xff_ffff)) return undefined;
    return { iss: cookie, irs, mss: COOKIE_MSS[(cookie >>> 24) & 7] };
  }

  #hash(
    t: { local: Ipv4Addr; localPort: number; remote: Ipv4Addr; remotePort: number },
    counter: number,
    clientIsn: number,
  ): number {
    return keyedHash(this.#key, [
      t.local,
      t.remote,
      (t.localPort << 16) | t.remotePort,
      counter,
      clientIsn,
    ]);
  }
}
