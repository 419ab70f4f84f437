/**
 * The control server of `gonet up`: serves a {@link StackSession} on a Unix socket, one session per
 * client connection (so identifiers and UDP sockets a client holds are released when it leaves).
 * @module
 */

import type { DatagramListener, StackSession } from "../session.ts";
import {
  type ControlMessage,
  type ControlRequest,
  fromBase64,
  readJsonLines,
  toBase64,
} from "./protocol.ts";

/** Creates the per-connection session; its `close` must not tear down the stack. */
export type SessionFactory = () => StackSession;

/** A running control server. */
export interface ControlServer {
  /** The socket path. */
  readonly path: string;
  /** Stops accepting, closes client connections and removes the socket file. */
  close(): Promise<void>;
}

/**
 * Listens on `path`. A live server already there is an error (`Deno.errors.AddrInUse`); a stale
 * socket file left by a killed stack (nobody accepts on it) is removed first.
 */
export async function startControlServer(
  path: string,
  newSession: SessionFactory,
): Promise<ControlServer> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  if (await isLive(path)) {
    throw new Deno.errors.AddrInUse(`Cannot start: a gonet stack already serves ${path}`);
  }
  await Deno.remove(path).catch(() => {});
  const listener = Deno.listen({ transport: "unix", path });
  const connections = new Set<Deno.UnixConn>();
  const serving = (async () => {
    for await (const conn of listener) {
      connections.add(conn);
      serveConnection(conn, newSession()).finally(() => connections.delete(conn));
    }
  })().catch(() => {});
  return {
    path,
    async close() {
      listener.close();
      for (const conn of connections) {
        try {
          conn.close();
        } catch { /* already closed */ }
      }
      await serving;
      await Deno.remove(path).catch(() => {});
    },
  };
}

async function isLive(path: string): Promise<boolean> {
  try {
    const conn = await Deno.connect({ transport: "unix", path });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

async function serveConnection(conn: Deno.UnixConn, session: StackSession): Promise<void> {
  const encoder = new TextEncoder();
  const listeners = new Map<number, DatagramListener>();
  let writing = Promise.resolve();
  const send = (message: ControlMessage) => {
    const bytes = encoder.encode(JSON.stringify(message) + "\n");
    // Serialise writes: events and answers of concurrent requests must not interleave bytes.
    writing = writing.then(async () => {
      let offset = 0;
      while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
    }).catch(() => {});
  };
  try {
    for await (const value of readJsonLines(conn.readable)) {
      const request = value as ControlRequest;
      handle(request, session, listeners, send).then(
        (result) => send({ id: request.id, result: result ?? null }),
        (error: Error) =>
          send({ id: request.id, error: { name: error.name, message: error.message } }),
      );
    }
  } catch {
    // The client went away mid-message: clean up below.
  } finally {
    for (const listener of listeners.values()) await listener.close();
    await session.close();
    await writing;
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}

async function handle(
  request: ControlRequest,
  session: StackSession,
  listeners: Map<number, DatagramListener>,
  send: (message: ControlMessage) => void,
): Promise<unknown> {
  const p = request.params ?? {};
  switch (request.method) {
    case "info":
      return await session.info();
    case "allocatePingIdentifier":
      return await session.allocatePingIdentifier();
    case "ping":
      return await session.ping(p as never);
    case "arpEntries":
      return await session.arpEntries();
    case "arpResolve":
      return (await session.arpResolve(String(p.address))) ?? null;
    case "udpSend":
      return await session.udpSend(
        String(p.hostname),
        Number(p.port),
        fromBase64(String(p.data)),
        p.sourcePort === undefined ? undefined : Number(p.sourcePort),
      );
    case "udpListen": {
      const listener = await session.udpListen(Number(p.port));
      listeners.set(listener.port, listener);
      send({ id: request.id, event: { port: listener.port } });
      for await (const d of listener.datagrams()) {
        send({
          id: request.id,
          event: { data: toBase64(d.data), hostname: d.hostname, port: d.port },
        });
      }
      return null;
    }
    case "udpListenerSend": {
      const listener = listeners.get(Number(p.localPort));
      if (!listener) {
        throw new Deno.errors.NotFound(`No UDP socket on port ${p.localPort} in this session`);
      }
      return await listener.send(fromBase64(String(p.data)), String(p.hostname), Number(p.port));
    }
    case "udpListenerClose": {
      const listener = listeners.get(Number(p.localPort));
      listeners.delete(Number(p.localPort));
      return await listener?.close();
    }
    case "stats":
      return await session.stats();
    default:
      throw new Deno.errors.NotSupported(
        `Unknown control method ${JSON.stringify(request.method)}`,
      );
  }
}
