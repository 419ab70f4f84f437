import assert from "node:assert/strict";
import { gonetV8FlagsArg } from "./v8_flags.ts";

const DENO_JSON = new URL("../deno.json", import.meta.url);

Deno.test("gonetV8FlagsArg joins gonet's flags and the extra ones into one --v8-flags", () => {
  assert.equal(
    gonetV8FlagsArg(["--expose-gc"]),
    "--v8-flags=--invocation-count-for-turbofan=100,--expose-gc",
  );
  assert.equal(gonetV8FlagsArg(), "--v8-flags=--invocation-count-for-turbofan=100");
});

Deno.test("the gonet and compile tasks of deno.json run with gonet's V8 flags", async () => {
  const { tasks } = JSON.parse(await Deno.readTextFile(DENO_JSON));
  for (const name of ["gonet", "compile"]) {
    const words: string[] = tasks[name].split(/\s+/);
    assert.ok(words.includes(gonetV8FlagsArg()), `task ${name}: ${tasks[name]}`);
  }
});

Deno.test("V8 accepts gonet's flags: a deno run with them starts and exits cleanly", async () => {
  // Deno refuses to start (exit 1, "V8 did not recognize flag") on a flag this V8 lacks, as
  // after a V8 upgrade that renamed it.
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", gonetV8FlagsArg(), "console.log('ran')"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  assert.equal(new TextDecoder().decode(output.stdout), "ran\n");
  assert.equal(stderr, "");
});
