/**
 * Reading a child process's output as it comes, to wait for a line it prints (a ready line, a
 * per-connection log line) instead of guessing with sleeps.
 * @module
 */

/** Accumulates a byte stream as text and waits for what the caller expects to see in it. */
export class OutputWatcher {
  readonly #reader: ReadableStreamDefaultReader<string>;
  /** Everything read so far. */
  text = "";

  /** Takes the reader of `stream`. */
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }

  /**
   * Reads until `expected` (a substring, or a predicate over all text so far) holds; resolves
   * false when the stream ends first.
   */
  async until(expected: string | ((text: string) => boolean)): Promise<boolean> {
    const seen = typeof expected === "string" ? (t: string) => t.includes(expected) : expected;
    while (!seen(this.text)) {
      const { value, done } = await this.#reader.read();
      if (done) return false;
      this.text += value;
    }
    return true;
  }

  /** Reads to the end of the stream and returns all of it. */
  async rest(): Promise<string> {
    for (;;) {
      const { value, done } = await this.#reader.read();
      if (done) return this.text;
      this.text += value;
    }
  }
}
