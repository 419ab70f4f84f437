/**
 * Test helper for the transmit ring (`ffi/tx_ring.ts`): queueing a frame in one call.
 * @module
 */

import type { TxRing } from "../../ffi/tx_ring.ts";

/** Queues `bytes` on the producer side of `ring`; false when the ring is full. */
export function pushFrame(ring: TxRing, bytes: Uint8Array): boolean {
  const at = ring.reserve(bytes.length);
  if (at < 0) return false;
  ring.data.set(bytes, at);
  ring.publish();
  return true;
}
