/**
 * One connection inside the dealer: its {@link Tcb}, the channel the dealer feeds it segments
 * through, and the two tasks of the CSP design: a segment task that runs arrivals through the
 * TCB, and a send task that moves the user's writes into the send buffer as space frees up
 * (backpressure). After every step `flush` hands queued segments to the dealer, re-arms the one
 * shared timer and wakes user calls waiting for progress.
 *
 * A write that leaves less than a segment unsent is corked until the end of the turn
 * (`../turn_end.ts`): a `close` or another write in the same turn then joins it, so a response
 * followed by `close` leaves as one segment with the FIN, as with Linux's autocorking. Only the
 * partial tail waits, and only until the turn ends; full segments go at once.
 *
 * Both tasks run while they have work and end when their channel is empty; the next item starts
 * them again. An idle connection (the common case with thousands open) so keeps no suspended
 * function, promise or closure alive: only its objects.
 * @module
 */

import { Channel } from "../channel.ts";
import type { Clock } from "../clock.ts";
import { formatIpv4, type Ipv4Addr } from "../wire/addr.ts";
import { closedError, connectionError } from "./errors.ts";
import { canSendData, TcpState } from "./state.ts";
import type { InSegment, OutSegment } from "./segment.ts";
import type { Tcb } from "./tcb.ts";

/** What an endpoint needs from the dealer that owns it. */
export interface EndpointHost {
  /** The clock. */
  readonly clock: Clock;
  /** Encodes and sends a segment of `ep`. */
  transmit(ep: Endpoint, seg: OutSegment): void;
  /** Calls {@link Endpoint.uncork} at the end of the turn. */
  deferOutput(ep: Endpoint): void;
  /** Sets (or clears) the endpoint's deadline in the shared timer queue. */
  schedule(ep: Endpoint, at: number | undefined): void;
  /** The TCB reached TIME-WAIT: keep the state's rules in a small entry (`time_wait.ts`). */
  enterTimeWait(ep: Endpoint): void;
  /** The TCB reached CLOSED or TIME-WAIT: forget the endpoint. */
  release(ep: Endpoint): void;
  /** The handshake of a passively opened endpoint completed. */
  established(ep: Endpoint): void;
}

type WriteRequest =
  | { kind: "data"; data: Uint8Array; resolve: (n: number) => void; reject: (e: Error) => void }
  | { kind: "fin"; resolve: (n: number) => void; reject: (e: Error) => void };

/** The 4-tuple key of a connection in the demultiplexing table. */
export function connectionKey(remote: Ipv4Addr, remotePort: number, localPort: number): string {
  return `${remote}:${remotePort}:${localPort}`;
}

/** A connection as the dealer and the user API see it. */
export class Endpoint {
  /** The control block. */
  readonly tcb: Tcb;
  /** Our port. */
  readonly localPort: number;
  /** Peer address. */
  readonly remoteAddress: Ipv4Addr;
  /** Peer port. */
  readonly remotePort: number;
  /** Demultiplexing key. */
  readonly key: string;
  /** Segments from the dealer. */
  readonly inbox: Channel<InSegment>;
  /** Set for passively opened endpoints until the handshake completes. */
  passive: boolean;
  #host: EndpointHost;
  #writes: Channel<WriteRequest> | undefined;
  /** Whether the host will call {@link uncork} at the end of this turn. */
  #uncorkPending = false;
  #uncorkTask: (() => void) | undefined;
  /** Calls waiting for the next {@link flush}; allocated when the first one waits. */
  #waiters: (() => void)[] | undefined;
  #released = false;
  #userClosed = false;
  /** The segment task while it runs. */
  #segmentTask: Promise<void> | undefined;
  /** The send task while it runs. */
  #sendTask: Promise<void> | undefined;

  /** Wraps `tcb`; call {@link start} once it is opened. */
  constructor(
    host: EndpointHost,
    tcb: Tcb,
    tuple: { localPort: number; remoteAddress: Ipv4Addr; remotePort: number },
    options: { inboxCapacity: number; passive: boolean },
  ) {
    this.#host = host;
    this.tcb = tcb;
    this.localPort = tuple.localPort;
    this.remoteAddress = tuple.remoteAddress;
    this.remotePort = tuple.remotePort;
    this.key = connectionKey(tuple.remoteAddress, tuple.remotePort, tuple.localPort);
    this.inbox = new Channel<InSegment>(options.inboxCapacity, "tcp-segments");
    this.passive = options.passive;
  }

