/**
 * Byte streams over a control connection, for `gonet tcp`: after the JSON request and answer, each
 * side sends frames `[type u8][length u32 BE][payload]`: DATA carries bytes, EOF half-closes, ERROR
 * carries `{ name, message }` (a reset, say) and ends the stream.
 * @module
 */

import type { ByteStream } from "../session.ts";
import type { ConnReader } from "./conn_reader.ts";

/** Frame types. */
export const FrameType = { Data: 1, Eof: 2, Error: 3 } as const;

const HEADER_BYTES = 5;
/** How long {@link FramedStream.close} waits for the other side to close its end, ms. */
const CLOSE_GRACE_MS = 5_000;

/** Largest DATA payload sent in one frame. */
export const MAX_FRAME_PAYLOAD = 64 * 1024;

/** Encodes one frame. */
export function encodeFrame(type: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const frame = new Uint8Array(HEADER_BYTES + payload.length);
  frame[0] = type;
  new DataView(frame.buffer).setUint32(1, payload.length);
  frame.set(payload, HEADER_BYTES);
  return frame;
}

/** Rebuilds an error sent in an ERROR frame, as its `Deno.errors` class when there is one. */
export function errorFromJson(json: { name: string; message: string }): Error {
  const classes = Deno.errors as unknown as Record<string, new (message: string) => Error>;
  const ErrorClass = classes[json.name];
  if (ErrorClass) return new ErrorClass(json.message);
  const error = new Error(json.message);
  error.name = json.name;
  return error;
}

/** The error an ERROR frame carries; a payload that is not `{ name, message }` is itself one. */
function errorFromFrame(payload: Uint8Array): Error {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    json = undefined;
  }
  const { name, message } = (json ?? {}) as { name?: unknown; message?: unknown };
  if (typeof name !== "string" || typeof message !== "string") {
    return new Deno.errors.InvalidData("Malformed ERROR frame");
  }
  return errorFromJson({ name, message });
}

/** A {@link ByteStream} carried in frames over `conn`, whose first bytes `reader` already read. */
export class FramedStream implements ByteStream {
  readonly local: string;
  readonly remote: string;
  readonly readable: ReadableStream<Uint8Array>;
  readonly #conn: Deno.Conn;
  // The chain of frame writes; it never rejects: the first failure is kept in #writeError.
  #writing: Promise<void> = Promise.resolve();
  #writeError: Error | undefined;
  #closed = false;
  /** Set when nobody reads {@link readable} any more: frames are then read and dropped. */
  #discarding = false;
  /** Ends when the other side has closed the connection (or it failed). */
  readonly #reading: Promise<void>;

  /** Wraps `conn`; `local` and `remote` describe the TCP connection at the far end. */
  constructor(conn: Deno.Conn, reader: ConnReader, local: string, remote: string) {
    this.#conn = conn;
    this.local = local;
    this.remote = remote;
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    this.readable = new ReadableStream<Uint8Array>({
      start: (c) => controller = c,
      // Keep reading (and dropping) frames rather than closing the connection: closing a socket
      // with unread bytes makes the kernel send a reset, which can destroy an ERROR frame we
      // are still sending.
      cancel: () => {
        this.#discarding = true;
      },
    });
    this.#reading = this.#readFrames(reader, controller);
  }

