import assert from "node:assert/strict";
import { eventLoopPollFds } from "./event_loop_fds.ts";

/** The fd numbers an epoll instance watches, from its fdinfo (`tfd: N events: ...` lines). */
function watchedFds(epollFd: number): number[] {
  return Deno.readTextFileSync(`/proc/self/fdinfo/${epollFd}`).split("\n")
    .map((line) => /^tfd:\s+(\d+)/.exec(line))
    .filter((match) => match !== null)
    .map((match) => Number(match![1]));
}

/**
 * The fd of this process's Unix socket bound to `path`: its inode from /proc/net/unix, then the
 * fd linking to that inode. Other sockets opened meanwhile (by what earlier tests left running)
 * cannot be mistaken for it.
 */
function unixSocketFd(path: string): number | undefined {
  const line = Deno.readTextFileSync("/proc/net/unix").split("\n")
    .find((l) => l.trimEnd().endsWith(` ${path}`));
  if (line === undefined) return undefined;
  // Num RefCount Protocol Flags Type St Inode Path
  const inode = line.trim().split(/\s+/)[6];
  for (const entry of Deno.readDirSync("/proc/self/fd")) {
    try {
      if (Deno.readLinkSync(`/proc/self/fd/${entry.name}`) === `socket:[${inode}]`) {
        return Number(entry.name);
      }
    } catch {
      // Closed meanwhile.
    }
  }
  return undefined;
}

Deno.test("event loop fds: Deno's epoll instance, which watches the sockets Deno opens", async () => {
  const fds = eventLoopPollFds();
  assert.ok(fds.length >= 1, "a Deno process has an event loop");
  for (const fd of fds) {
    assert.equal(Deno.readLinkSync(`/proc/self/fd/${fd}`), "anon_inode:[eventpoll]");
  }
  const dir = await Deno.makeTempDir({ prefix: "gonet-loopfds-" });
  const path = `${dir}/s.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  try {
    const socket = unixSocketFd(path);
    assert.ok(socket !== undefined, "the listener's socket");
    // The assumption inline waiting rests on: a socket Deno waits for is in one of these epolls.
    assert.ok(fds.some((epollFd) => watchedFds(epollFd).includes(socket)));
  } finally {
    listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});
