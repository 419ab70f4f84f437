/**
 * The `gonet` executable: parses the command line with commander, runs one subcommand, and maps
 * every outcome to an exit code: the command's own (0/1), 2 for bad arguments and setup errors,
 * each reported on one line of stderr. The only place besides `cli/commands` that prints.
 * @module
 */

import { Command, CommanderError } from "commander";
import { arpCommand } from "./commands/arp.ts";
import { pingCommand } from "./commands/ping.ts";
import type { CommandRunner } from "./commands/runner.ts";
import { statsCommand } from "./commands/stats.ts";
import { tcpCommand } from "./commands/tcp.ts";
import { udpCommand } from "./commands/udp.ts";
import { upCommand } from "./commands/up.ts";
import { ExitCode } from "./usage_error.ts";

/** The version printed by `gonet --version`. */
export const VERSION = "0.1.0";

/** Runs the CLI with `args` and resolves with the exit code. */
export async function main(args: string[]): Promise<number> {
  let exitCode: number = ExitCode.Ok;
  const run: CommandRunner = async (body) => {
    try {
      exitCode = await body();
    } catch (error) {
      const e = error as Error;
      console.error(`gonet: ${e.message}`);
      exitCode = e.name === "UsageError" ? ExitCode.Usage : setupOrRuntimeExit(e);
    }
  };
  const program = new Command("gonet")
    .description("a user-space TCP/IP stack on a TAP device, in the CSP style of GoNet")
    .version(VERSION)
    .exitOverride()
    .configureOutput({
      outputError: (text, write) => write(text.trimEnd().replace(/\n+/g, " ") + "\n"),
    })
    .showSuggestionAfterError(false);
  for (const build of [upCommand, pingCommand, arpCommand, udpCommand, tcpCommand, statsCommand]) {
    program.addCommand(build(run));
  }
  // Subcommands added with addCommand do not inherit exitOverride; apply it to the whole tree.
  const applyExitOverride = (command: Command) => {
    command.exitOverride();
    command.configureOutput({
      outputError: (text, write) => write(text.trimEnd().replace(/\n+/g, " ") + "\n"),
    });
    for (const sub of command.commands) applyExitOverride(sub);
  };
  applyExitOverride(program);
  try {
    await program.parseAsync(args, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      const informational = ["commander.helpDisplayed", "commander.version", "commander.help"];
      return informational.includes(error.code) ? ExitCode.Ok : ExitCode.Usage;
    }
    throw error;
  }
  return exitCode;
}

/** Setup failures (TAP, permissions, bad addresses) exit 2; network outcomes exit 1. */
function setupOrRuntimeExit(error: Error): number {
  const setup = [
    "ErrnoError",
    "PermissionDenied",
    "AddrInUse",
    "AddrNotAvailable",
    "TypeError",
    "RangeError",
    "NotFound",
  ];
  return setup.includes(error.name) ? ExitCode.Usage : ExitCode.Failure;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
