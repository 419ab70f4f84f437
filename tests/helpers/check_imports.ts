/**
 * Enforces the layering rules of STYLE.md §12 by reading the import and re-export specifiers of
 * every `.ts` file in the repository:
 *
 * 1. `stack/wire/` imports only `stack/wire/`.
 * 2. Nothing under `stack/` imports `ffi/` or `cli/`.
 * 3. A layer folder (`stack/arp`, `stack/ethernet`, `stack/ipv4`, `stack/icmp`, `stack/udp`,
 *    `stack/tcp`, subfolders included) imports only its own folder, `stack/wire/`, the shared
 *    files at the top of `stack/` (channel, clock, layer, counters, net_addr, ports, ...; not the
 *    composition root `stack/stack.ts` nor a `stack/mod.ts`), and `stack/link/` for types only.
 * 4. Outside the layer folders, only the composition root `stack/stack.ts` (and a `stack/mod.ts`
 *    barrel) may import a layer folder from inside `stack/`.
 * 5. `ffi/` imports only `ffi/`, `stack/link/link.ts`, `stack/link/uso.ts` (splitting UDP
 *    super-frames, a device's job), `stack/link/echo_rehearsal.ts` (the frames a spinning device
 *    rehearses), `stack/arena_pool.ts` (receive memory the layers retain and release) and
 *    `stack/wire/addr.ts`.
 * 6. Only a `mod.ts` re-exports (`export ... from`) from another folder.
 *
 * Test files (`*_test.ts`, and private test helpers named `_test*.ts` like `stack/tcp/_testing.ts`)
 * follow the same rules, but may also import packages (`node:`, `npm:`,
 * `jsr:`, import-map names) and the shared helpers in `tests/helpers/`. Elsewhere in `stack/` and
 * `ffi/`, package imports count as violations of rules 1, 3 and 5.
 *
 * Static imports, `import type`, side-effect imports, re-exports and `import("...")` with a literal
 * specifier are all checked; a type-only import counts as one only when written `import type` or
 * when every named binding is marked `type`. Comments and string contents are skipped by a small
 * tokenizer, so `@example` blocks and test fixtures do not produce false hits.
 *
 * Usage: `deno run --allow-read tests/helpers/check_imports.ts [root]`: prints `imports ok` and
 * exits 0, or lists the violations (one per line, `file:line: message`) and exits 1.
 * @module
 */

/** One import or re-export found in a source file. */
export interface ImportRef {
  /** The specifier as written, e.g. `../wire/addr.ts`. */
  readonly specifier: string;
  /** 1-based line of the `import` / `export` keyword. */
  readonly line: number;
  /** `import` (static or side-effect), `dynamic` (`import("...")`) or `reexport`. */
  readonly kind: "import" | "dynamic" | "reexport";
  /** Whether only types are imported, so nothing is loaded at run time. */
  readonly typeOnly: boolean;
}

/** One broken rule. */
export interface Violation {
  /** Repository-relative path of the importing file. */
  readonly file: string;
  /** Line of the import. */
  readonly line: number;
  /** The specifier as written. */
  readonly specifier: string;
  /** What rule it breaks. */
  readonly message: string;
}

/** The protocol layer folders under `stack/`. */
export const LAYER_FOLDERS: readonly string[] = ["arp", "ethernet", "ipv4", "icmp", "udp", "tcp"];

interface Token {
  kind: "id" | "str" | "punct" | "num" | "tpl" | "re";
  value: string;
  line: number;
}

