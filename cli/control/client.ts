/**
 * The client side of the control socket: a {@link StackSession} whose every call is a request to a
 * running `gonet up`.
 * @module
 */

import type { EchoResult } from "../../stack/icmp/layer.ts";
import type { StackStats } from "../../stack/stack.ts";
import type {
  ArpRow,
  ByteStream,
  DatagramEvent,
  DatagramListener,
  PingParams,
  StackInfo,
  StackSession,
  StreamListener,
} from "../session.ts";
import { ConnReader } from "./conn_reader.ts";
import { errorFromJson, FramedStream } from "./frames.ts";
import { type ControlMessage, fromBase64, readJsonLines, toBase64 } from "./protocol.ts";

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  onEvent?: (event: unknown) => void;
}

/** Connects to the stack serving `path`; resolves `undefined` when none runs there. */
export async function connectControl(path: string): Promise<RemoteSession | undefined> {
  let conn: Deno.UnixConn;
  try {
    conn = await Deno.connect({ transport: "unix", path });
  } catch {
    return undefined;
  }
  return new RemoteSession(conn, path);
}

/** A session on a stack in another process. */
export class RemoteSession implements StackSession {
  /** Always false. */
  readonly inProcess = false;
  readonly #conn: Deno.UnixConn;
  readonly #path: string;
  readonly #pending = new Map<number, Pending>();
  readonly #encoder = new TextEncoder();
  readonly #reading: Promise<void>;
  #nextId = 1;
  #closed = false;

  /** @internal Use {@link connectControl}. */
  constructor(conn: Deno.UnixConn, path: string) {
    this.#conn = conn;
    this.#path = path;
    this.#reading = this.#readLoop();
  }

  /** Facts about the stack. */
  info(): Promise<StackInfo> {
    return this.#call("info", {}) as Promise<StackInfo>;
  }

  /** Reserves an echo identifier. */
  allocatePingIdentifier(): Promise<number> {
    return this.#call("allocatePingIdentifier", {}) as Promise<number>;
  }

  /** Sends one echo request. */
  ping(params: PingParams): Promise<EchoResult> {
    return this.#call("ping", { ...params }) as Promise<EchoResult>;
  }

  /** The ARP cache. */
  arpEntries(): Promise<ArpRow[]> {
    return this.#call("arpEntries", {}) as Promise<ArpRow[]>;
  }

  /** Resolves an address. */
  async arpResolve(address: string): Promise<string | undefined> {
    return (await this.#call("arpResolve", { address }) as string | null) ?? undefined;
  }

  /** Sends one datagram. */
  async udpSend(
    hostname: string,
    port: number,
    data: Uint8Array,
    sourcePort?: number,
  ): Promise<void> {
    await this.#call("udpSend", { hostname, port, data: toBase64(data), sourcePort });
  }

  /** Binds a UDP port in the remote stack and streams its datagrams here. */
  udpListen(port: number): Promise<DatagramListener> {
    return new Promise((resolve, reject) => {
      const queue: DatagramEvent[] = [];
      let wake: (() => void) | undefined;
      let ended = false;
      let localPort = -1;
      const done = this.#call("udpListen", { port }, (event) => {
        const e = event as { port?: number; data?: string; hostname?: string };
        if (e.data === undefined) {
          localPort = e.port!;
          resolve(listener);
          return;
        }
        queue.push({ data: fromBase64(e.data), hostname: e.hostname!, port: e.port! });
        wake?.();
      });
      done.then(() => {}, reject).finally(() => {
        ended = true;
        wake?.();
      });
      const call = (method: string, params: Record<string, unknown>) => this.#call(method, params);
      const listener: DatagramListener = {
        get port() {
          return localPort;
        },
        async *datagrams() {
          for (;;) {
            while (queue.length > 0) yield queue.shift()!;
            if (ended) return;
            await new Promise<void>((r) => wake = r);
            wake = undefined;
          }
        },
        async send(data, hostname, toPort) {
          await call("udpListenerSend", {
            localPort,
            data: toBase64(data),
            hostname,
            port: toPort,
          });
        },
        async close() {
          await call("udpListenerClose", { localPort });
        },
      };
    });
  }

  /** Opens a TCP connection in the remote stack, relayed over a connection of its own. */
  tcpConnect(hostname: string, port: number): Promise<ByteStream> {
    return this.#openStream("tcpConnect", { hostname, port });
  }

  /** Listens on a TCP port in the remote stack; each accepted connection gets its own relay. */
  async tcpListen(port: number): Promise<StreamListener> {
    await this.#call("tcpListen", { port });
    return {
      port,
      accept: () => this.#openStream("tcpAccept", { port }),
      close: async () => {
        await this.#call("tcpUnlisten", { port }).catch(() => {});
      },
    };
  }

  /** Counters. */
  stats(): Promise<StackStats> {
    return this.#call("stats", {}) as Promise<StackStats>;
  }

  /** Closes the connection; the remote stack keeps running. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    await this.#reading;
  }

  async #openStream(method: string, params: Record<string, unknown>): Promise<ByteStream> {
    const conn = await Deno.connect({ transport: "unix", path: this.#path });
    const request = new TextEncoder().encode(JSON.stringify({ id: 1, method, params }) + "\n");
    let offset = 0;
    while (offset < request.length) offset += await conn.write(request.subarray(offset));
    const reader = new ConnReader(conn.readable);
    const line = await reader.readLine();
    if (line === null) {
      conn.close();
      throw new Deno.errors.ConnectionReset("The gonet stack closed the control connection");
    }
    const answer = JSON.parse(line) as ControlMessage;
    if (answer.error) {
      conn.close();
      throw errorFromJson(answer.error);
    }
    const ends = answer.result as { local: string; remote: string };
    return new FramedStream(conn, reader, ends.local, ends.remote);
  }

  #call(
    method: string,
    params: Record<string, unknown>,
    onEvent?: (event: unknown) => void,
  ): Promise<unknown> {
    if (this.#closed) {
      return Promise.reject(new Deno.errors.BadResource("Control session is closed"));
    }
    const id = this.#nextId++;
    const bytes = this.#encoder.encode(JSON.stringify({ id, method, params }) + "\n");
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, onEvent });
      this.#writeAll(bytes).catch((error) => {
        this.#pending.delete(id);
        reject(error);
      });
    });
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) offset += await this.#conn.write(bytes.subarray(offset));
  }

  async #readLoop(): Promise<void> {
    try {
      for await (const value of readJsonLines(this.#conn.readable)) {
        const message = value as ControlMessage;
        const pending = this.#pending.get(message.id);
        if (!pending) continue;
        if (message.event !== undefined) {
          pending.onEvent?.(message.event);
          continue;
        }
        this.#pending.delete(message.id);
        if (message.error) pending.reject(errorFromJson(message.error));
        else pending.resolve(message.result);
      }
    } catch {
      // Connection closed under us: fail what is pending below.
    }
    for (const pending of this.#pending.values()) {
      pending.reject(
        new Deno.errors.ConnectionReset("The gonet stack closed the control connection"),
      );
    }
    this.#pending.clear();
  }
}
