import assert from "node:assert/strict";
import { eventLoopPollFds } from "./event_loop_fds.ts";

/** The fd numbers an epoll instance watches, from its fdinfo (`tfd: N events: ...` lines). */
function watchedFds(epollFd: number): number[] {
  return Deno.readTextFileSync(`/proc/self/fdinfo/${epollFd}`).split("\n")
    .map((line) => /^tfd:\s+(\d+)/.exec(line))
    .filter((match) => match !== null)
    .map((match) => Number(match![1]));
}

/** This process's open socket fds. */
function socketFds(): Set<number> {
  const fds = new Set<number>();
  for (const entry of Deno.readDirSync("/proc/self/fd")) {
    try {
      if (Deno.readLinkSync(`/proc/self/fd/${entry.name}`).startsWith("socket:")) {
        fds.add(Number(entry.name));
      }
    } catch {
      // Closed meanwhile.
    }
  }
  return fds;
}

Deno.test("event loop fds: Deno's epoll instance, which watches the sockets Deno opens", async () => {
  const fds = eventLoopPollFds();
  assert.ok(fds.length >= 1, "a Deno process has an event loop");
  for (const fd of fds) {
    assert.equal(Deno.readLinkSync(`/proc/self/fd/${fd}`), "anon_inode:[eventpoll]");
  }
  const dir = await Deno.makeTempDir({ prefix: "gonet-loopfds-" });
  const before = socketFds();
  const listener = Deno.listen({ transport: "unix", path: `${dir}/s.sock` });
  try {
    const added = [...socketFds()].filter((fd) => !before.has(fd));
    assert.equal(added.length, 1, "the listener's socket");
    // The assumption inline waiting rests on: a socket Deno waits for is in one of these epolls.
    assert.ok(fds.some((epollFd) => watchedFds(epollFd).includes(added[0])));
  } finally {
    listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});
