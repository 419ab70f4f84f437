import assert from "node:assert/strict";
import { LineProcess } from "./netns.ts";

Deno.test("a command to a server that has exited fails with its exit status and last stderr", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "console.error('out of cheese'); Deno.exit(3)"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const server = new LineProcess(child, "test server");
  await child.status;
  // Its stdout ends too: the reader sees the end before the command is sent.
  await assert.rejects(server.next(5_000), /test server exited/);
  await assert.rejects(
    server.request({ op: "stats" }, 5_000),
    /test server does not take commands \(.*; exit 3\); stderr: out of cheese/,
  );
});
