/**
 * Port allocation shared by UDP and TCP: explicit binds and ephemeral ports from the IANA dynamic
 * range 49152..65535 (RFC 6335 §6), starting at a random offset (RFC 6056 §3.3.1) so ports are
 * hard to guess.
 * @module
 */

import type { Random } from "./clock.ts";

/** The first dynamic port (RFC 6335). */
export const EPHEMERAL_FIRST = 49152;
/** The last dynamic port. */
export const EPHEMERAL_LAST = 65535;

/** Picks a free ephemeral port for which `inUse` is false, or `undefined` when all are taken. */
export function pickEphemeralPort(
  random: Random,
  inUse: (port: number) => boolean,
): number | undefined {
  const count = EPHEMERAL_LAST - EPHEMERAL_FIRST + 1;
  const start = random.nextU32() % count;
  for (let i = 0; i < count; i++) {
    const port = EPHEMERAL_FIRST + ((start + i) % count);
    if (!inUse(port)) return port;
  }
  return undefined;
}
