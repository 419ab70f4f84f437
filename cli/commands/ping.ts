/**
 * `gonet ping DEST`: ICMP echo with iputils-compatible output and exit codes (0 when a reply came,
 * 1 when none, 2 on usage or setup errors). Requests go out every interval without waiting for
 * replies, so many can be in flight, each matched by identifier and sequence.
 * @module
 */

import { Command } from "commander";
import { openSession } from "../open_session.ts";
import {
  addStackFlags,
  parseAddressArg,
  parseIntegerFlag,
  parseSecondsFlag,
  type StackFlagValues,
} from "../stack_flags.ts";
import type { CommandRunner } from "./runner.ts";
import { describeIcmpError, formatRtt, PingSummary } from "./ping_format.ts";
import type { EchoResult } from "../../stack/icmp/layer.ts";
import { formatIpv4 } from "../../stack/wire/addr.ts";

interface PingFlags extends StackFlagValues {
  count?: string;
  interval: string;
  size: string;
  timeout: string;
  quiet?: boolean;
  json?: boolean;
}

/** Builds the `ping` command. */
export function pingCommand(run: CommandRunner): Command {
  return addStackFlags(new Command("ping"))
    .description("send ICMP echo requests (output as iputils ping)")
    .argument("<dest>", "destination IPv4 address")
    .option("-c, --count <n>", "stop after n requests")
    .option("-i, --interval <seconds>", "seconds between requests", "1")
    .option("-s, --size <bytes>", "echo data bytes", "56")
    .option("-W, --timeout <seconds>", "seconds to wait for each reply", "10")
    .option("-q, --quiet", "print only the summary")
    .option("--json", "print one JSON object with the results instead")
    .action((dest: string, flags: PingFlags) => run(() => ping(dest, flags)));
}

async function ping(dest: string, flags: PingFlags): Promise<number> {
  parseAddressArg("destination", dest);
  const count = flags.count === undefined
    ? Infinity
    : parseIntegerFlag("-c", flags.count, 1, 2 ** 31);
  const intervalMs = parseSecondsFlag("-i", flags.interval, 0.002) * 1000;
  const dataBytes = parseIntegerFlag("-s", flags.size, 0, 65507);
  const timeoutMs = parseSecondsFlag("-W", flags.timeout, 0.001) * 1000;
  const session = await openSession(flags);
  const write = (line: string) => {
    if (!flags.quiet && !flags.json) console.log(line);
  };
  try {
    const identifier = await session.allocatePingIdentifier();
    const summary = new PingSummary();
    const replies: { seq: number; ttl: number; timeMs: number; bytes: number }[] = [];
    write(`PING ${dest} (${dest}) ${dataBytes}(${dataBytes + 28}) bytes of data.`);
    let interrupted = false;
    let wakeSleep: (() => void) | undefined;
    let wakeWait: (() => void) | undefined;
    // Like iputils: Ctrl-C stops sending and prints the summary without waiting for stragglers.
    const interrupt = () => {
      interrupted = true;
      wakeSleep?.();
      wakeWait?.();
    };
    Deno.addSignalListener("SIGINT", interrupt);
    const startedAt = performance.now();
    const inFlight: Promise<void>[] = [];
    const onResult = (sequence: number, result: EchoResult) => {
      if (result.kind === "reply") {
        const r = result.reply;
        summary.addReply(r.rttMs);
        replies.push({ seq: sequence, ttl: r.ttl, timeMs: r.rttMs, bytes: r.bytes });
        const wrong = r.dataMatches ? "" : " (wrong data)";
        write(
          `${r.bytes} bytes from ${dest}: icmp_seq=${sequence} ttl=${r.ttl} time=${
            formatRtt(r.rttMs)
          } ms${wrong}`,
        );
      } else if (result.kind === "error") {
        summary.errors++;
        const reporter = formatIpv4(result.reporter);
        write(
          `From ${reporter} icmp_seq=${sequence} ${describeIcmpError(result.type, result.code)}`,
        );
      } else if (result.kind === "not-sent") {
        write(`ping: sendmsg: ${result.reason}`);
      }
    };
    for (let sequence = 1; sequence <= count && !interrupted; sequence++) {
      summary.transmitted++;
      inFlight.push(
        session.ping({
          destination: dest,
          identifier,
          sequence: sequence & 0xffff,
          dataBytes,
          timeoutMs,
        })
          .then((result) => onResult(sequence, result)),
      );
      if (sequence < count) {
        await new Promise<void>((resolve) => {
          const id = setTimeout(resolve, intervalMs);
          wakeSleep = () => {
            clearTimeout(id);
            resolve();
          };
        });
      }
    }
    if (!interrupted) {
      await Promise.race([Promise.all(inFlight), new Promise<void>((r) => wakeWait = r)]);
    }
    Deno.removeSignalListener("SIGINT", interrupt);
    const elapsedMs = performance.now() - startedAt;
    if (flags.json) {
      console.log(JSON.stringify({
        destination: dest,
        transmitted: summary.transmitted,
        received: summary.received,
        errors: summary.errors,
        lossPercent: summary.lossPercent,
        timeMs: Math.round(elapsedMs),
        rtt: summary.rttStats() ?? null,
        replies,
      }));
    } else {
      for (const line of summary.lines(dest, elapsedMs)) console.log(line);
    }
    return summary.received > 0 ? 0 : 1;
  } finally {
    await session.close();
  }
}
