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

function rotl(x: number, b: number): number {
  return ((x << b) | (x >>> (32 - b))) >>> 0;
}

/**
 * A keyed add-rotate-xor hash of 32-bit words (SipHash-style: two rounds per word, four to
 * finish) with a 128-bit key. Used for ISNs and SYN cookies.
 */
export function keyedHash(key: Uint32Array, words: readonly number[]): number {
  let v0 = key[0], v1 = key[1], v2 = (key[2] ^ 0x6c796765) >>> 0, v3 = (key[3] ^ 0x74656462) >>> 0;
  const round = () => {
    v0 = (v0 + v1) >>> 0;
    v1 = rotl(v1, 5) ^ v0;
    v0 = rotl(v0, 16);
    v2 = (v2 + v3) >>> 0;
    v3 = rotl(v3, 8) ^ v2;
    v0 = (v0 + v3) >>> 0;
    v3 = rotl(v3, 7) ^ v0;
    v2 = (v2 + v1) >>> 0;
    v1 = rotl(v1, 13) ^ v2;
    v2 = rotl(v2, 16);
  };
  for (const word of [...words, (words.length * 4) << 24]) {
    const m = word >>> 0;
    v3 = (v3 ^ m) >>> 0;
    round();
    round();
    v0 = (v0 ^ m) >>> 0;
  }
  v2 = (v2 ^ 0xff) >>> 0;
  for (let i = 0; i < 4; i++) round();
  return (v1 ^ v3) >>> 0;
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