const ID_START = /[A-Za-z_$#\u0080-\uffff]/;
const ID_PART = /[A-Za-z0-9_$\u0080-\uffff]/;
// After these keywords a `/` starts a regular expression, not a division.
const REGEX_AFTER_KEYWORD = new Set([
  "return",
  "typeof",
  "instanceof",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
  "yield",
  "await",
]);

/** Splits TypeScript source into tokens, dropping comments and whitespace. */
function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let braceDepth = 0;
  // Brace depth at each open `${` of a template literal, innermost last.
  const templateDepths: number[] = [];

  const push = (kind: Token["kind"], value: string, at: number) =>
    tokens.push({ kind, value, line: at });

  /** Scans template text from `i` (just after "`" or the `}` closing a `${`). */
  const scanTemplate = () => {
    const start = line;
    while (i < source.length) {
      const c = source[i];
      if (c === "\\") {
        if (source[i + 1] === "\n") line++;
        i += 2;
      } else if (c === "`") {
        i++;
        break;
      } else if (c === "$" && source[i + 1] === "{") {
        i += 2;
        templateDepths.push(braceDepth);
        braceDepth++;
        break;
      } else {
        if (c === "\n") line++;
        i++;
      }
    }
    push("tpl", "", start);
  };

  const regexAllowed = () => {
    const prev = tokens.at(-1);
    if (!prev) return true;
    if (prev.kind === "punct") return !")]}".includes(prev.value);
    if (prev.kind === "id") return REGEX_AFTER_KEYWORD.has(prev.value);
    return false;
  };

  while (i < source.length) {
    const c = source[i];
    const next = source[i + 1];
    if (c === "\n") {
      line++;
      i++;
    } else if (
      c === " " || c === "\t" || c === "\r" || c === "\f" || c === "\v" || c === "\ufeff"
    ) {
      i++;
    } else if (c === "/" && next === "/") {
      while (i < source.length && source[i] !== "\n") i++;
    } else if (c === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      const stop = end < 0 ? source.length : end + 2;
      for (let k = i; k < stop; k++) if (source[k] === "\n") line++;
      i = stop;
    } else if (c === "'" || c === '"') {
      const start = line;
      let value = "";
      i++;
      while (i < source.length && source[i] !== c && source[i] !== "\n") {
        if (source[i] === "\\") {
          if (source[i + 1] === "\n") line++;
          value += source[i + 1] ?? "";
          i += 2;
        } else {
          value += source[i++];
        }
      }
      i++;
      push("str", value, start);
    } else if (c === "`") {
      i++;
      scanTemplate();
    } else if (c === "}" && templateDepths.at(-1) === braceDepth - 1) {
      templateDepths.pop();
      braceDepth--;
      i++;
      scanTemplate();
    } else if (ID_START.test(c)) {
      const start = i;
      i++;
      while (i < source.length && ID_PART.test(source[i])) i++;
      push("id", source.slice(start, i), line);
    } else if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(next ?? ""))) {
      const start = i;
      while (i < source.length && /[0-9A-Za-z_.]/.test(source[i])) i++;
      push("num", source.slice(start, i), line);
    } else if (c === "/" && regexAllowed()) {
      const start = i;
      let inClass = false;
      i++;
      while (i < source.length && source[i] !== "\n") {
        const r = source[i];
        if (r === "\\") {
          i += 2;
          continue;
        }
        i++;
        if (r === "[") inClass = true;
        else if (r === "]") inClass = false;
        else if (r === "/" && !inClass) break;
      }
      while (i < source.length && ID_PART.test(source[i])) i++;
      push("re", source.slice(start, i), line);
    } else {
      if (c === "{") braceDepth++;
      else if (c === "}") braceDepth--;
      push("punct", c, line);
      i++;
    }
  }
  return tokens;
}

/**
 * Whether the brace list starting at `tokens[open]` (a `{`) marks every binding `type`.
 * Returns the index after the closing `}` too.
 */
function bracesAllTypes(tokens: Token[], open: number): { allTypes: boolean; end: number } {
  let i = open + 1;
  let allTypes = true;
  let atElementStart = true;
  let elements = 0;
  while (i < tokens.length && !(tokens[i].kind === "punct" && tokens[i].value === "}")) {
    const t = tokens[i];
    if (t.kind === "punct" && t.value === ",") {
      atElementStart = true;
    } else if (atElementStart) {
      elements++;
      const following = tokens[i + 1];
      const isTypeModifier = t.kind === "id" && t.value === "type" && following?.kind === "id" &&
        following.value !== "as";
      if (!isTypeModifier) allTypes = false;
      atElementStart = false;
    }
    i++;
  }
  // `import {} from "x"` loads the module: not type-only.
  return { allTypes: allTypes && elements > 0, end: i + 1 };
}

