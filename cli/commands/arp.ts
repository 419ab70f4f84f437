/**
 * `gonet arp [show]` lists the ARP cache; `gonet arp resolve ADDR` prints the MAC of ADDR (exit 1
 * when nobody answers).
 * @module
 */

import { Command } from "commander";
import { openSession } from "../open_session.ts";
import { addStackFlags, parseAddressArg, type StackFlagValues } from "../stack_flags.ts";
import type { CommandRunner } from "./runner.ts";

interface ArpFlags extends StackFlagValues {
  json?: boolean;
}

/** Builds the `arp` command with its `show` (default) and `resolve` subcommands. */
export function arpCommand(run: CommandRunner): Command {
  const arp = new Command("arp").description("show the ARP cache or resolve an address");
  arp.addCommand(
    addStackFlags(new Command("show"))
      .description("list the ARP cache (address, MAC, state, age)")
      .option("--json", "print JSON")
      .action((flags: ArpFlags) => run(() => show(flags))),
    { isDefault: true },
  );
  arp.addCommand(
    addStackFlags(new Command("resolve"))
      .description("print the MAC of an address, asking the network if needed")
      .argument("<addr>", "IPv4 address")
      .option("--json", "print JSON")
      .action((addr: string, flags: ArpFlags) => run(() => resolve(addr, flags))),
  );
  return arp;
}

async function show(flags: ArpFlags): Promise<number> {
  const session = await openSession(flags);
  try {
    const rows = await session.arpEntries();
    if (flags.json) {
      console.log(JSON.stringify(rows));
      return 0;
    }
    console.log(`${"ADDRESS".padEnd(16)} ${"MAC".padEnd(17)} ${"STATE".padEnd(9)} AGE`);
    for (const row of rows) {
      const age = `${(row.ageMs / 1000).toFixed(1)}s`;
      console.log(`${row.address.padEnd(16)} ${row.mac.padEnd(17)} ${row.state.padEnd(9)} ${age}`);
    }
    return 0;
  } finally {
    await session.close();
  }
}

async function resolve(addr: string, flags: ArpFlags): Promise<number> {
  parseAddressArg("address", addr);
  const session = await openSession(flags);
  try {
    const mac = await session.arpResolve(addr);
    if (flags.json) console.log(JSON.stringify({ address: addr, mac: mac ?? null }));
    else if (mac) console.log(mac);
    else console.error(`gonet arp: ${addr}: no ARP reply`);
    return mac ? 0 : 1;
  } finally {
    await session.close();
  }
}
