/**
 * The TCP connection cap over two full stacks: connections in TIME-WAIT give way to new ones, so
 * a client that opens and closes many connections is never locked out by its own closed ones.
 */

import assert from "node:assert/strict";
import { createStackPair, settle } from "./helpers/memory_stacks.ts";

Deno.test("at the connection cap, the oldest TIME-WAIT connection makes room for a new one", async () => {
  await using pair = createStackPair({ stack: { tcp: { maxConnections: 4 } } });
  const listener = pair.b.listen({ port: 80 });
  const served = (async () => {
    for await (const conn of listener) {
      const buf = new Uint8Array(8);
      while ((await conn.read(buf)) !== null) { /* drain until the client's FIN */ }
      conn.close();
    }
  })();
  for (let i = 0; i < 12; i++) {
    const client = await pair.a.connect({ hostname: "10.0.0.2", port: 80 });
    await client.write(new Uint8Array([i]));
    await client.closeWrite();
    // The server's FIN comes back; the client, which closed first, ends in TIME-WAIT.
    assert.equal(await client.read(new Uint8Array(1)), null);
    client.close();
    await settle();
  }
  const stats = pair.a.stats().tcp;
  assert.ok(stats.activeConnections <= 4, `table holds ${stats.activeConnections}`);
  assert.equal(stats.timeWaitRecycled, 12 - 4);
  listener.close();
  await served;
});