/** Finds every import, dynamic import and re-export in `source`. */
export function scanImports(source: string): ImportRef[] {
  const tokens = tokenize(source);
  const refs: ImportRef[] = [];
  const is = (t: Token | undefined, kind: Token["kind"], value?: string) =>
    t !== undefined && t.kind === kind && (value === undefined || t.value === value);

  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind !== "id" || (t.value !== "import" && t.value !== "export")) continue;
    const prev = tokens[i - 1];
    // `x.import`, `{ import: 1 }`: not a keyword use.
    if (is(prev, "punct", ".") || is(tokens[i + 1], "punct", ":")) continue;

    if (t.value === "import") {
      const next = tokens[i + 1];
      if (is(next, "str")) {
        refs.push({ specifier: next.value, line: t.line, kind: "import", typeOnly: false });
        continue;
      }
      if (is(next, "punct", "(")) {
        if (
          is(tokens[i + 2], "str") &&
          (is(tokens[i + 3], "punct", ")") || is(tokens[i + 3], "punct", ","))
        ) {
          // `import("x").Foo` in a type position vs `import("x").then(...)` / `await import("x")`.
          let close = i + 3;
          while (close < tokens.length && !is(tokens[close], "punct", ")")) close++;
          const member = is(tokens[close + 1], "punct", ".") ? tokens[close + 2]?.value : undefined;
          const typeOnly = !is(prev, "id", "await") && member !== undefined &&
            !["then", "catch", "finally"].includes(member);
          refs.push({ specifier: tokens[i + 2].value, line: t.line, kind: "dynamic", typeOnly });
        }
        continue;
      }
      if (is(next, "punct", ".")) continue; // import.meta
      // A declaration: import [type] <clause> from "x".
      let j = i + 1;
      let typeOnly = false;
      if (
        is(tokens[j], "id", "type") && !is(tokens[j + 1], "id", "from") &&
        !is(tokens[j + 1], "punct", ",")
      ) {
        typeOnly = true;
        j++;
      }
      let hasValueBinding = false;
      let bracesTypes: boolean | undefined;
      for (; j < tokens.length; j++) {
        const u = tokens[j];
        if (is(u, "id", "from") && is(tokens[j + 1], "str")) {
          const onlyTypes = typeOnly || (!hasValueBinding && bracesTypes === true);
          refs.push({
            specifier: tokens[j + 1].value,
            line: t.line,
            kind: "import",
            typeOnly: onlyTypes,
          });
          break;
        }
        if (is(u, "punct", "{")) {
          const { allTypes, end } = bracesAllTypes(tokens, j);
          bracesTypes = allTypes;
          j = end - 1;
        } else if (is(u, "id") || is(u, "punct", "*")) {
          hasValueBinding = true; // default or namespace binding
        } else if (is(u, "punct", ",")) {
          // between bindings
        } else {
          break; // `import x = require(...)` or something else: not a module import
        }
      }
      continue;
    }

    // export [type] * [as ns] from "x" | export [type] { ... } from "x"
    let j = i + 1;
    let typeOnly = false;
    if (is(tokens[j], "id", "type")) {
      typeOnly = true;
      j++;
    }
    if (is(tokens[j], "punct", "*")) {
      j++;
      if (is(tokens[j], "id", "as")) j += 2;
    } else if (is(tokens[j], "punct", "{")) {
      const { allTypes, end } = bracesAllTypes(tokens, j);
      typeOnly ||= allTypes;
      j = end;
    } else {
      continue;
    }
    if (is(tokens[j], "id", "from") && is(tokens[j + 1], "str")) {
      refs.push({ specifier: tokens[j + 1].value, line: t.line, kind: "reexport", typeOnly });
    }
  }
  return refs;
}

/** A resolved specifier: a repository-relative path, or a package outside the repository. */
export type Target = { readonly local: true; readonly path: string } | {
  readonly local: false;
};

/** Normalises a `/`-separated path, resolving `.` and `..`; undefined if it climbs above root. */
function normalize(path: string): string | undefined {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length === 0) return undefined;
      out.pop();
    } else {
      out.push(part);
    }
  }
  return out.join("/");
}

function dirname(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}

/**
 * Resolves `specifier` written in `file` (repository-relative). `importMap` is deno.json's
 * `imports`; entries mapping to `./...` are local.
 */
export function resolveSpecifier(
  file: string,
  specifier: string,
  importMap: Readonly<Record<string, string>> = {},
): Target {
  let spec = specifier;
  let base = dirname(file);
  if (!spec.startsWith("./") && !spec.startsWith("../")) {
    const exact = importMap[spec];
    const prefix = Object.keys(importMap)
      .filter((k) => k.endsWith("/") && spec.startsWith(k))
      .sort((a, b) => b.length - a.length)[0];
    const mapped = exact ?? (prefix ? importMap[prefix] + spec.slice(prefix.length) : undefined);
    if (mapped === undefined || !(mapped.startsWith("./") || mapped.startsWith("../"))) {
      return { local: false };
    }
    spec = mapped;
    base = "";
  }
  const path = normalize(`${base}/${spec}`);
  return path === undefined ? { local: false } : { local: true, path };
}

const under = (path: string, folder: string) => path.startsWith(`${folder}/`);

/** The layer folder `path` belongs to (`stack/<layer>/...`), if any. */
function layerOf(path: string): string | undefined {
  const m = /^stack\/([^/]+)\//.exec(path);
  return m && LAYER_FOLDERS.includes(m[1]) ? m[1] : undefined;
}

/** A file directly in `stack/` that layers may share (not the composition root or a barrel). */
function isSharedStackFile(path: string): boolean {
  return /^stack\/[^/]+\.ts$/.test(path) && path !== "stack/stack.ts" && path !== "stack/mod.ts";
}

/** A test or a private test helper: `*_test.ts`, or a `_test*.ts` file such as `_testing.ts`. */
export function isTestFile(path: string): boolean {
  return /(^|\/)_test[^/]*\.ts$|_test\.ts$/.test(path);
}

