/**
 * Initial sequence numbers per RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport,
 * secretkey), where M is a 4-microsecond timer and F a keyed hash. F here is a SipHash-style
 * add-rotate-xor function on 32-bit words (two compression and four finalization rounds) keyed
 * with 128 bits drawn once from the injected Random, so ISNs are unpredictable to an off-path
 * attacker yet monotonic per 4-tuple, which keeps old duplicates out of new incarnations.
 * @module
 */

import type { Random } from "../clock.ts";
import type { Ipv4Addr } from "../wire/addr.ts";

/**
 * A keyed add-rotate-xor hash of 32-bit words (SipHash-style: two rounds per word, four to
 * finish) with a 128-bit key. Used for ISNs and SYN cookies.
 */
export function keyedHash(key: Uint32Array, words: readonly number[]): number {
  // The state lives in a scratch array of 32-bit words rather than in variables shared with a
  // helper closure: closure variables are heap slots, and every uint32 above 2^31 written to one
  // is a fresh heap number (about 1.4 KB of garbage per connection before).
  const v = STATE;
  v[0] = key[0];
  v[1] = key[1];
  v[2] = key[2] ^ 0x6c796765;
  v[3] = key[3] ^ 0x74656462;
  for (let i = 0; i <= words.length; i++) {
    // The last word is the length, as in SipHash's final block.
    const m = i < words.length ? words[i] : (words.length * 4) << 24;
    v[3] ^= m;
    sipRound(v);
    sipRound(v);
    v[0] ^= m;
  }
  v[2] ^= 0xff;
  for (let i = 0; i < 4; i++) sipRound(v);
  return (v[1] ^ v[3]) >>> 0;
}

/** Scratch state of {@link keyedHash}: the hash runs to completion, so one array serves all. */
const STATE = new Uint32Array(4);

function rotl(x: number, b: number): number {
  return (x << b) | (x >>> (32 - b));
}

/** One SipRound over the four state words (a Uint32Array wraps every sum to 32 bits). */
function sipRound(v: Uint32Array): void {
  v[0] += v[1];
  v[1] = rotl(v[1], 5) ^ v[0];
  v[0] = rotl(v[0], 16);
  v[2] += v[3];
  v[3] = rotl(v[3], 8) ^ v[2];
  v[0] += v[3];
  v[3] = rotl(v[3], 7) ^ v[0];
  v[2] += v[1];
  v[1] = rotl(v[1], 13) ^ v[2];
  v[2] = rotl(v[2], 16);
}

/** Draws a 128-bit key from `random`. */
export function randomKey(random: Random): Uint32Array {
  return new Uint32Array([random.nextU32(), random.nextU32(), random.nextU32(), random.nextU32()]);
}

/** Generates RFC 6528 ISNs. */
export class IsnGenerator {
  readonly #key: Uint32Array;

  /** Draws the secret key from `random`. */
  constructor(random: Random) {
    this.#key = randomKey(random);
  }

  /** The keyed hash F of the 4-tuple (RFC 6528 §3). */
  hash(local: Ipv4Addr, localPort: number, remote: Ipv4Addr, remotePort: number): number {
    return keyedHash(this.#key, [local, remote, (localPort << 16) | remotePort]);
  }

  /** ISN for a connection at `nowMs`: the hash plus a 4 µs clock (250 ticks per ms). */
  isn(
    nowMs: number,
    local: Ipv4Addr,
    localPort: number,
    remote: Ipv4Addr,
    remotePort: number,
  ): number {
    const m = Math.floor(nowMs * 250) % 0x1_0000_0000;
    return (this.hash(local, localPort, remote, remotePort) + m) >>> 0;
  }
}
