/**
 * Throwaway network namespaces for tests that touch kernel networking. Every TAP device, address
 * and packet of such a test lives inside a namespace made here and deleted at the end, so the
 * host's own networking is never touched. Needs root and iproute2.
 * @module
 */

/** What a command run inside the namespace produced. */
export interface RunResult {
  /** Exit code. */
  code: number;
  /** Standard output as text. */
  stdout: string;
  /** Standard error as text. */
  stderr: string;
}

/** Options of {@link TestNamespace.run}. */
export interface RunOptions {
  /** Kill the command (SIGTERM) and throw after this long. Default 10 000 ms. */
  timeoutMs?: number;
}

/** A network namespace owned by one test. */
export interface TestNamespace extends AsyncDisposable {
  /** The namespace name under /var/run/netns, e.g. `gonet-t-1234-9f3a1c`. */
  readonly name: string;
  /**
   * Runs `args` (program and arguments) inside the namespace with `ip netns exec` and collects its
   * output. Throws when it outlives `timeoutMs`.
   * @example
   * ```ts
   * const { code, stdout } = await ns.run(["ip", "-j", "addr", "show", "dev", "gonet0"]);
   * ```
   */
  run(args: string[], options?: RunOptions): Promise<RunResult>;
  /**
   * Starts `args` inside the namespace without waiting. `options` go to `Deno.Command` (stdio
   * defaults to Deno's: inherit). {@link delete} kills it (SIGKILL) if it is still running.
   */
  spawn(args: string[], options?: Omit<Deno.CommandOptions, "args">): Deno.ChildProcess;
  /** Kills the processes started by {@link spawn} and deletes the namespace. Idempotent. */
  delete(): Promise<void>;
}

const decoder = new TextDecoder();

/** Runs `ip` with `args` in the current namespace; throws with its stderr when it fails. */
async function ip(args: string[]): Promise<void> {
  const out = await new Deno.Command("ip", { args, stdin: "null", stdout: "null", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`ip ${args.join(" ")} failed (${out.code}): ${decoder.decode(out.stderr)}`);
  }
}

/**
 * Creates a fresh namespace `<prefix>-<pid>-<random>` with its loopback up.
 * @example
 * ```ts
 * await using ns = await createTestNamespace();
 * const tap = withNetns(ns.name, () => openTap({ name: "gonet0" }));
 * ```
 */
export async function createTestNamespace(prefix = "gonet-t"): Promise<TestNamespace> {
  const random = Array.from(crypto.getRandomValues(new Uint8Array(3)))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  const name = `${prefix}-${Deno.pid}-${random}`;
  await ip(["netns", "add", name]);
  const ns = new Namespace(name);
  try {
    await ip(["-n", name, "link", "set", "lo", "up"]);
  } catch (err) {
    await ns.delete();
    throw err;
  }
  return ns;
}

class Namespace implements TestNamespace {
  readonly name: string;
  #children = new Set<Deno.ChildProcess>();
  #deleted: Promise<void> | undefined;

  constructor(name: string) {
    this.name = name;
  }

  async run(args: string[], options: RunOptions = {}): Promise<RunResult> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const out = await new Deno.Command("ip", {
      args: ["netns", "exec", this.name, ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(timeoutMs),
    }).output();
    if (out.signal !== null) {
      throw new Error(
        `${args.join(" ")} in ${this.name} killed by ${out.signal} (${timeoutMs} ms)`,
      );
    }
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  }

  spawn(args: string[], options: Omit<Deno.CommandOptions, "args"> = {}): Deno.ChildProcess {
    const child = new Deno.Command("ip", {
      ...options,
      args: ["netns", "exec", this.name, ...args],
    })
      .spawn();
    this.#children.add(child);
    child.status.finally(() => this.#children.delete(child));
    return child;
  }

  delete(): Promise<void> {
    this.#deleted ??= this.#delete();
    return this.#deleted;
  }

  async #delete(): Promise<void> {
    for (const child of this.#children) {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already exited between the status update and now.
      }
      await child.status;
    }
    await ip(["netns", "delete", this.name]);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.delete();
  }
}
