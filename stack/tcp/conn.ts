/**
 * The user's view of a connection, shaped like `Deno.TcpConn` so code written for `Deno.connect`
 * works unchanged: `read`/`write` with backpressure, lazy `readable`/`writable` streams,
 * `closeWrite` (half-close, sends FIN), `close`, addresses and `Symbol.asyncDispose`.
 * @module
 */

import { formatIpv4, type Ipv4Addr } from "../wire/addr.ts";
import type { Endpoint } from "./endpoint.ts";

/** A TCP address as Deno reports it. */
export interface TcpAddr {
  /** Always `"tcp"`. */
  readonly transport: "tcp";
  /** Dotted-quad address. */
  readonly hostname: string;
  /** Port number. */
  readonly port: number;
}

/** Builds a {@link TcpAddr}. */
export function tcpAddr(address: Ipv4Addr, port: number): TcpAddr {
  return { transport: "tcp", hostname: formatIpv4(address), port };
}

const READ_CHUNK = 16 * 1024;

/**
 * A TCP connection of the user-space stack.
 * @example
 * ```ts
 * const conn = await tcp.connect({ hostname: parseIpv4("10.0.0.2")!, port: 80 });
 * await conn.write(new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
 * const buf = new Uint8Array(1024);
 * const n = await conn.read(buf); // bytes, or null at end of stream
 * conn.close();
 * ```
 */
export class TcpConn implements AsyncDisposable, Disposable {
  #ep: Endpoint;
  #localAddress: Ipv4Addr;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;
  #closed = false;

  /** Wraps an established endpoint (the layer creates these). */
  constructor(ep: Endpoint, localAddress: Ipv4Addr) {
    this.#ep = ep;
    this.#localAddress = localAddress;
  }

  // The address objects are made when asked for: most servers never look, and with thousands
  // of idle connections two objects and two strings each add up.

  /** Our address and port. */
  get localAddr(): TcpAddr {
    return tcpAddr(this.#localAddress, this.#ep.localPort);
  }

  /** The peer's address and port. */
  get remoteAddr(): TcpAddr {
    return tcpAddr(this.#ep.remoteAddress, this.#ep.remotePort);
  }

  /**
   * Reads up to `p.length` bytes. Resolves with the count, or `null` once the peer closed its
   * side and everything was read. Throws `Deno.errors.ConnectionReset` / `TimedOut` on failure
   * and `Deno.errors.BadResource` after {@link close}.
   */
  read(p: Uint8Array): Promise<number | null> {
    return this.#ep.read(p);
  }

  /**
   * Writes all of `p` into the send buffer, waiting while it is full (backpressure); resolves
   * with `p.length`. The bytes are copied into the send buffer; `p` may be reused once the
   * promise resolves.
   */
  write(p: Uint8Array): Promise<number> {
    return this.#ep.write(p);
  }

  /** Sends FIN after everything written so far; reading continues until the peer closes. */
  closeWrite(): Promise<void> {
    return this.#ep.closeWrite();
  }

  /**
   * Closes the connection: written data is still delivered and FIN sent (or RST if unread data
   * was discarded). Further calls throw `Deno.errors.BadResource`.
   */
  close(): void {
    this.#closed = true;
    this.#ep.close();
  }

  /** Disables (`true`, the default) or enables Nagle's algorithm. */
  setNoDelay(noDelay = true): void {
    this.#ep.setNoDelay(noDelay);
  }

  /** Enables (`true`, the default) or disables keepalive probes. */
  setKeepAlive(keepAlive = true): void {
    this.#ep.setKeepAlive(keepAlive);
  }

  /** No-op, for `Deno.Conn` compatibility. */
  ref(): void {}

  /** No-op, for `Deno.Conn` compatibility. */
  unref(): void {}

  /** A byte stream of incoming data, created on first use. */
  get readable(): ReadableStream<Uint8Array> {
    this.#readable ??= new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const buf = new Uint8Array(READ_CHUNK);
        try {
          const n = await this.read(buf);
          if (n === null) controller.close();
          else controller.enqueue(buf.subarray(0, n));
        } catch (error) {
          controller.error(error);
        }
      },
      cancel: () => {
        if (!this.#closed) this.close();
      },
    });
    return this.#readable;
  }

  /** A sink for outgoing data, created on first use; closing it sends FIN. */
  get writable(): WritableStream<Uint8Array> {
    this.#writable ??= new WritableStream<Uint8Array>({
      write: async (chunk) => {
        await this.write(chunk);
      },
      close: () => this.closeWrite(),
      abort: () => {
        if (!this.#closed) this.close();
      },
    });
    return this.#writable;
  }

  /** Closes the connection unless already closed. */
  [Symbol.asyncDispose](): Promise<void> {
    this[Symbol.dispose]();
    return Promise.resolve();
  }

  /** Closes the connection unless already closed (`using conn = ...`, as with `Deno.Conn`). */
  [Symbol.dispose](): void {
    if (!this.#closed) this.close();
  }
}
