/**
 * Benchmark server on the Linux kernel's sockets (Deno.listen / Deno.listenDatagram): the
 * baseline. Run it inside the server namespace; see `serve.ts` for the protocol and
 * `main_cpus.ts` for `--main-cpus`.
 * @module
 */

import { parseArgs } from "node:util";
import { kernelNetApi } from "../net_api.ts";
import { MAIN_CPUS_OPTION, pinMainThread } from "./main_cpus.ts";
import { serve } from "./serve.ts";

if (import.meta.main) {
  const { values } = parseArgs({ options: MAIN_CPUS_OPTION });
  pinMainThread(values["main-cpus"]);
  await serve(kernelNetApi, {});
  Deno.exit(0);
}
