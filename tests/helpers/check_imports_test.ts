import assert from "node:assert/strict";
import {
  checkImports,
  checkSources,
  type ImportRef,
  isTestFile,
  resolveSpecifier,
  scanImports,
} from "./check_imports.ts";

const ref = (
  specifier: string,
  line: number,
  kind: ImportRef["kind"] = "import",
  typeOnly = false,
): ImportRef => ({ specifier, line, kind, typeOnly });

Deno.test("scanImports: static, type, side-effect, dynamic imports and re-exports", () => {
  const source = [
    `import a from "./a.ts";`, // 1
    `import { b, c as d } from './b.ts'`, // 2
    `import type { E } from "./e.ts";`, // 3
    `import { type F, type G as H } from "./f.ts";`, // 4
    `import { type I, J } from "./i.ts";`, // 5
    `import K, { type L } from "./k.ts";`, // 6
    `import * as ns from "./ns.ts";`, // 7
    `import "./side.ts";`, // 8
    `import {`, // 9
    `  M,`,
    `  N,`,
    `} from "./multi.ts";`,
    `export { x } from "./x.ts";`, // 13
    `export type { Y } from "./y.ts";`, // 14
    `export * from "./all.ts";`, // 15
    `export * as spaced from "./spaced.ts";`, // 16
    `export { type Z } from "./z.ts";`, // 17
    `export { local };`, // 18: not a re-export
    `export const q = 1;`, // 19
    `const m = await import("./lazy.ts");`, // 20
    `type T = import("./typed.ts").Foo;`, // 21
    `import {} from "./empty.ts";`, // 22
  ].join("\n");
  assert.deepEqual(scanImports(source), [
    ref("./a.ts", 1),
    ref("./b.ts", 2),
    ref("./e.ts", 3, "import", true),
    ref("./f.ts", 4, "import", true),
    ref("./i.ts", 5),
    ref("./k.ts", 6),
    ref("./ns.ts", 7),
    ref("./side.ts", 8),
    ref("./multi.ts", 9),
    ref("./x.ts", 13, "reexport"),
    ref("./y.ts", 14, "reexport", true),
    ref("./all.ts", 15, "reexport"),
    ref("./spaced.ts", 16, "reexport"),
    ref("./z.ts", 17, "reexport", true),
    ref("./lazy.ts", 20, "dynamic"),
    ref("./typed.ts", 21, "dynamic", true),
    ref("./empty.ts", 22),
  ]);
});

Deno.test("scanImports: ignores comments, strings, templates, regexes and member names", () => {
  const source = [
    "/**",
    " * @example",
    " * ```ts",
    ' * import { Channel } from "./in_jsdoc.ts";',
    " * ```",
    " */",
    '// import x from "./in_line_comment.ts";',
    "const s = 'import y from \"./in_string.ts\"';",
    'const t = `import z from "./in_template.ts" ${"nested"} and ${`inner ${1}`}`;',
    'const re = /import w from "\\.\\/in_regex.ts"/;',
    "const o = { import: 1 }; o.import;",
    "const meta = import.meta.url;",
    "const half = 10 / 2; const again = half / 5;",
    'import { real } from "./real.ts";', // line 14
  ].join("\n");
  assert.deepEqual(scanImports(source), [ref("./real.ts", 14)]);
});

Deno.test("scanImports: a template literal with nested braces does not confuse what follows", () => {
  const source = [
    "const a = `${{ k: { n: 1 } }.k.n} } {`;",
    "function f() { return `${f}`; }",
    'import { after } from "./after.ts";',
  ].join("\n");
  assert.deepEqual(scanImports(source), [ref("./after.ts", 3)]);
});

