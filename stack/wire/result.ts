/**
 * The result type every wire parser returns: the parsed value, or the reason the input was
 * dropped. Network garbage is data, not an exception, so parsers never throw on malformed bytes.
 * @module
 */

/**
 * The outcome of parsing untrusted bytes: `{ ok: true, value }` or `{ ok: false, reason }`, where
 * `reason` is a short kebab-case drop reason a dealer can count.
 * @example
 * ```ts
 * import { parseEthernet } from "./ethernet.ts";
 * const result = parseEthernet(new Uint8Array(3));
 * if (!result.ok) console.log(result.reason); // "truncated"
 * ```
 */
export type ParseResult<T, R extends string = string> =
  | { ok: true; value: T }
  | { ok: false; reason: R };
