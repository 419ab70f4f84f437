/**
 * A kernel-side UDP peer for TAP tests, run inside the test's namespace with `ip netns exec`.
 * It speaks one JSON object per line on stdout.
 *
 * - `listen PORT COUNT`: binds 10.0.0.1:PORT, prints `{"ready":true}`, then for each of COUNT
 *   datagrams prints `{"length","sha256","from"}` and echoes it back.
 * - `send PORT SIZE...`: binds 10.0.0.1:0 and, for each SIZE, sends a datagram of SIZE patterned
 *   bytes to 10.0.0.2:PORT and prints the echo as `{"length","sha256"}` (or `{"timeout":true}`).
 * @module
 */

import { pattern, sha256Hex as sha256 } from "../helpers/bytes.ts";

const [mode, portText, ...rest] = Deno.args;
const port = Number(portText);

function emit(value: unknown): void {
  console.log(JSON.stringify(value));
}

if (mode === "listen") {
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "10.0.0.1", port });
  emit({ ready: true });
  for (let i = 0; i < Number(rest[0]); i++) {
    const [data, from] = await socket.receive();
    const addr = from as Deno.NetAddr;
    emit({
      length: data.length,
      sha256: await sha256(data),
      from: `${addr.hostname}:${addr.port}`,
    });
    await socket.send(data, addr);
  }
  socket.close();
} else if (mode === "send") {
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "10.0.0.1", port: 0 });
  const buffer = new Uint8Array(65536);
  for (const size of rest.map(Number)) {
    await socket.send(pattern(size), { transport: "udp", hostname: "10.0.0.2", port });
    let timer: number | undefined;
    const timeout = new Promise<undefined>((resolve) => timer = setTimeout(resolve, 3000));
    const echo = await Promise.race([socket.receive(buffer), timeout]);
    clearTimeout(timer);
    if (!echo) {
      emit({ timeout: true });
      continue;
    }
    emit({ length: echo[0].length, sha256: await sha256(echo[0]) });
  }
  socket.close();
  Deno.exit(0);
} else {
  console.error("usage: udp_peer.ts listen PORT COUNT | send PORT SIZE...");
  Deno.exit(2);
}