Deno.test("resolveSpecifier: relative paths, import map, packages", () => {
  const map = { "commander": "npm:commander@14.0.2", "@/": "./", "@wire": "./stack/wire/mod.ts" };
  assert.deepEqual(resolveSpecifier("stack/arp/layer.ts", "../wire/addr.ts"), {
    local: true,
    path: "stack/wire/addr.ts",
  });
  assert.deepEqual(resolveSpecifier("mod.ts", "./stack/clock.ts"), {
    local: true,
    path: "stack/clock.ts",
  });
  assert.deepEqual(resolveSpecifier("cli/main.ts", "commander", map), { local: false });
  assert.deepEqual(resolveSpecifier("cli/main.ts", "node:assert/strict", map), { local: false });
  assert.deepEqual(resolveSpecifier("cli/main.ts", "@/ffi/tap.ts", map), {
    local: true,
    path: "ffi/tap.ts",
  });
  assert.deepEqual(resolveSpecifier("cli/main.ts", "@wire", map), {
    local: true,
    path: "stack/wire/mod.ts",
  });
  assert.deepEqual(resolveSpecifier("mod.ts", "../outside.ts"), { local: false });
});

Deno.test("isTestFile: tests and private test helpers", () => {
  assert.equal(isTestFile("stack/arp/cache_test.ts"), true);
  assert.equal(isTestFile("stack/tcp/_testing.ts"), true);
  assert.equal(isTestFile("_test_utils.ts"), true);
  assert.equal(isTestFile("stack/tcp/tcb.ts"), false);
  assert.equal(isTestFile("stack/latest.ts"), false);
});

/** Checks one file with one import line; returns the messages. */
function check(file: string, importLine: string): string[] {
  const map = { "fast-check": "npm:fast-check@4.3.0" };
  return checkSources(new Map([[file, importLine]]), map).map((v) => v.message);
}

const ok = (file: string, line: string) =>
  assert.deepEqual(check(file, line), [], `${file}: ${line}`);
const bad = (file: string, line: string, pattern: RegExp) => {
  const messages = check(file, line);
  assert.equal(messages.length, 1, `${file}: ${line} should break one rule`);
  assert.match(messages[0], pattern);
};

Deno.test("rule: stack/wire imports only stack/wire", () => {
  ok("stack/wire/ipv4.ts", 'import { x } from "./checksum.ts";');
  bad(
    "stack/wire/ipv4.ts",
    'import { Channel } from "../channel.ts";',
    /stack\/wire may import only/,
  );
  bad(
    "stack/wire/ipv4.ts",
    'import type { Clock } from "../clock.ts";',
    /stack\/wire may import only/,
  );
  bad("stack/wire/ipv4.ts", 'import fc from "fast-check";', /stack\/wire may import only/);
  // Its tests may use packages, but still no other stack folder.
  ok("stack/wire/ipv4_test.ts", 'import assert from "node:assert/strict";');
  ok("stack/wire/ipv4_test.ts", 'import fc from "fast-check";');
  bad("stack/wire/ipv4_test.ts", 'import { Channel } from "../channel.ts";', /stack\/wire/);
});

