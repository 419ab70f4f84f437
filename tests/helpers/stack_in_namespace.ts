/**
 * A gonet stack running in the test process with its TAP inside a test namespace: the TAP and the
 * kernel-side configuration are created while the JS thread is switched into the namespace, and
 * stay there. Kernel-side peers then run inside the namespace with `ip netns exec`.
 * @module
 */

import { withNetns } from "../../ffi/netns.ts";
import { bringUp, type RunningStack } from "../../cli/bringup.ts";
import { parseStackFlags, type StackFlagValues } from "../../cli/stack_flags.ts";
import type { TestNamespace } from "./netns.ts";

/**
 * Brings a stack up in `ns` with `gonet up` defaults (10.0.0.2/24, kernel 10.0.0.1/24). Its TAP
 * poisons receive arenas before reusing them, so received bytes kept without being retained (see
 * `stack/arena_pool.ts`) turn into garbage the test's checksums and assertions catch.
 */
export function startStackIn(ns: TestNamespace, flags: StackFlagValues = {}): RunningStack {
  const config = parseStackFlags(flags);
  return withNetns(ns.name, () => bringUp(config, { poisonReusedArenas: true }));
}

/** Reads newline-delimited JSON objects from a child's stdout. */
export class JsonLines {
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buffered = "";

  /** Wraps a byte stream. */
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The next object; throws when the stream ends first. */
  async next(): Promise<Record<string, unknown>> {
    for (;;) {
      const newline = this.#buffered.indexOf("\n");
      if (newline >= 0) {
        const line = this.#buffered.slice(0, newline);
        this.#buffered = this.#buffered.slice(newline + 1);
        return JSON.parse(line);
      }
      const { value, done } = await this.#reader.read();
      if (done) throw new Error(`stream ended; unparsed: ${JSON.stringify(this.#buffered)}`);
      this.#buffered += value;
    }
  }
}
