/**
 * `gonet udp send DEST PORT [MESSAGE]` and `gonet udp listen PORT`. Payloads go to stdout exactly
 * as received; one line per datagram `FROM_ADDR:PORT LEN bytes` goes to stderr.
 * @module
 */

import { Command } from "commander";
import { openSession } from "../open_session.ts";
import {
  addStackFlags,
  parseAddressArg,
  parseIntegerFlag,
  type StackFlagValues,
} from "../stack_flags.ts";
import type { CommandRunner } from "./runner.ts";

interface SendFlags extends StackFlagValues {
  srcPort?: string;
}

interface ListenFlags extends StackFlagValues {
  count?: string;
  echo?: boolean;
}

/** Builds the `udp` command with `send` and `listen`. */
export function udpCommand(run: CommandRunner): Command {
  const udp = new Command("udp").description("send or receive UDP datagrams");
  udp.addCommand(
    addStackFlags(new Command("send"))
      .description("send MESSAGE (or all of stdin) as one datagram")
      .argument("<dest>", "destination IPv4 address")
      .argument("<port>", "destination port")
      .argument("[message]", "payload; stdin when absent")
      .option("--src-port <n>", "source port (default: ephemeral)")
      .action((dest: string, port: string, message: string | undefined, flags: SendFlags) =>
        run(() => send(dest, port, message, flags))
      ),
  );
  udp.addCommand(
    addStackFlags(new Command("listen"))
      .description("print received payloads to stdout, one line per datagram to stderr")
      .argument("<port>", "local port")
      .option("--count <n>", "exit after n datagrams")
      .option("--echo", "send each datagram back to its sender")
      .action((port: string, flags: ListenFlags) => run(() => listen(port, flags))),
  );
  return udp;
}

async function send(
  dest: string,
  portText: string,
  message: string | undefined,
  flags: SendFlags,
): Promise<number> {
  parseAddressArg("destination", dest);
  const port = parseIntegerFlag("PORT", portText, 1, 65535);
  const sourcePort = flags.srcPort === undefined
    ? undefined
    : parseIntegerFlag("--src-port", flags.srcPort, 1, 65535);
  const payload = message !== undefined
    ? new TextEncoder().encode(message)
    : new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer());
  if (payload.length > 65507) {
    console.error(`gonet udp send: ${payload.length} bytes exceed the UDP maximum of 65507`);
    return 2;
  }
  const session = await openSession(flags);
  try {
    await session.udpSend(dest, port, payload, sourcePort);
    return 0;
  } finally {
    await session.close();
  }
}

async function listen(portText: string, flags: ListenFlags): Promise<number> {
  const port = parseIntegerFlag("PORT", portText, 1, 65535);
  const count = flags.count === undefined
    ? Infinity
    : parseIntegerFlag("--count", flags.count, 1, 2 ** 31);
  const session = await openSession(flags);
  try {
    const listener = await session.udpListen(port);
    const stop = () => void listener.close();
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
    let received = 0;
    for await (const datagram of listener.datagrams()) {
      let offset = 0;
      while (offset < datagram.data.length) {
        offset += await Deno.stdout.write(datagram.data.subarray(offset));
      }
      console.error(`${datagram.hostname}:${datagram.port} ${datagram.data.length} bytes`);
      if (flags.echo) await listener.send(datagram.data, datagram.hostname, datagram.port);
      if (++received >= count) break;
    }
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
    await listener.close();
    return 0;
  } finally {
    await session.close();
  }
}