Deno.test("rule: nothing under stack/ imports ffi/ or cli/", () => {
  bad(
    "stack/stack.ts",
    'import { openTap } from "../ffi/tap.ts";',
    /must not import ffi\/ or cli\//,
  );
  bad("stack/link/tap.ts", 'import type { T } from "../../ffi/tap.ts";', /ffi\/ or cli\//);
  bad("stack/udp/layer_test.ts", 'import { u } from "../../cli/usage_error.ts";', /ffi\/ or cli\//);
  bad("stack/channel.ts", 'import { x } from "../cli/main.ts";', /ffi\/ or cli\//);
});

Deno.test("rule: a layer imports its folder, wire, shared stack files, link types only", () => {
  ok("stack/udp/layer.ts", 'import { a } from "./ports.ts";');
  ok("stack/tcp/tcb.ts", 'import { Cubic } from "./congestion/cubic.ts";');
  ok("stack/tcp/congestion/cubic.ts", 'import { t } from "../tcb.ts";');
  ok("stack/udp/layer.ts", 'import { emitUdp } from "../wire/udp.ts";');
  for (const shared of ["channel", "clock", "layer", "counters", "net_addr", "ports"]) {
    ok("stack/udp/layer.ts", `import { x } from "../${shared}.ts";`);
  }
  ok("stack/ethernet/layer.ts", 'import type { LinkDevice } from "../link/link.ts";');
  ok(
    "stack/ethernet/layer.ts",
    'import { type LinkDevice, type LinkStats } from "../link/link.ts";',
  );
  bad(
    "stack/ethernet/layer.ts",
    'import { newLinkStats } from "../link/link.ts";',
    /stack\/link only for types/,
  );
  bad(
    "stack/ethernet/layer.ts",
    'import { type LinkDevice, newLinkStats } from "../link/link.ts";',
    /only for types/,
  );
  bad(
    "stack/arp/layer.ts",
    'import type { E } from "../ethernet/layer.ts";',
    /layer arp must not import layer ethernet/,
  );
  bad(
    "stack/tcp/congestion/cubic.ts",
    'import { I } from "../../ipv4/route.ts";',
    /layer tcp must not import layer ipv4/,
  );
  bad("stack/udp/layer.ts", 'import { Stack } from "../stack.ts";', /may import only/);
  bad("stack/udp/layer.ts", 'import fc from "fast-check";', /may not import packages/);
  bad("stack/udp/layer.ts", 'import { m } from "../../mod.ts";', /may import only/);
  // Tests in a layer may use packages and tests/helpers, but not another layer.
  ok("stack/udp/layer_test.ts", 'import assert from "node:assert/strict";');
  ok("stack/udp/layer_test.ts", 'import { h } from "../../tests/helpers/memory_stacks.ts";');
  bad(
    "stack/udp/layer_test.ts",
    'import { I } from "../ipv4/layer.ts";',
    /must not import layer ipv4/,
  );
});

Deno.test("rule: only stack/stack.ts wires layers together inside stack/", () => {
  ok("stack/stack.ts", 'import { ArpLayer } from "./arp/layer.ts";');
  ok("stack/stack.ts", 'import { TcpLayer } from "./tcp/layer.ts";');
  bad(
    "stack/ports.ts",
    'import { U } from "./udp/layer.ts";',
    /only stack\/stack\.ts .* layer udp/,
  );
  bad("stack/link/memory.ts", 'import type { E } from "../ethernet/layer.ts";', /layer ethernet/);
  // Outside stack/ (cli, tests, mod.ts) this rule does not apply.
  ok("cli/commands/ping.ts", 'import type { EchoResult } from "../../stack/icmp/layer.ts";');
  ok("tests/stack_memory_test.ts", 'import { x } from "../stack/tcp/layer.ts";');
});

Deno.test("rule: ffi imports only ffi, stack/link/link.ts and stack/wire/addr.ts", () => {
  ok("ffi/tap.ts", 'import { check } from "./errno.ts";');
  ok("ffi/tap.ts", 'import { type LinkDevice, newLinkStats } from "../stack/link/link.ts";');
  ok("ffi/netif.ts", 'import { formatIpv4 } from "../stack/wire/addr.ts";');
  bad("ffi/tap.ts", 'import { Channel } from "../stack/channel.ts";', /ffi\/ may import only/);
  bad("ffi/tap.ts", 'import { emitArp } from "../stack/wire/arp.ts";', /ffi\/ may import only/);
  bad("ffi/tap.ts", 'import { UsageError } from "../cli/usage_error.ts";', /ffi\/ may import only/);
  bad("ffi/tap.ts", 'import { Buffer } from "node:buffer";', /ffi\/ may import only/);
  ok("ffi/tap_test.ts", 'import assert from "node:assert/strict";');
  ok("ffi/tap_test.ts", 'import { createTestNamespace } from "../tests/helpers/netns.ts";');
  bad("ffi/tap_test.ts", 'import { Stack } from "../stack/stack.ts";', /ffi\/ may import only/);
});

Deno.test("rule: only mod.ts re-exports from another folder", () => {
  ok("mod.ts", 'export { Stack } from "./stack/stack.ts";');
  ok("stack/wire/mod.ts", 'export * from "./addr.ts";');
  ok("stack/udp/mod.ts", 'export type { UdpSocket } from "./layer.ts";');
  ok("stack/udp/layer.ts", 'export { pick } from "./ports.ts";'); // same folder
  bad(
    "stack/udp/layer.ts",
    'export { checkPort } from "../net_addr.ts";',
    /only mod\.ts may re-export/,
  );
  bad("cli/session.ts", 'export type { EchoResult } from "../stack/icmp/layer.ts";', /re-export/);
  bad("cli/session.ts", 'export * from "commander";', /re-export/);
});

Deno.test("violations carry file, line and specifier, sorted", () => {
  const sources = new Map([
    ["stack/wire/b.ts", '\n\nimport { c } from "../channel.ts";'],
    [
      "stack/arp/layer.ts",
      'import { ok } from "./cache.ts";\nimport { E } from "../ethernet/layer.ts";',
    ],
  ]);
  const violations = checkSources(sources);
  assert.deepEqual(violations.map((v) => [v.file, v.line, v.specifier]), [
    ["stack/arp/layer.ts", 2, "../ethernet/layer.ts"],
    ["stack/wire/b.ts", 3, "../channel.ts"],
  ]);
});

/** Writes `files` (path to text) under a fresh temporary directory and returns it. */
function makeTree(files: Record<string, string>): string {
  const root = Deno.makeTempDirSync({ prefix: "gonet-check-imports-" });
  for (const [path, text] of Object.entries(files)) {
    const slash = path.lastIndexOf("/");
    if (slash > 0) Deno.mkdirSync(`${root}/${path.slice(0, slash)}`, { recursive: true });
    Deno.writeTextFileSync(`${root}/${path}`, text);
  }
  return root;
}

Deno.test("checkImports: walks the tree, honours deno.json exclude, skips hidden folders", () => {
  const root = makeTree({
    "deno.json": JSON.stringify({ imports: {}, exclude: ["bench/results"] }),
    "stack/wire/ok.ts": 'import { a } from "./a.ts";',
    "stack/wire/bad.ts": 'import { c } from "../channel.ts";',
    "bench/results/old.ts": 'import { c } from "../../stack/channel.ts"; export * from "../x.ts";',
    ".hidden/x.ts": 'export * from "../stack/channel.ts";',
    "stack/wire/readme.md": 'import { c } from "../channel.ts";',
  });
  try {
    const violations = checkImports(root);
    assert.deepEqual(violations.map((v) => v.file), ["stack/wire/bad.ts"]);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

async function runScript(root: string): Promise<{ code: number; stdout: string }> {
  const script = new URL("./check_imports.ts", import.meta.url).pathname;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", script, root],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: output.code, stdout: new TextDecoder().decode(output.stdout) };
}

Deno.test("check_imports.ts as a script: 'imports ok' and exit 0, or violations and exit 1", async () => {
  const clean = makeTree({ "stack/wire/a.ts": 'import { b } from "./b.ts";' });
  const dirty = makeTree({
    "stack/arp/layer.ts": 'import type { E } from "../ethernet/layer.ts";',
    "ffi/tap.ts": 'import { C } from "../stack/channel.ts";',
  });
  try {
    assert.deepEqual(await runScript(clean), { code: 0, stdout: "imports ok\n" });
    const result = await runScript(dirty);
    assert.equal(result.code, 1);
    const lines = result.stdout.trim().split("\n");
    assert.equal(lines.length, 3);
    assert.match(lines[0], /^ffi\/tap\.ts:1: ffi\/ may import only/);
    assert.match(lines[1], /^stack\/arp\/layer\.ts:1: layer arp must not import layer ethernet/);
    assert.equal(lines[2], "2 import rule violation(s)");
  } finally {
    Deno.removeSync(clean, { recursive: true });
    Deno.removeSync(dirty, { recursive: true });
  }
});
