/**
 * The control server of `gonet up`: serves a {@link StackSession} on a Unix socket, one session per
 * client connection (so identifiers and UDP sockets a client holds are released when it leaves).
 * @module
 */

import type { DatagramListener, StackSession, StreamListener } from "../session.ts";
import { ConnReader } from "./conn_reader.ts";
import { bridge, FramedStream } from "./frames.ts";
import { type ControlMessage, type ControlRequest, fromBase64, toBase64 } from "./protocol.ts";

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
  // TCP listeners by port: created on one client connection, accepted from on others.
  const tcpListeners = new Map<number, StreamListener>();
  const serving = (async () => {
    for await (const conn of listener) {
      connections.add(conn);
      serveConnection(conn, newSession(), tcpListeners).finally(() => connections.delete(conn));
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

async function serveConnection(
  conn: Deno.UnixConn,
  session: StackSession,
  tcpListeners: Map<number, StreamListener>,
): Promise<void> {
  const encoder = new TextEncoder();
  const listeners = new Map<number, DatagramListener>();
  const ownedTcpPorts = new Set<number>();
  const reader = new ConnReader(conn.readable);
  let writing = Promise.resolve();
  const send = (message: ControlMessage) => {
    const bytes = encoder.encode(JSON.stringify(message) + "\n");
    // Serialise writes: events and answers of concurrent requests must not interleave bytes.
    writing = writing.then(async () => {
      let offset = 0;
      while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
    }).catch(() => {});
  };
  let streaming = false;
  try {
    for (let line = await reader.readLine(); line !== null; line = await reader.readLine()) {
      if (line.trim() === "") continue;
      const request = JSON.parse(line) as ControlRequest;
      if (request.method === "tcpConnect" || request.method === "tcpAccept") {
        // This connection now carries one TCP stream in frames, and nothing else.
        streaming = true;
        await serveStream(conn, reader, request, session, tcpListeners, send, () => writing);
        return;
      }
      handle(request, session, listeners, tcpListeners, ownedTcpPorts, send).then(
        (result) => send({ id: request.id, result: result ?? null }),
        (error: Error) =>
          send({ id: request.id, error: { name: error.name, message: error.message } }),
      );
    }
  } catch {
    // The client went away or sent garbage: clean up below.
  } finally {
    for (const listener of listeners.values()) await listener.close();
    for (const port of ownedTcpPorts) {
      await tcpListeners.get(port)?.close();
      tcpListeners.delete(port);
    }
    await session.close();
    await writing;
    if (!streaming) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  }
}

async function serveStream(
  conn: Deno.UnixConn,
  reader: ConnReader,
  request: ControlRequest,
  session: StackSession,
  tcpListeners: Map<number, StreamListener>,
  send: (message: ControlMessage) => void,
  written: () => Promise<void>,
): Promise<void> {
  const p = request.params ?? {};
  let tcp;
  try {
    if (request.method === "tcpConnect") {
      tcp = await session.tcpConnect(String(p.hostname), Number(p.port));
    } else {
      const listener = tcpListeners.get(Number(p.port));
      if (!listener) throw new Deno.errors.NotFound(`No TCP listener on port ${p.port}`);
      tcp = await listener.accept();
    }
  } catch (error) {
    const e = error as Error;
    send({ id: request.id, error: { name: e.name, message: e.message } });
    await written();
    conn.close();
    return;
  }
  send({ id: request.id, result: { local: tcp.local, remote: tcp.remote } });
  await written();
  await bridge(new FramedStream(conn, reader, tcp.local, tcp.remote), tcp);
}

async function handle(
  request: ControlRequest,
  session: StackSession,
  listeners: Map<number, DatagramListener>,
  tcpListeners: Map<number, StreamListener>,
  ownedTcpPorts: Set<number>,
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
    case "tcpListen": {
      const port = Number(p.port);
      if (tcpListeners.has(port)) {
        throw new Deno.errors.AddrInUse(`Cannot listen: port ${port} is already in use`);
      }
      tcpListeners.set(port, await session.tcpListen(port));
      ownedTcpPorts.add(port);
      return { port };
    }
    case "tcpUnlisten": {
      const port = Number(p.port);
      if (!ownedTcpPorts.has(port)) return null;
      await tcpListeners.get(port)?.close();
      tcpListeners.delete(port);
      ownedTcpPorts.delete(port);
      return null;
    }
    case "stats":
      return await session.stats();
    default:
      throw new Deno.errors.NotSupported(
        `Unknown control method ${JSON.stringify(request.method)}`,
      );
  }
}
