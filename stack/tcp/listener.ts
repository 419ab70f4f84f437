/**
 * A listening port (RFC 9293 §3.10.7.2 LISTEN): the dealer hands it SYNs, it tracks half-open
 * connections against the backlog, and `accept` yields connections whose handshake completed.
 * Shaped like `Deno.TcpListener`.
 * @module
 */

import { Channel } from "../channel.ts";
import type { Ipv4Addr } from "../wire/addr.ts";
import { type TcpAddr, tcpAddr, TcpConn } from "./conn.ts";
import type { Endpoint } from "./endpoint.ts";
import { closedError } from "./errors.ts";

/** What a listener needs from the layer. */
export interface ListenerHost {
  /** Forgets the listener's port. */
  unlisten(listener: TcpListener): void;
}

/**
 * Accepts incoming connections on one port.
 * @example
 * ```ts
 * const listener = tcp.listen({ port: 7 });
 * for await (const conn of listener) conn.readable.pipeTo(conn.writable); // echo
 * ```
 */
export class TcpListener implements AsyncIterable<TcpConn>, AsyncDisposable, Disposable {
  /** The address and port listened on. */
  readonly addr: TcpAddr;
  /** Most connections waiting for accept plus half-open ones. */
  readonly backlog: number;
  /** Half-open (SYN-RECEIVED) connections (maintained by the layer). */
  readonly halfOpen: Set<Endpoint> = new Set();
  #queue: Channel<Endpoint>;
  #host: ListenerHost;
  #localAddress: Ipv4Addr;
  #closed = false;

  /** Created by the layer's `listen`. */
  constructor(host: ListenerHost, localAddress: Ipv4Addr, port: number, backlog: number) {
    this.#host = host;
    this.#localAddress = localAddress;
    this.addr = tcpAddr(localAddress, port);
    this.backlog = backlog;
    this.#queue = new Channel<Endpoint>(backlog, `tcp-accept:${port}`);
  }

  /** The port. */
  get port(): number {
    return this.addr.port;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether a new SYN would exceed the backlog (half-open plus not yet accepted). */
  get full(): boolean {
    return this.halfOpen.size + this.#queue.length >= this.backlog;
  }

  /** Whether the accept queue itself is full. */
  get acceptQueueFull(): boolean {
    return this.#queue.length >= this.backlog;
  }

  /** A handshake completed: queue it for accept (drops and resets when the queue is full). */
  enqueue(ep: Endpoint): void {
    this.halfOpen.delete(ep);
    if (this.#closed || !this.#queue.trySend(ep)) ep.abort();
  }

  /** Waits for the next established connection. Throws `Deno.errors.BadResource` once closed. */
  async accept(): Promise<TcpConn> {
    for (;;) {
      if (this.#closed) throw closedError("listener");
      const ep = await this.#queue.receive();
      if (ep === undefined) throw closedError("listener");
      // Skip connections that died while queued (their RST or failure is already handled).
      if (ep.released) continue;
      return new TcpConn(ep, this.#localAddress);
    }
  }

  /** Yields accepted connections until the listener is closed. */
  async *[Symbol.asyncIterator](): AsyncGenerator<TcpConn> {
    for (;;) {
      try {
        yield await this.accept();
      } catch (error) {
        if (error instanceof Deno.errors.BadResource) return;
        throw error;
      }
    }
  }

  /** Stops listening; queued and half-open connections are reset. */
  close(): void {
    if (this.#closed) throw closedError("listener");
    this.#closed = true;
    this.#queue.close();
    for (const ep of this.#queue.drain()) ep.abort();
    for (const ep of this.halfOpen) ep.abort();
    this.halfOpen.clear();
    this.#host.unlisten(this);
  }

  /** Closes the listener unless already closed. */
  [Symbol.asyncDispose](): Promise<void> {
    this[Symbol.dispose]();
    return Promise.resolve();
  }

  /** Closes the listener unless already closed (`using listener = ...`). */
  [Symbol.dispose](): void {
    if (!this.#closed) this.close();
  }

  /** No-op, for `Deno.Listener` compatibility. */
  ref(): void {}

  /** No-op, for `Deno.Listener` compatibility. */
  unref(): void {}
}
