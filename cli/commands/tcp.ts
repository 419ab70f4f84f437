/**
 * `gonet tcp connect DEST PORT` and `gonet tcp listen PORT`, in the manner of `nc`: stdin goes to
 * the peer and the peer to stdout; stdin's end half-closes the connection; the command ends when
 * the peer closes. Refused, reset and timed-out connections print one line and exit 1.
 * @module
 */

import { Command } from "commander";
import { openSession } from "../open_session.ts";
import type { ByteStream } from "../session.ts";
import {
  addStackFlags,
  parseAddressArg,
  parseIntegerFlag,
  type StackFlagValues,
} from "../stack_flags.ts";
import { UsageError } from "../usage_error.ts";
import type { CommandRunner } from "./runner.ts";

interface ListenFlags extends StackFlagValues {
  echo?: boolean;
  discard?: boolean;
  once?: boolean;
}

/** Builds the `tcp` command with `connect` and `listen`. */
export function tcpCommand(run: CommandRunner): Command {
  const tcp = new Command("tcp").description("open or accept TCP connections (like nc)");
  tcp.addCommand(
    addStackFlags(new Command("connect"))
      .description("connect; stdin to the peer, the peer to stdout")
      .argument("<dest>", "destination IPv4 address")
      .argument("<port>", "destination port")
      .action((dest: string, port: string, flags: StackFlagValues) =>
        run(() => connect(dest, port, flags))
      ),
  );
  tcp.addCommand(
    addStackFlags(new Command("listen"))
      .description("accept connections: one at a time with stdio, or many with --echo/--discard")
      .argument("<port>", "local port")
      .option("--echo", "send every byte back (many connections at once)")
      .option("--discard", "read and drop everything (many connections at once)")
      .option("--once", "exit after the first connection ends")
      .action((port: string, flags: ListenFlags) => run(() => listen(port, flags))),
  );
  return tcp;
}

/** Copies stdin to the stream, then half-closes it. */
async function pumpStdin(
  stream: ByteStream,
  stdin: ReadableStreamDefaultReader<Uint8Array>,
): Promise<void> {
  for (;;) {
    const { value, done } = await stdin.read();
    if (done) break;
    await stream.write(value);
  }
  await stream.closeWrite();
}

/** Failures that end a connection abnormally (as opposed to our own side closing). */
function isConnectionFailure(error: Error): boolean {
  return ["ConnectionReset", "ConnectionAborted", "TimedOut"].includes(error.name);
}

/**
 * When the peer has closed, a connection still ends gracefully if stdin is a pipe or a file: what
 * is left of it is sent before the FIN. From a terminal, like `nc`, the command ends at once.
 */
async function finishSending(sending: Promise<unknown>): Promise<void> {
  if (!Deno.stdin.isTerminal()) await sending;
}

/** Copies the stream to stdout until the peer closes; throws on reset. Returns bytes copied. */
async function pumpToStdout(stream: ByteStream): Promise<number> {
  let total = 0;
  for await (const chunk of stream.readable) {
    total += chunk.length;
    let offset = 0;
    while (offset < chunk.length) offset += await Deno.stdout.write(chunk.subarray(offset));
  }
  return total;
}

async function connect(dest: string, portText: string, flags: StackFlagValues): Promise<number> {
  parseAddressArg("destination", dest);
  const port = parseIntegerFlag("PORT", portText, 1, 65535);
  const session = await openSession(flags);
  try {
    let stream: ByteStream;
    try {
      stream = await session.tcpConnect(dest, port);
    } catch (error) {
      console.error(`gonet tcp connect: ${dest}:${port}: ${(error as Error).message}`);
      return 1;
    }
    const stdin = Deno.stdin.readable.getReader();
    let sendError: Error | undefined;
    const sending = pumpStdin(stream, stdin).catch((error: Error) => sendError = error);
    try {
      await pumpToStdout(stream);
      await finishSending(sending);
      if (sendError && isConnectionFailure(sendError)) throw sendError;
      return 0;
    } catch (error) {
      console.error(`gonet tcp connect: ${dest}:${port}: ${(error as Error).message}`);
      return 1;
    } finally {
      stream.close();
      stdin.releaseLock();
    }
  } finally {
    await session.close();
  }
}

async function listen(portText: string, flags: ListenFlags): Promise<number> {
  const port = parseIntegerFlag("PORT", portText, 1, 65535);
  if (flags.echo && flags.discard) throw new UsageError("choose one of --echo and --discard");
  const session = await openSession(flags);
  try {
    const listener = await session.tcpListen(port);
    // Like `nc -lv`: scripts can wait for this line before connecting.
    console.error(`listening on port ${port}`);
    const stop = () => void listener.close();
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
    try {
      if (flags.echo || flags.discard) await serveMany(listener, flags);
      else await serveStdio(listener, flags.once ?? false);
      return 0;
    } finally {
      Deno.removeSignalListener("SIGINT", stop);
      Deno.removeSignalListener("SIGTERM", stop);
      await listener.close();
    }
  } finally {
    await session.close();
  }
}

/** Accepts one connection at a time and joins it to stdin/stdout, like `nc -l`. */
async function serveStdio(
  listener: { accept(): Promise<ByteStream> },
  once: boolean,
): Promise<void> {
  const stdin = Deno.stdin.readable.getReader();
  let stdinDone = false;
  for (;;) {
    let stream: ByteStream;
    try {
      stream = await listener.accept();
    } catch {
      return; // listener closed by a signal
    }
    console.error(`${stream.remote} connected`);
    const sending = stdinDone
      ? stream.closeWrite().catch(() => {})
      : pumpStdin(stream, stdin).then(() => stdinDone = true, () => {});
    try {
      const bytes = await pumpToStdout(stream);
      await finishSending(sending);
      console.error(`${stream.remote} closed, ${bytes} bytes`);
    } catch (error) {
      console.error(`${stream.remote} ${(error as Error).message}`);
    } finally {
      stream.close();
    }
    if (once) return;
  }
}

/** Serves many connections at once, echoing or discarding. */
async function serveMany(
  listener: { accept(): Promise<ByteStream> },
  flags: ListenFlags,
): Promise<void> {
  let firstDone: () => void = () => {};
  const first = new Promise<void>((resolve) => firstDone = resolve);
  const serveOne = async (stream: ByteStream) => {
    let bytes = 0;
    try {
      for await (const chunk of stream.readable) {
        bytes += chunk.length;
        if (flags.echo) await stream.write(chunk);
      }
      await stream.closeWrite();
      console.error(`${stream.remote} closed, ${bytes} bytes`);
    } catch (error) {
      console.error(`${stream.remote} ${(error as Error).message}`);
    } finally {
      stream.close();
      firstDone();
    }
  };
  const accepting = (async () => {
    for (;;) {
      let stream: ByteStream;
      try {
        stream = await listener.accept();
      } catch {
        return;
      }
      console.error(`${stream.remote} connected`);
      serveOne(stream);
    }
  })();
  if (flags.once) await first;
  else await accepting;
}
