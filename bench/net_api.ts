/**
 * The small socket surface the benchmark workloads need, with two implementations: the kernel's
 * (`Deno.listen`, `Deno.connect`, `Deno.listenDatagram`) and gonet's (a {@link Stack}). The same
 * workload code runs on both, so the two sides of every comparison differ only in the stack.
 * @module
 */

import type { Stack } from "../stack/stack.ts";

/** A byte stream connection (`Deno.Conn` and gonet's `TcpConn` both fit). */
export interface BenchConn {
  /** Reads into `p`; `null` at end of stream. */
  read(p: Uint8Array): Promise<number | null>;
  /** Writes all of `p`. */
  write(p: Uint8Array): Promise<number>;
  /** Sends FIN. */
  closeWrite(): Promise<void>;
  /** Closes the connection. */
  close(): void;
}

/** A stream of accepted connections. */
export interface BenchListener extends AsyncIterable<BenchConn> {
  /** Stops listening. */
  close(): void;
}

/** A bound UDP socket. */
export interface BenchDatagram {
  /** The next datagram. */
  receive(p?: Uint8Array): Promise<[Uint8Array, unknown]>;
  /** Sends one datagram. */
  send(p: Uint8Array, to: { hostname: string; port: number }): Promise<number>;
  /** Closes the socket. */
  close(): void;
}

/** The sockets of one stack. */
export interface NetApi {
  /** `"kernel"` or `"gonet"`. */
  readonly name: string;
  /** Listens on all addresses at `port`. */
  listen(port: number): BenchListener;
  /** Connects to `hostname:port`. */
  connect(hostname: string, port: number): Promise<BenchConn>;
  /** Binds a UDP socket at `port` (0: any free port). */
  listenDatagram(port: number): BenchDatagram;
}

/**
 * The Linux kernel's sockets, through Deno.
 * @example
 * ```ts
 * const conn = await kernelNetApi.connect("10.0.1.2", 5001);
 * ```
 */
export const kernelNetApi: NetApi = {
  name: "kernel",
  listen(port) {
    return Deno.listen({ port, hostname: "0.0.0.0" });
  },
  async connect(hostname, port) {
    const conn = await Deno.connect({ hostname, port });
    conn.setNoDelay(true);
    return conn;
  },
  listenDatagram(port) {
    const socket = Deno.listenDatagram({ port, hostname: "0.0.0.0", transport: "udp" });
    return {
      receive: (p) => socket.receive(p),
      send: (p, to) => socket.send(p, { transport: "udp", hostname: to.hostname, port: to.port }),
      close: () => socket.close(),
    };
  },
};

/**
 * The same surface on a gonet {@link Stack}.
 * @example
 * ```ts
 * const api = gonetNetApi(running.stack);
 * ```
 */
export function gonetNetApi(stack: Stack): NetApi {
  return {
    name: "gonet",
    listen: (port) => stack.listen({ port, backlog: 1024 }),
    async connect(hostname, port) {
      const conn = await stack.connect({ hostname, port });
      conn.setNoDelay(true);
      return conn;
    },
    listenDatagram: (port) => stack.listenDatagram({ port }),
  };
}
