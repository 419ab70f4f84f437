/**
 * TCP sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4; RFC 1982 serial-number arithmetic).
 * Sequence numbers wrap, so `a < b` on raw numbers is wrong near the wrap point: every comparison
 * in the stack goes through these helpers. Two numbers compare by the sign of their 32-bit
 * difference, which is meaningful while they are less than 2^31 apart (windows are far smaller).
 * @module
 */

/** A TCP sequence or acknowledgment number: an unsigned 32-bit integer. */
export type SeqNum = number;

/**
 * The signed distance from `b` to `a` (`a - b` modulo 2^32, in -2^31..2^31-1).
 * @example
 * ```ts
 * seqDiff(5, 0xffff_fffe); // 7
 * ```
 */
export function seqDiff(a: SeqNum, b: SeqNum): number {
  return (a - b) | 0;
}

/** `a - b` modulo 2^32 as an unsigned count; use when `a` is known to be at or after `b`. */
export function seqSub(a: SeqNum, b: SeqNum): number {
  return (a - b) >>> 0;
}

/** `a + n` modulo 2^32 (`n` may be negative). */
export function seqAdd(a: SeqNum, n: number): SeqNum {
  return (a + n) >>> 0;
}

/** Whether `a` comes strictly before `b`. */
export function seqLt(a: SeqNum, b: SeqNum): boolean {
  return seqDiff(a, b) < 0;
}

/** Whether `a` comes before or equals `b`. */
export function seqLe(a: SeqNum, b: SeqNum): boolean {
  return seqDiff(a, b) <= 0;
}

/** Whether `a` comes strictly after `b`. */
export function seqGt(a: SeqNum, b: SeqNum): boolean {
  return seqDiff(a, b) > 0;
}

/** Whether `a` comes after or equals `b`. */
export function seqGe(a: SeqNum, b: SeqNum): boolean {
  return seqDiff(a, b) >= 0;
}

/** The later of two sequence numbers. */
export function seqMax(a: SeqNum, b: SeqNum): SeqNum {
  return seqGe(a, b) ? a : b;
}

/** The earlier of two sequence numbers. */
export function seqMin(a: SeqNum, b: SeqNum): SeqNum {
  return seqLe(a, b) ? a : b;
}

/**
 * Whether `s` lies in the half-open window `[start, start + size)`; an empty window holds nothing.
 * @example
 * ```ts
 * inWindow(0, 0xffff_fff0, 0x20); // true: the window wraps past zero
 * ```
 */
export function inWindow(s: SeqNum, start: SeqNum, size: number): boolean {
  return seqSub(s, start) < size;
}
