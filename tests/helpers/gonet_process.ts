/**
 * Runs the `gonet` CLI from source inside a test namespace: one-shot commands, and a `gonet up`
 * kept running in the background until the test stops it.
 * @module
 */

import type { RunOptions, RunResult, TestNamespace } from "./netns.ts";
import { OutputWatcher } from "./output_watcher.ts";
import { gonetV8FlagsArg } from "../../cli/v8_flags.ts";

const CLI = new URL("../../cli/main.ts", import.meta.url).pathname;

/** The argv that runs `gonet ARGS` from source, as the `gonet` task does. */
export function gonetArgv(args: string[]): string[] {
  return [Deno.execPath(), "run", "-A", "--unstable-net", gonetV8FlagsArg(), CLI, ...args];
}

/** Runs `gonet ARGS` inside `ns` and collects its output. */
export function gonet(ns: TestNamespace, args: string[], options?: RunOptions): Promise<RunResult> {
  return ns.run(gonetArgv(args), options);
}

/** A `gonet up` running in the background. */
export interface GonetUp {
  /** Its PID (`ip netns exec` execs the program, so this is the CLI's own). */
  readonly pid: number;
  /** The line `gonet up` printed when ready. */
  readonly readyLine: string;
  /** The stack's MAC, from the ready line. */
  readonly mac: string;
  /** Sends SIGTERM and waits for the exit status and the rest of stderr. */
  stop(): Promise<{ code: number; stderr: string }>;
  /** Kills the process with SIGKILL (no clean-up runs) and waits for it to end. */
  kill(): Promise<void>;
}

/** Starts `gonet up ARGS` in `ns` and waits (at most `timeoutMs`) for its ready line. */
export async function startGonetUp(
  ns: TestNamespace,
  args: string[] = [],
  timeoutMs = 15_000,
): Promise<GonetUp> {
  const child = ns.spawn(gonetArgv(["up", ...args]), {
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const stderrText = new Response(child.stderr).text();
  const stdout = new OutputWatcher(child.stdout);
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  try {
    if (!(await stdout.until("\n"))) {
      throw new Error(`gonet up exited before it was ready: ${await stderrText}`);
    }
  } finally {
    clearTimeout(timer);
  }
  const readyLine = stdout.text.slice(0, stdout.text.indexOf("\n"));
  const mac = / mac ([0-9a-f:]{17}) /.exec(readyLine)?.[1] ?? "";
  // Keep draining stdout so the child never blocks on a full pipe.
  const drained = stdout.rest();
  return {
    pid: child.pid,
    readyLine,
    mac,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      const status = await child.status;
      await drained;
      return { code: status.code, stderr: await stderrText };
    },
    async kill() {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await child.status;
      await drained;
      await stderrText;
    },
  };
}
