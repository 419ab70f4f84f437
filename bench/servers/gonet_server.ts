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
import { MAIN_CPUS_OPTION } from "./main_cpus.ts";
import { serve } from "./serve.ts";
import { TAP_SERVER_OPTIONS } from "./tap_options.ts";

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      ...TAP_SERVER_OPTIONS,
      ...MAIN_CPUS_OPTION,
      "no-offload": { type: "boolean", default: false },
      "tx-thread": { type: "boolean", default: false },
      "busy-poll": { type: "string" },
      "inline-wait": { type: "string" },
      nap: { type: "string" },
      "spin-ahead": { type: "string" },
      rehearse: { type: "string" },
      "keep-warm": { type: "string" },
      pcap: { type: "string" },
    },
  });
  // Offloads, a short busy poll, inline waiting with naps and the cache warmer are on by default, as in
  // `gonet up`; `--no-offload` measures the plain TAP, `--tx-thread` adds the transmit thread,
  // the others take `gonet up`'s values.
  const flags: StackFlagValues = {
    tap: values.tap,
    ip: values.ip,
    hostIp: values["host-ip"],
    offload: !values["no-offload"],
    txThread: values["tx-thread"],
    busyPoll: values["busy-poll"],
    inlineWait: values["inline-wait"],
    nap: values.nap,
    spinAhead: values["spin-ahead"],
    rehearse: values.rehearse,
    keepWarm: values["keep-warm"],
    // `gonet up --cpu`: the same pinning of the JS thread the other servers do themselves.
    cpu: values["main-cpus"],
    // For diagnosis only: writing every frame slows the server.
    pcap: values.pcap,
  };
  const running = bringUp(parseStackFlags(flags));
  try {
    await serve(gonetNetApi(running.stack), { ip: values.ip }, () => ({
      gonet: running.stack.stats(),
    }));
  } finally {
    await running.close();
  }
  Deno.exit(0);
}
