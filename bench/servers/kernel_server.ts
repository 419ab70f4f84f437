/**
 * Benchmark server on the Linux kernel's sockets (Deno.listen / Deno.listenDatagram): the
 * baseline. Run it inside the server namespace; see `serve.ts` for the protocol.
 * @module
 */

import { kernelNetApi } from "../net_api.ts";
import { serve } from "./serve.ts";

if (import.meta.main) {
  await serve(kernelNetApi, {});
  Deno.exit(0);
}
