/**
 * Buffered reading of a control connection that starts with JSON lines and may switch to binary
 * frames (`frames.ts`): bytes read past a line are kept for the next read.
 * @module
 */

/** Reads lines and exact byte counts from a byte stream. */
export class ConnReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #buffer = new Uint8Array(0);
  #ended = false;

  /** Wraps `stream`, taking its reader. */
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  /** The next line without its newline, or `null` at the end of the stream. */
  async readLine(): Promise<string | null> {
    for (;;) {
      const newline = this.#buffer.indexOf(0x0a);
      if (newline >= 0) {
        const line = new TextDecoder().decode(this.#buffer.subarray(0, newline));
        this.#buffer = this.#buffer.subarray(newline + 1);
        return line;
      }
      if (!(await this.#fill())) return null;
    }
  }

  /** Exactly `length` bytes, or `null` when the stream ends first. */
  async readExactly(length: number): Promise<Uint8Array | null> {
    while (this.#buffer.length < length) {
      if (!(await this.#fill())) return null;
    }
    const out = this.#buffer.slice(0, length);
    this.#buffer = this.#buffer.subarray(length);
    return out;
  }

  /** Stops reading. */
  cancel(): void {
    this.#reader.cancel().catch(() => {});
  }

  async #fill(): Promise<boolean> {
    if (this.#ended) return false;
    let result: ReadableStreamReadResult<Uint8Array>;
    try {
      result = await this.#reader.read();
    } catch {
      result = { done: true, value: undefined };
    }
    if (result.done) {
      this.#ended = true;
      return false;
    }
    const joined = new Uint8Array(this.#buffer.length + result.value.length);
    joined.set(this.#buffer);
    joined.set(result.value, this.#buffer.length);
    this.#buffer = joined;
    return true;
  }
}