/** The rules for one import of `file`; returns the broken rule's message, if any. */
export function checkImport(file: string, ref: ImportRef, target: Target): string | undefined {
  const isTest = isTestFile(file);
  const testExtra = isTest && (!target.local || under(target.path, "tests/helpers"));
  const where = target.local ? target.path : `package ${ref.specifier}`;

  if (ref.kind === "reexport" && !file.endsWith("/mod.ts") && file !== "mod.ts") {
    if (!target.local || dirname(target.path) !== dirname(file)) {
      return `only mod.ts may re-export from another folder (${where})`;
    }
  }

  if (under(file, "stack")) {
    if (target.local && (under(target.path, "ffi") || under(target.path, "cli"))) {
      return `stack/ must not import ffi/ or cli/ (${where})`;
    }
  }

  if (under(file, "stack/wire")) {
    if (testExtra) return undefined;
    if (!target.local || !under(target.path, "stack/wire")) {
      return `stack/wire may import only stack/wire (${where})`;
    }
    return undefined;
  }

  const layer = layerOf(file);
  if (layer !== undefined) {
    if (testExtra) return undefined;
    if (!target.local) return `layer ${layer} may not import packages (${where})`;
    const path = target.path;
    const targetLayer = layerOf(path);
    if (targetLayer === layer) return undefined;
    if (targetLayer !== undefined) {
      return `layer ${layer} must not import layer ${targetLayer}; layers talk through channels ` +
        `(${path})`;
    }
    if (under(path, "stack/wire") || isSharedStackFile(path)) return undefined;
    if (under(path, "stack/link")) {
      return ref.typeOnly
        ? undefined
        : `layer ${layer} may import stack/link only for types (${path})`;
    }
    return `layer ${layer} may import only its folder, stack/wire, shared stack/*.ts files and ` +
      `stack/link types (${path})`;
  }

  if (under(file, "stack") && file !== "stack/stack.ts" && file !== "stack/mod.ts") {
    const targetLayer = target.local ? layerOf(target.path) : undefined;
    if (targetLayer !== undefined) {
      return `only stack/stack.ts (the composition root) may import layer ${targetLayer} ` +
        `(${where})`;
    }
  }

  if (under(file, "ffi")) {
    if (testExtra) return undefined;
    const ok = target.local &&
      (under(target.path, "ffi") || target.path === "stack/link/link.ts" ||
        target.path === "stack/link/uso.ts" || target.path === "stack/link/echo_rehearsal.ts" ||
        target.path === "stack/arena_pool.ts" || target.path === "stack/wire/addr.ts");
    if (!ok) {
      return `ffi/ may import only ffi/, stack/link/link.ts, stack/link/uso.ts, ` +
        `stack/link/echo_rehearsal.ts, stack/arena_pool.ts and stack/wire/addr.ts (${where})`;
    }
  }
  return undefined;
}

/** Checks the `.ts` files given as repository-relative path to source text. */
export function checkSources(
  sources: ReadonlyMap<string, string>,
  importMap: Readonly<Record<string, string>> = {},
): Violation[] {
  const violations: Violation[] = [];
  for (const [file, source] of sources) {
    for (const ref of scanImports(source)) {
      const message = checkImport(file, ref, resolveSpecifier(file, ref.specifier, importMap));
      if (message) violations.push({ file, line: ref.line, specifier: ref.specifier, message });
    }
  }
  return violations.sort((a, b) => a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line);
}

/** Reads deno.json at `root`, if present. */
function readConfig(root: string): { imports: Record<string, string>; exclude: string[] } {
  try {
    const json = JSON.parse(Deno.readTextFileSync(`${root}/deno.json`));
    return { imports: json.imports ?? {}, exclude: json.exclude ?? [] };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { imports: {}, exclude: [] };
    throw e;
  }
}

/** Every `.ts` file under `root` (repository-relative), skipping hidden folders and excludes. */
function listSources(root: string, exclude: readonly string[]): Map<string, string> {
  const skip = new Set(exclude.map((e) => normalize(e) ?? e));
  const sources = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(dir ? `${root}/${dir}` : root)) {
      const path = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.name.startsWith(".") || entry.name === "node_modules" || skip.has(path)) continue;
      if (entry.isDirectory) walk(path);
      else if (entry.isFile && entry.name.endsWith(".ts")) {
        sources.set(path, Deno.readTextFileSync(`${root}/${path}`));
      }
    }
  };
  walk("");
  return sources;
}

/** Checks the repository at `root` (a directory path). */
export function checkImports(root: string): Violation[] {
  const { imports, exclude } = readConfig(root);
  return checkSources(listSources(root, exclude), imports);
}

if (import.meta.main) {
  const root = Deno.args[0] ?? new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
  const violations = checkImports(root);
  if (violations.length === 0) {
    console.log("imports ok");
  } else {
    for (const v of violations) console.log(`${v.file}:${v.line}: ${v.message}`);
    console.log(`${violations.length} import rule violation(s)`);
    Deno.exit(1);
  }
}