  /**
   * Reads frames until the connection ends. Frames keep being read after EOF, so an ERROR that
   * follows (a reset while we were still sending) fails our next write instead of going unseen.
   */
  async #readFrames(
    reader: ConnReader,
    controller: ReadableStreamDefaultController<Uint8Array>,
  ): Promise<void> {
    let open = true;
    const end = (error?: Error) => {
      if (!open) return;
      open = false;
      if (this.#discarding) return;
      if (error) controller.error(error);
      else controller.close();
    };
    for (;;) {
      const header = await reader.readExactly(HEADER_BYTES);
      const length = header ? new DataView(header.buffer, header.byteOffset).getUint32(1) : 0;
      const payload = header && length > 0 ? await reader.readExactly(length) : new Uint8Array(0);
      if (!header || !payload) {
        // Both ends always finish with EOF or ERROR: a connection that just ends lost its peer.
        return end(
          new Deno.errors.UnexpectedEof("the control connection ended in the middle of a stream"),
        );
      }
      switch (header[0]) {
        case FrameType.Data:
          if (open && !this.#discarding) controller.enqueue(payload);
          break;
        case FrameType.Eof:
          end();
          break;
        case FrameType.Error: {
          const error = errorFromFrame(payload);
          this.#writeError ??= error;
          return end(error);
        }
        default:
          return end(new Deno.errors.InvalidData(`Bad frame type ${header[0]}`));
      }
    }
  }

  /** Sends bytes (split into frames). */
  write(data: Uint8Array): Promise<void> {
    for (let offset = 0; offset < data.length; offset += MAX_FRAME_PAYLOAD) {
      this.#send(encodeFrame(FrameType.Data, data.subarray(offset, offset + MAX_FRAME_PAYLOAD)));
    }
    return this.#flushed();
  }

  /** Half-closes: the far end's TCP connection sends FIN. */
  closeWrite(): Promise<void> {
    this.#send(encodeFrame(FrameType.Eof));
    return this.#flushed();
  }

  /** Reports `error` to the other side and ends the stream. */
  sendError(error: Error): Promise<void> {
    const json = JSON.stringify({ name: error.name, message: error.message });
    this.#send(encodeFrame(FrameType.Error, new TextEncoder().encode(json)));
    return this.#flushed();
  }

  /**
   * Closes the control connection once every frame is written: half-closes it, lets the other
   * side read to the end and close its own end, then closes. The whole goodbye is bounded by
   * {@link CLOSE_GRACE_MS}, also when the other side stopped reading our frames.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    void this.#closeGracefully();
  }

  async #closeGracefully(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => timer = setTimeout(resolve, CLOSE_GRACE_MS));
    try {
      await Promise.race([this.#writing, grace]);
      try {
        await this.#conn.closeWrite();
      } catch { /* the connection already failed */ }
      await Promise.race([this.#reading, grace]);
    } finally {
      clearTimeout(timer);
      try {
        this.#conn.close();
      } catch { /* already closed */ }
    }
  }

  #send(frame: Uint8Array): void {
    // Frames are written strictly in order: each write waits for the previous one.
    this.#writing = this.#writing.then(async () => {
      if (this.#writeError) return;
      let offset = 0;
      while (offset < frame.length) offset += await this.#conn.write(frame.subarray(offset));
    }).catch((error: Error) => {
      this.#writeError ??= error;
    });
  }

  /** Resolves when every frame so far is written; rejects with the first write failure. */
  async #flushed(): Promise<void> {
    await this.#writing;
    if (this.#writeError) throw this.#writeError;
  }
}

/**
 * Joins two byte streams both ways: what `a` reads goes to `b` and back; an end is passed on as a
 * half-close; a failure on `tcp` (reset, timeout) is reported through `framed`. Resolves when both
 * directions are done.
 */
export async function bridge(framed: FramedStream, tcp: ByteStream): Promise<void> {
  const forward = async (from: ByteStream, to: ByteStream) => {
    for await (const chunk of from.readable) await to.write(chunk);
    await to.closeWrite();
  };
  let reported = false;
  const report = (error: Error) => {
    if (reported) return;
    reported = true;
    framed.sendError(error).catch(() => {});
  };
  // A reset can surface on either direction: a failed send is as much the user's news as a
  // failed receive.
  const toTcp = forward(framed, tcp).catch((error: Error) => {
    if (error.name !== "BrokenPipe" || !reported) report(error);
    tcp.close();
  });
  const fromTcp = forward(tcp, framed).catch(report);
  await Promise.all([toTcp, fromTcp]);
  tcp.close();
  framed.close();
}
