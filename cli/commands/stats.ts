/**
 * `gonet stats [--json]`: the counters of every layer, in the spirit of `netstat -s`.
 * @module
 */

import { Command } from "commander";
import { openSession } from "../open_session.ts";
import { addStackFlags, type StackFlagValues } from "../stack_flags.ts";
import type { CommandRunner } from "./runner.ts";

interface StatsFlags extends StackFlagValues {
  json?: boolean;
}

/** Builds the `stats` command. */
export function statsCommand(run: CommandRunner): Command {
  return addStackFlags(new Command("stats"))
    .description("print per-layer counters of the running stack")
    .option("--json", "print JSON")
    .action((flags: StatsFlags) => run(() => stats(flags)));
}

async function stats(flags: StatsFlags): Promise<number> {
  const session = await openSession(flags);
  try {
    const snapshot = await session.stats();
    if (flags.json) {
      console.log(JSON.stringify(snapshot));
      return 0;
    }
    for (const [layer, counters] of Object.entries(snapshot)) {
      console.log(`${layer}:`);
      printCounters(counters as Record<string, unknown>, "    ");
    }
    return 0;
  } finally {
    await session.close();
  }
}

function printCounters(counters: Record<string, unknown>, indent: string): void {
  for (const [name, value] of Object.entries(counters)) {
    if (value !== null && typeof value === "object") {
      const entries = Object.entries(value as Record<string, unknown>);
      if (entries.length === 0) continue;
      console.log(`${indent}${name}:`);
      printCounters(value as Record<string, unknown>, indent + "    ");
    } else {
      console.log(`${indent}${name}: ${value}`);
    }
  }
}
