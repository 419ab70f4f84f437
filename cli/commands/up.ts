/**
 * `gonet up`: brings a stack up on a TAP, serves the control socket, and runs until SIGINT or
 * SIGTERM, then removes everything it created.
 * @module
 */

import { Command } from "commander";
import { currentNetnsId } from "../../ffi/netns.ts";
import { formatIpv4, formatIpv4Cidr, formatMac } from "../../stack/wire/addr.ts";
import { bringUp } from "../bringup.ts";
import { controlSocketPath } from "../control/protocol.ts";
import { startControlServer } from "../control/server.ts";
import { InProcessSession } from "../in_process_session.ts";
import { addStackFlags, parseStackFlags, type StackFlagValues } from "../stack_flags.ts";
import type { CommandRunner } from "./runner.ts";

/** Builds the `up` command. */
export function upCommand(run: CommandRunner): Command {
  return addStackFlags(new Command("up"))
    .description("bring a stack up on a TAP device and serve it until SIGINT/SIGTERM")
    .action((flags: StackFlagValues) => run(() => up(flags)));
}

async function up(flags: StackFlagValues): Promise<number> {
  const config = parseStackFlags(flags);
  const running = bringUp(config);
  const stack = running.stack;
  let server;
  try {
    server = await startControlServer(
      controlSocketPath(stack.link.name, currentNetnsId()),
      () => new InProcessSession(stack),
    );
  } catch (error) {
    await running.close();
    throw error;
  }
  const stopped = new Promise<string>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      Deno.addSignalListener(signal, () => resolve(signal));
    }
  });
  const host = config.hostIp ? ` host ${formatIpv4Cidr(config.hostIp)}` : "";
  const gateway = config.gateway === undefined ? "" : ` gateway ${formatIpv4(config.gateway)}`;
  console.log(
    `gonet up: ${stack.link.name} ${formatIpv4Cidr(stack.address)} mac ${
      formatMac(stack.mac)
    } mtu ${stack.link.mtu}${host}${gateway} control ${server.path}`,
  );
  const signal = await stopped;
  await server.close();
  await running.close();
  console.error(`gonet up: ${signal}, ${stack.link.name} removed`);
  return 0;
}