  /** `address:port` of the peer, for messages. */
  get peerName(): string {
    return `${formatIpv4(this.remoteAddress)}:${this.remotePort}`;
  }

  /** Whether the dealer has forgotten this endpoint. */
  get released(): boolean {
    return this.#released;
  }

  /** Sends what the open queued. The tasks start when there is work for them. */
  start(): void {
    this.flush();
  }

  /** How many of its two tasks run now (0 when idle). */
  get runningTasks(): number {
    return (this.#segmentTask ? 1 : 0) + (this.#sendTask ? 1 : 0);
  }

  /**
   * Queues an arrived segment for the segment task, starting the task if it is not running.
   * Returns false (the caller counts a drop) when the inbox is full or closed.
   */
  deliver(seg: InSegment): boolean {
    if (!this.inbox.trySend(seg)) return false;
    this.#segmentTask ??= this.#runSegments();
    return true;
  }

  /** Runs an expired deadline through the TCB (called by the shared timer queue). */
  onTimer(nowMs: number): void {
    this.tcb.onTimer(nowMs);
    this.flush();
  }

  /** Sends queued segments, re-arms the timer, wakes waiters, releases when CLOSED. */
  flush(): void {
    for (const seg of this.tcb.takeOutput()) this.#host.transmit(this, seg);
    if (this.passive && this.tcb.state !== TcpState.SynReceived && !this.tcb.closed) {
      this.passive = false;
      this.#host.established(this);
    }
    // TIME-WAIT ends the endpoint too: a small entry keeps the state's rules, and the TCB lives
    // on only for the user's handle (its unread data and its EOF).
    if (this.tcb.closed || this.tcb.state === TcpState.TimeWait) {
      this.#host.schedule(this, undefined);
      if (!this.#released) {
        this.#released = true;
        this.inbox.close();
        this.#writes?.close();
        if (!this.tcb.closed) this.#host.enterTimeWait(this);
        this.#host.release(this);
      }
    } else {
      this.#host.schedule(this, this.tcb.nextDeadline());
    }
    const waiters = this.#waiters;
    if (waiters === undefined) return;
    this.#waiters = undefined;
    for (const wake of waiters) wake();
  }

  /** {@link uncork} as a task for the end of the turn; made on first use. */
  get uncorkTask(): () => void {
    return this.#uncorkTask ??= () => this.uncork();
  }

  /** End of the turn: sends what corked writes held back (see the module doc). */
  uncork(): void {
    this.#uncorkPending = false;
    if (!this.tcb.corked) return;
    this.tcb.uncork(this.#host.clock.now());
    this.flush();
  }

  /** Resolves at the next {@link flush}. */
  changed(): Promise<void> {
    return new Promise((resolve) => (this.#waiters ??= []).push(resolve));
  }

  /**
   * The segment task: runs everything queued through the TCB, a batch per turn, and ends when the
   * inbox is empty. It first yields, so it starts only after the dealer has queued the whole
   * batch it is demultiplexing (the TCB then sees arrivals together and acknowledges once).
   */
  async #runSegments(): Promise<void> {
    try {
      do {
        await undefined;
        const batch = this.inbox.drain();
        const now = this.#host.clock.now();
        for (let i = 0; i < batch.length; i++) {
          this.tcb.onSegment(batch[i], now, i < batch.length - 1);
          if (this.tcb.closed) break;
        }
        this.flush();
      } while (this.inbox.length > 0 && !this.#released);
    } finally {
      // Also after a throw: the next segment must find no task and start one.
      this.#segmentTask = undefined;
    }
  }

  /** The channel to the send task, created on first use. */
  #sendQueue(): Channel<WriteRequest> {
    if (!this.#writes) {
      this.#writes = new Channel<WriteRequest>(16, "tcp-writes");
      if (this.#released) this.#writes.close();
    }
    return this.#writes;
  }

  /**
   * Queues a write request (waiting while 16 are queued) and makes sure the send task runs. The
   * task is started after the request is in: a task that just found the queue empty has ended.
   */
  #queueWrite(req: WriteRequest): Promise<void> {
    const writes = this.#sendQueue();
    return writes.send(req).then(() => {
      this.#sendTask ??= this.#runWrites(writes);
    });
  }

  /**
   * The send task: moves queued writes into the send buffer, waiting for room (backpressure),
   * and ends when no write is queued.
   */
  async #runWrites(writes: Channel<WriteRequest>): Promise<void> {
    try {
      // Never finish synchronously: the caller's `??=` would then store a task that has ended.
      await undefined;
      while (writes.length > 0) {
        for (const req of writes.drain()) await this.#serveWrite(req);
      }
    } finally {
      this.#sendTask = undefined;
    }
  }

  /** Serves one write request; settles its promise. */
  async #serveWrite(req: WriteRequest): Promise<void> {
    try {
      if (req.kind === "fin") {
        this.#checkWritable();
        this.tcb.closeWrite(this.#host.clock.now());
        this.flush();
        req.resolve(0);
        return;
      }
      let offset = 0;
      while (offset < req.data.length) {
        this.#checkWritable();
        offset += this.tcb.write(req.data.subarray(offset), this.#host.clock.now(), true);
        if (this.tcb.corked && !this.#uncorkPending) {
          this.#uncorkPending = true;
          this.#host.deferOutput(this);
        }
        this.flush();
        if (offset < req.data.length) await this.changed();
      }
      req.resolve(req.data.length);
    } catch (error) {
      req.reject(error as Error);
    }
  }

  #checkWritable(): void {
    if (this.#userClosed) throw closedError("connection");
    if (this.tcb.error) throw connectionError(this.tcb.error, this.peerName);
    if (!canSendData(this.tcb.state) || this.tcb.finQueued) {
      throw new Deno.errors.BrokenPipe("Cannot write: the connection is closed for writing");
    }
  }

  /** Waits for the handshake; throws the failure otherwise. */
  async waitEstablished(): Promise<void> {
    while (
      this.tcb.state === TcpState.SynSent || this.tcb.state === TcpState.SynReceived
    ) {
      await this.changed();
    }
    if (this.tcb.error) throw connectionError(this.tcb.error, this.peerName);
    if (this.tcb.closed) throw connectionError("reset", this.peerName);
  }

  /** Reads into `p`: a count, `null` at end of stream, or the connection's error. */
  async read(p: Uint8Array): Promise<number | null> {
    for (;;) {
      if (this.#userClosed) throw closedError("connection");
      if (p.length === 0) return 0;
      const n = this.tcb.read(p, this.#host.clock.now());
      if (n > 0) {
        this.flush();
        return n;
      }
      if (this.tcb.eof) return null;
      if (this.tcb.error) throw connectionError(this.tcb.error, this.peerName);
      if (this.tcb.closed) return null;
      await this.changed();
    }
  }

  /** Queues `p` for sending; resolves with its length once all of it is in the send buffer. */
  write(p: Uint8Array): Promise<number> {
    if (this.#userClosed) return Promise.reject(closedError("connection"));
    if (p.length === 0) return Promise.resolve(0);
    // No copy here: the bytes are copied into the send buffer before the promise resolves, and
    // like Deno's `write`, the caller must not modify `p` until then.
    const data = p;
    return new Promise<number>((resolve, reject) => {
      this.#queueWrite({ kind: "data", data, resolve, reject }).catch(() => {
        reject(this.#closedOrFailed());
      });
    });
  }

  /** Queues our FIN after the pending writes (half-close). */
  async closeWrite(): Promise<void> {
    if (this.#userClosed) throw closedError("connection");
    await new Promise<number>((resolve, reject) => {
      this.#queueWrite({ kind: "fin", resolve, reject }).catch(() => {
        reject(this.#closedOrFailed());
      });
    });
  }

  /** The user lets go: FIN (or RST with unread data); the TCB finishes in the background. */
  close(): void {
    if (this.#userClosed) throw closedError("connection");
    this.#userClosed = true;
    this.tcb.close(this.#host.clock.now());
    this.#writes?.close();
    this.flush();
  }

  /** Turns Nagle's algorithm off (`true`) or on. */
  setNoDelay(on: boolean): void {
    this.tcb.setNoDelay(on, this.#host.clock.now());
    this.flush();
  }

  /** Turns keepalive probes on or off. */
  setKeepAlive(on: boolean): void {
    this.tcb.setKeepAlive(on, this.#host.clock.now());
    this.flush();
  }

  /** Resets the connection (used when the layer or listener shuts down). */
  abort(): void {
    this.tcb.abort(this.#host.clock.now());
    this.flush();
  }

  #closedOrFailed(): Error {
    if (this.#userClosed) return closedError("connection");
    if (this.tcb.error) return connectionError(this.tcb.error, this.peerName);
    return new Deno.errors.BrokenPipe("Cannot write: the connection is closed");
  }
}
