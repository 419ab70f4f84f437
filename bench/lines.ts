/**
 * Newline-delimited JSON over a child's pipes: the benchmark's control protocol between the
 * orchestrator and its servers and load generators.
 * @module
 */

/** Reads newline-delimited JSON objects from a byte stream. */
export class JsonLineReader {
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buffered = "";

  /** Wraps `stream`. */
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The next object, or `undefined` at end of stream. Non-JSON lines are skipped. */
  async next(): Promise<Record<string, unknown> | undefined> {
    for (;;) {
      const newline = this.#buffered.indexOf("\n");
      if (newline >= 0) {
        const line = this.#buffered.slice(0, newline).trim();
        this.#buffered = this.#buffered.slice(newline + 1);
        if (!line.startsWith("{")) continue;
        try {
          return JSON.parse(line);
        } catch {
          continue;
        }
      }
      const { value, done } = await this.#reader.read();
      if (done) return undefined;
      this.#buffered += value;
    }
  }
}

const encoder = new TextEncoder();

/** Writes one JSON object as a line to stdout. */
export async function emit(value: unknown): Promise<void> {
  const bytes = encoder.encode(JSON.stringify(value) + "\n");
  let offset = 0;
  while (offset < bytes.length) offset += await Deno.stdout.write(bytes.subarray(offset));
}

/** Reads JSON lines from this process's stdin. */
export function stdinLines(): JsonLineReader {
  return new JsonLineReader(Deno.stdin.readable);
}
