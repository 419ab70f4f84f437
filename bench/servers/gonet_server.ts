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
import { parseStackFlags, type StackFlagValues } from "../../cli/stack_flags.ts";
import { gonetNetApi } from "../net_api.ts";
import { serve } from "./serve.ts";

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      tap: { type: "string", default: "gonet0" },
      ip: { type: "string", default: "10.0.0.2/24" },
      "host-ip": { type: "string", default: "10.0.0.1/24" },
      offload: { type: "boolean", default: false },
    },
  });
  // `offload` is passed through for stacks whose TAP supports it; older ones ignore it.
  const flags: Record<string, unknown> = {
    tap: values.tap,
    ip: values.ip,
    hostIp: values["host-ip"],
    offload: values.offload,
  };
  const running = bringUp(parseStackFlags(flags as StackFlagValues));
  try {
    await serve(gonetNetApi(running.stack), { ip: values.ip }, () => ({
      gonet: running.stack.stats(),
    }));
  } finally {
    await running.close();
  }
  Deno.exit(0);
}
