import assert from "node:assert/strict";
import { measuredAlone } from "./latency.ts";
import type { Side } from "./context.ts";
import type { Namespace } from "../netns.ts";

/** Whether process `pid` is stopped (state `T` in /proc; a resumed one may still be `R`). */
function stopped(pid: number): boolean {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // The command name in parentheses may hold spaces: the state follows the closing one.
  return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "T";
}

/** A side whose responder is a `sleep` child of this test. */
function sleeperSide(stack: string): Side {
  const child = new Deno.Command("sleep", { args: ["30"], stdout: "null", stderr: "null" }).spawn();
  return { stack, clientNs: {} as Namespace, serverIp: "10.0.0.2", responder: child };
}

Deno.test("exp1: the other responders are stopped while one side is measured, then go on", async () => {
  const sides = [sleeperSide("a"), sleeperSide("b"), sleeperSide("c"), {
    stack: "target",
    clientNs: {} as Namespace,
    serverIp: "10.9.9.9",
  }];
  const pid = (i: number) => sides[i].responder!.pid;
  try {
    const during = await measuredAlone(sides, sides[1], () => {
      return Promise.resolve([0, 1, 2].map((i) => stopped(pid(i))));
    });
    assert.deepEqual(during, [true, false, true]);
    assert.deepEqual([0, 1, 2].map((i) => stopped(pid(i))), [false, false, false]);
    // A measurement that fails lets them go on too.
    await assert.rejects(
      measuredAlone(sides, sides[0], () => Promise.reject(new Error("ping failed"))),
      /ping failed/,
    );
    assert.deepEqual([0, 1, 2].map((i) => stopped(pid(i))), [false, false, false]);
  } finally {
    for (const side of sides) {
      side.responder?.kill("SIGKILL");
      await side.responder?.status;
    }
  }
});
