/**
 * How a subcommand finds its stack: the `gonet up` serving this TAP in this network namespace if
 * there is one, otherwise a stack of its own brought up for the command's duration.
 * @module
 */

import { currentNetnsId } from "../ffi/netns.ts";
import { bringUp } from "./bringup.ts";
import { connectControl } from "./control/client.ts";
import { controlSocketPath } from "./control/protocol.ts";
import { InProcessSession } from "./in_process_session.ts";
import type { StackSession } from "./session.ts";
import { parseStackFlags, type StackFlagValues } from "./stack_flags.ts";

/** Opens a session on the stack of `flags.tap`. Flag errors throw `UsageError`. */
export async function openSession(flags: StackFlagValues): Promise<StackSession> {
  const config = parseStackFlags(flags);
  const remote = await connectControl(controlSocketPath(config.tap, currentNetnsId()));
  if (remote) return remote;
  const running = bringUp(config);
  return new InProcessSession(running.stack, () => running.close());
}
