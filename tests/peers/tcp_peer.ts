/**
 * A kernel-side TCP peer for TAP tests, run inside the test's namespace with `ip netns exec`. It
 * uses the kernel's sockets through `Deno.connect`/`Deno.listen` and prints one JSON object per
 * line on stdout.
 *
 * - `send HOST PORT BYTES`: connects, sends BYTES patterned bytes, half-closes, prints
 *   `{"sent", "reply"}` with everything the server answered (as text).
 * - `sink PORT`: listens on 10.0.0.1:PORT, prints `{"ready":true}`, accepts one connection and
 *   prints `{"length","sha256"}` of everything received until EOF.
 * - `echo-clients HOST PORT N BYTES`: N concurrent connections each send BYTES and read them back;
 *   prints `{"ok","failed","errors"}`.
 * - `connect HOST PORT`: prints `{"connected":true}` or `{"error": NAME}`.
 * - `http URL`: prints `{"status","body"}` of a GET.
 * @module
 */

import { createHash } from "node:crypto";
import { pattern } from "../helpers/bytes.ts";

const [mode, ...args] = Deno.args;

function emit(value: unknown): void {
  console.log(JSON.stringify(value));
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.length) offset += await conn.write(data.subarray(offset));
}

async function readExactly(conn: Deno.Conn, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let offset = 0;
  while (offset < length) {
    const n = await conn.read(out.subarray(offset));
    if (n === null) throw new Error(`EOF after ${offset} of ${length} bytes`);
    offset += n;
  }
  return out;
}

switch (mode) {
  case "send": {
    const [host, port, bytes] = args;
    const conn = await Deno.connect({ hostname: host, port: Number(port) });
    await writeAll(conn, pattern(Number(bytes)));
    await conn.closeWrite();
    const reply = await new Response(conn.readable).text();
    emit({ sent: Number(bytes), reply });
    break;
  }
  case "sink": {
    const listener = Deno.listen({ hostname: "10.0.0.1", port: Number(args[0]) });
    emit({ ready: true });
    const conn = await listener.accept();
    const hash = createHash("sha256");
    let length = 0;
    for await (const chunk of conn.readable) {
      hash.update(chunk);
      length += chunk.length;
    }
    emit({ length, sha256: hash.digest("hex") });
    listener.close();
    break;
  }
  case "echo-clients": {
    const [host, port, count, bytes] = args;
    const data = pattern(Number(bytes));
    const errors: string[] = [];
    const results = await Promise.all(Array.from({ length: Number(count) }, async () => {
      try {
        const conn = await Deno.connect({ hostname: host, port: Number(port) });
        const [, back] = await Promise.all([writeAll(conn, data), readExactly(conn, data.length)]);
        conn.close();
        return back.every((b, i) => b === data[i]);
      } catch (error) {
        errors.push(String(error));
        return false;
      }
    }));
    const ok = results.filter(Boolean).length;
    emit({ ok, failed: results.length - ok, errors: errors.slice(0, 3) });
    break;
  }
  case "connect": {
    try {
      const conn = await Deno.connect({ hostname: args[0], port: Number(args[1]) });
      conn.close();
      emit({ connected: true });
    } catch (error) {
      emit({ error: (error as Error).name });
    }
    break;
  }
  case "http": {
    const response = await fetch(args[0]);
    emit({ status: response.status, body: await response.text() });
    break;
  }
  default:
    console.error("usage: tcp_peer.ts send|sink|echo-clients|connect|http ...");
    Deno.exit(2);
}
