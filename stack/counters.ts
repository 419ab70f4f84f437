/**
 * Drop counting shared by every layer: malformed or unwanted packets are data, not exceptions, so
 * each dealer records why it dropped something and moves on.
 * @module
 */

/** Drop counts keyed by a short kebab-case reason, e.g. `{ "bad-checksum": 3 }`. */
export type DropCounts = Record<string, number>;

/** Adds one drop for `reason`. */
export function countDrop(drops: DropCounts, reason: string): void {
  drops[reason] = (drops[reason] ?? 0) + 1;
}
