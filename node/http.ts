/**
 * Serving `node:http` over gonet's TCP: each accepted connection is handed to a `node:http` server
 * as a `node:stream` Duplex (the server's `connection` event), so existing Node HTTP handlers run
 * unchanged on the user-space stack.
 * @module
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { Duplex } from "node:stream";
import type { TcpConn } from "../stack/tcp/conn.ts";
import type { TcpListener } from "../stack/tcp/listener.ts";

/** Wraps a gonet connection as a Node duplex stream (half-close maps to `closeWrite`). */
export function connToDuplex(conn: TcpConn): Duplex {
  const duplex = Duplex.fromWeb(
    { readable: conn.readable, writable: conn.writable },
    { allowHalfOpen: true },
  );
  // node:http reads these to fill `req.socket.remoteAddress` and friends.
  Object.assign(duplex, {
    remoteAddress: conn.remoteAddr.hostname,
    remotePort: conn.remoteAddr.port,
    localAddress: conn.localAddr.hostname,
    localPort: conn.localAddr.port,
    remoteFamily: "IPv4",
    setNoDelay: (on?: boolean) => conn.setNoDelay(on ?? true),
    setKeepAlive: (on?: boolean) => conn.setKeepAlive(on ?? true),
    setTimeout: () => duplex,
  });
  duplex.on("close", () => {
    try {
      conn.close();
    } catch { /* already closed */ }
  });
  return duplex;
}

/** A running HTTP server on a gonet listener. */
export interface GonetHttpServer {
  /** The `node:http` server (not listening on any kernel socket). */
  readonly server: Server;
  /** Resolves when the listener stops accepting. */
  readonly finished: Promise<void>;
  /** Closes the listener and the HTTP server. */
  close(): Promise<void>;
}

/**
 * Serves `handler` on every connection `listener` accepts.
 * @example
 * ```ts
 * const http = serveHttp(stack.listen({ port: 80 }), (req, res) => res.end("hello\n"));
 * ```
 */
export function serveHttp(
  listener: TcpListener,
  handler: (request: IncomingMessage, response: ServerResponse) => void,
): GonetHttpServer {
  const server = createServer(handler);
  const finished = (async () => {
    try {
      for await (const conn of listener) server.emit("connection", connToDuplex(conn));
    } catch {
      // The listener was closed.
    }
  })();
  return {
    server,
    finished,
    async close() {
      listener.close();
      server.close();
      await finished;
    },
  };
}
