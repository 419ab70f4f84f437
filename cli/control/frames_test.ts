import assert from "node:assert/strict";
import { ConnReader } from "./conn_reader.ts";
import { encodeFrame, FramedStream, FrameType } from "./frames.ts";

/** Both ends of a Unix-socket connection in a fresh temporary directory. */
async function connectedPair(): Promise<
  { a: Deno.Conn; b: Deno.Conn; [Symbol.asyncDispose](): Promise<void> }
> {
  const dir = await Deno.makeTempDir({ prefix: "gonet-frames-" });
  const path = `${dir}/s`;
  const listener = Deno.listen({ transport: "unix", path });
  const [a, b] = await Promise.all([listener.accept(), Deno.connect({ transport: "unix", path })]);
  listener.close();
  return {
    a,
    b,
    async [Symbol.asyncDispose]() {
      for (const conn of [a, b]) {
        try {
          conn.close();
        } catch { /* closed by the test */ }
      }
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function framed(conn: Deno.Conn): FramedStream {
  return new FramedStream(conn, new ConnReader(conn.readable), "local", "remote");
}

async function readAllText(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  for await (const chunk of stream) text += new TextDecoder().decode(chunk);
  return text;
}

Deno.test("frames: DATA then EOF reads as the bytes and a clean end", async () => {
  await using pair = await connectedPair();
  const stream = framed(pair.a);
  const text = new TextEncoder();
  await pair.b.write(encodeFrame(FrameType.Data, text.encode("hello ")));
  await pair.b.write(encodeFrame(FrameType.Data, text.encode("world")));
  await pair.b.write(encodeFrame(FrameType.Eof));
  assert.equal(await readAllText(stream.readable), "hello world");
});

Deno.test("frames: an ERROR frame fails the stream with the Deno error class it names", async () => {
  await using pair = await connectedPair();
  const stream = framed(pair.a);
  const json = JSON.stringify({ name: "ConnectionReset", message: "reset by peer" });
  await pair.b.write(encodeFrame(FrameType.Error, new TextEncoder().encode(json)));
  await assert.rejects(readAllText(stream.readable), Deno.errors.ConnectionReset);
});

Deno.test("frames: a malformed ERROR frame fails the stream with InvalidData, nothing thrown", async () => {
  for (const payload of ["not json", "null", '{"name":1}']) {
    await using pair = await connectedPair();
    const stream = framed(pair.a);
    await pair.b.write(encodeFrame(FrameType.Error, new TextEncoder().encode(payload)));
    await assert.rejects(readAllText(stream.readable), Deno.errors.InvalidData, payload);
  }
});

Deno.test("frames: a connection that ends without EOF or ERROR is an error, not a clean end", async () => {
  await using pair = await connectedPair();
  const stream = framed(pair.a);
  await pair.b.write(encodeFrame(FrameType.Data, new Uint8Array([1, 2, 3])));
  pair.b.close();
  await assert.rejects(readAllText(stream.readable), Deno.errors.UnexpectedEof);
});

Deno.test("frames: an ERROR sent after the reader gave up still reaches a peer that keeps sending", async () => {
  await using pair = await connectedPair();
  const server = framed(pair.a);
  const client = framed(pair.b);
  // The client streams data; the server stops reading (as the bridge does when its TCP write
  // fails), reports the failure and closes.
  const chunk = new Uint8Array(64 * 1024);
  const sending = (async () => {
    for (let i = 0; i < 64; i++) await client.write(chunk);
  })();
  const reader = server.readable.getReader();
  assert.equal((await reader.read()).done, false);
  await reader.cancel();
  await server.sendError(new Deno.errors.ConnectionReset("reset by the TCP peer"));
  server.close();
  await assert.rejects(readAllText(client.readable), Deno.errors.ConnectionReset);
  await assert.rejects(sending, Deno.errors.ConnectionReset);
  client.close();
});
