/**
 * An HTTP server on gonet: brings a stack up on a TAP and serves `node:http` handlers over the
 * stack's TCP. Run it as root inside a network namespace of your own:
 *
 * ```sh
 * ip netns add lab
 * ip netns exec lab deno run -A examples/http_server.ts --tap web0 --ip 10.0.1.2/24 --host-ip 10.0.1.1/24
 * ip netns exec lab curl http://10.0.1.2:8080/
 * ```
 * @module
 */

import { parseArgs } from "node:util";
import { bringUp } from "../cli/bringup.ts";
import { parseStackFlags } from "../cli/stack_flags.ts";
import { serveHttp } from "../mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    tap: { type: "string", default: "web0" },
    ip: { type: "string", default: "10.0.1.2/24" },
    "host-ip": { type: "string", default: "10.0.1.1/24" },
    port: { type: "string", default: "8080" },
  },
});

const running = bringUp(
  parseStackFlags({ tap: values.tap, ip: values.ip, hostIp: values["host-ip"] }),
);
let requests = 0;
const http = serveHttp(running.stack.listen({ port: Number(values.port) }), (request, response) => {
  requests++;
  response.setHeader("content-type", "text/plain");
  response.end(`hello from gonet: ${request.method} ${request.url}, request ${requests}\n`);
});
console.log(`serving http://${values.ip!.split("/")[0]}:${values.port}/ on ${values.tap}`);
await new Promise<void>((resolve) => {
  Deno.addSignalListener("SIGINT", resolve);
  Deno.addSignalListener("SIGTERM", resolve);
});
await http.close();
await running.close();
