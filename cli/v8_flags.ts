/**
 * The V8 flags gonet runs with: the `gonet` task, the compiled binary, the demo and the benchmark
 * servers all pass {@link gonetV8FlagsArg} to Deno, and `deno.json` spells the same flags out
 * (a test keeps the two in step).
 *
 * Why a flag at all: V8 compiles a function with TurboFan, its optimising compiler, only after
 * {@link TURBOFAN_AFTER_CALLS} calls' worth of interpreter and Maglev time (3000 by default).
 * A packet path that runs a few hundred times a second (a lone `ping`, the cache warmer's
 * rehearsals) takes minutes to get there, and meanwhile runs Maglev code: less inlining, so more
 * functions, more code pages and more cache misses on a path that runs cold. Measured here with
 * lone pings 200 ms apart (100 per run, interleaved runs): p50 0.153 ms with the default, 0.127
 * with 100, 0.135 with 300; 30 was no better than 100 and noisier. Timed along the path, wake-up
 * to the reply's written took 106 us instead of 140, and the TAP `read` call alone 15 instead of 29
 * (FFI calls from Maglev code cost more). In bulk runs neither setting came out ahead: the
 * differences between runs were larger than between settings.
 *
 * Deno reads V8 flags only from its command line (`--v8-flags`) or `DENO_V8_FLAGS`, before any
 * JavaScript runs: `node:v8`'s `setFlagsFromString` is accepted but does nothing. So a program
 * that imports gonet as a library gets the same effect by passing the flag itself.
 * @module
 */

/** Calls' worth of warm-up before V8 optimises a function with TurboFan (V8's default: 3000). */
const TURBOFAN_AFTER_CALLS = 100;

/** The flags, one per element, as V8 spells them. */
const GONET_V8_FLAGS: readonly string[] = [
  `--invocation-count-for-turbofan=${TURBOFAN_AFTER_CALLS}`,
];

/**
 * The `--v8-flags=...` argument of `deno run` that applies {@link GONET_V8_FLAGS} and `extra`.
 * @example
 * ```ts
 * const argv = [Deno.execPath(), "run", gonetV8FlagsArg(["--expose-gc"]), "cli/main.ts"];
 * ```
 */
export function gonetV8FlagsArg(extra: readonly string[] = []): string {
  return `--v8-flags=${[...GONET_V8_FLAGS, ...extra].join(",")}`;
}
