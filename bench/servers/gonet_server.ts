/**
 * Benchmark server on gonet: brings a stack up on a TAP in the current namespace (the kernel side
 * of the TAP gets `--host-ip`, default 10.0.0.1/24; the stack is `--ip`, default 10.0.0.2/24) and
 * serves the benchmark ports on it; the stack answers pings by itself. Run it as root inside a
 * namespace made for it: `ip netns exec NS deno run -A --unstable-net bench/servers/gonet_server.ts`.
 * See `serve.ts` for the control protocol.
 * @module
 */

import { parseArgs } from "node:util";
import { bringUp } from "../../cli/bringup.ts";
import { parseStackFlags } from "../../cli/stack_flags.ts";
import { gonetNetApi } from "../net_api.ts";
import { serve } from "./serve.ts";

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      tap: { type: "string", default: "gonet0" },
      ip: { type: "string", default: "10.0.0.2/24" },
      "host-ip": { type: "string", default: "10.0.0.1/24" },
    },
  });
  const running = bringUp(
    parseStackFlags({ tap: values.tap, ip: values.ip, hostIp: values["host-ip"] }),
  );
  try {
    await serve(gonetNetApi(running.stack), { ip: values.ip }, () => {
      const stats = running.stack.stats();
      return {
        gonet: {
          link: stats.link,
          ipv4Drops: (stats.ipv4 as unknown as { drops?: unknown }).drops,
          icmp: stats.icmp,
          udp: stats.udp,
          tcp: stats.tcp,
        },
      };
    });
  } finally {
    await running.close();
  }
  Deno.exit(0);
}
