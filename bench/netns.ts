/**
 * The benchmark's network namespaces and the processes it runs in them. Every namespace made here
 * is deleted by {@link Namespaces.deleteAll} (the orchestrator calls it in `finally` and on
 * SIGINT/SIGTERM), and every process started here is killed by its PID when still running.
 *
 * Topology:
 * - gonet: one namespace G; the gonet server owns a TAP in it (stack 10.0.0.2, kernel side of
 *   the TAP 10.0.0.1); the load generators run in G on the kernel side.
 * - kernel: namespaces K1 (10.0.1.1, load) and K2 (10.0.1.2, server) joined by a veth pair.
 * @module
 */

import { JsonLineReader } from "./lines.ts";

const decoder = new TextDecoder();

/**
 * Ends `child` (which this process started): SIGTERM, so it can end its own children, then
 * SIGKILL after `graceMs`. Waits for it to exit.
 */
export async function terminate(child: Deno.ChildProcess, graceMs = 1500): Promise<void> {
  const signal = (name: Deno.Signal) => {
    try {
      child.kill(name);
    } catch {
      // Exited meanwhile.
    }
  };
  signal("SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exited = await Promise.race([
    child.status.then(() => true),
    new Promise<boolean>((r) => timer = setTimeout(() => r(false), graceMs)),
  ]);
  clearTimeout(timer);
  if (!exited) signal("SIGKILL");
  await child.status;
}

/** What a command run inside a namespace produced. */
export interface RunResult {
  /** Exit code. */
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
}

async function ipCommand(args: string[]): Promise<void> {
  const out = await new Deno.Command("ip", { args, stdin: "null", stdout: "null", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`ip ${args.join(" ")} failed (${out.code}): ${decoder.decode(out.stderr)}`);
  }
}

/** A child process speaking JSON lines on stdin/stdout. */
export class LineProcess {
  /** The child. */
  readonly child: Deno.ChildProcess;
  /** What it is, for messages. */
  readonly label: string;
  readonly #lines: JsonLineReader;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  #stderr = "";
  /** Settles once its stderr has been read to the end. */
  readonly #stderrRead: Promise<void>;

  /** Wraps a child spawned with all three streams piped. */
  constructor(child: Deno.ChildProcess, label: string) {
    this.child = child;
    this.label = label;
    this.#lines = new JsonLineReader(child.stdout);
    this.#writer = child.stdin.getWriter();
    this.#stderrRead = (async () => {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
        this.#stderr = (this.#stderr + chunk).slice(-4000);
      }
    })().catch(() => {});
  }

  /** The last few KB of its stderr. */
  get stderr(): string {
    return this.#stderr;
  }

  /** The next JSON line, waiting at most `timeoutMs`; throws on timeout or end of output. */
  async next(timeoutMs: number): Promise<Record<string, unknown>> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const line = await Promise.race([
        this.#lines.next(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`${this.label}: no answer in ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
      if (line === undefined) {
        throw new Error(`${this.label} exited; stderr: ${this.#stderr.trim().slice(-800)}`);
      }
      return line;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Writes one JSON line to its stdin; throws, with its stderr, when the process is gone. */
  async send(value: unknown): Promise<void> {
    try {
      await this.#writer.write(new TextEncoder().encode(JSON.stringify(value) + "\n"));
    } catch (error) {
      // A bare "Broken pipe" says nothing about why: the process's last words usually do.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const status = await Promise.race([
        Promise.all([this.child.status, this.#stderrRead]).then(([status]) => status),
        new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), 1000)),
      ]);
      clearTimeout(timer);
      const how = status === undefined
        ? "still running"
        : status.signal
        ? `killed by ${status.signal}`
        : `exit ${status.code}`;
      throw new Error(
        `${this.label} does not take commands (${(error as Error).message}; ${how}); ` +
          `stderr: ${this.#stderr.trim().slice(-800)}`,
      );
    }
  }

  /** Sends `command` and returns its reply; throws when the reply says `ok: false`. */
  async request(
    command: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<Record<string, unknown>> {
    await this.send(command);
    const reply = await this.next(timeoutMs);
    if (reply.ok === false) throw new Error(`${this.label} ${command.op}: ${reply.error}`);
    return reply;
  }

  /** Asks it to exit (closes stdin), waits up to `timeoutMs`, then SIGKILLs it by PID. */
  async stop(timeoutMs = 3000): Promise<void> {
    try {
      await this.#writer.close();
    } catch {
      // Already gone.
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const exited = await Promise.race([
      this.child.status.then(() => true),
      new Promise<boolean>((r) => timer = setTimeout(() => r(false), timeoutMs)),
    ]);
    clearTimeout(timer);
    if (!exited) {
      try {
        this.child.kill("SIGKILL");
      } catch {
        // Exited meanwhile.
      }
      await this.child.status;
    }
  }
}

/** A network namespace the benchmark uses (owned: made here and deleted here). */
export class Namespace {
  /** Name under /var/run/netns. */
  readonly name: string;
  /** Whether the benchmark made it (and so deletes it). */
  readonly owned: boolean;
  readonly #children = new Set<Deno.ChildProcess>();

  /** Use {@link Namespaces.create} or {@link Namespaces.existing}. */
  constructor(name: string, owned: boolean) {
    this.name = name;
    this.owned = owned;
  }

  /** Runs `args` inside, collecting output; SIGKILLs it after `timeoutMs`. */
  async run(args: string[], timeoutMs: number): Promise<RunResult> {
    const child = this.#spawn(args, { stdin: "null", stdout: "piped", stderr: "piped" });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((r) =>
      timer = setTimeout(() => r("timeout"), timeoutMs)
    );
    const out = await Promise.race([child.output(), timedOut]);
    clearTimeout(timer);
    if (out === "timeout") {
      await terminate(child);
      throw new Error(
        `${args.slice(0, 4).join(" ")}... in ${this.name}: killed after ${timeoutMs} ms`,
      );
    }
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  }

  /** Runs `args` and parses the last JSON line of its stdout. */
  async runJson(args: string[], timeoutMs: number): Promise<Record<string, unknown>> {
    const out = await this.run(args, timeoutMs);
    const line = out.stdout.trim().split("\n").filter((l) => l.startsWith("{")).at(-1);
    if (out.code !== 0 || line === undefined) {
      throw new Error(
        `${args.slice(0, 4).join(" ")}... exited ${out.code}: ${out.stderr.slice(-800)}`,
      );
    }
    return JSON.parse(line);
  }

  /** Starts `args` inside with all streams piped, as a {@link LineProcess}. */
  start(args: string[], label: string): LineProcess {
    return new LineProcess(
      this.#spawn(args, { stdin: "piped", stdout: "piped", stderr: "piped" }),
      label,
    );
  }

  #spawn(args: string[], options: Omit<Deno.CommandOptions, "args">): Deno.ChildProcess {
    // `ip netns exec` execs the program, so the child's PID is the program's own.
    const child = new Deno.Command("ip", {
      ...options,
      args: ["netns", "exec", this.name, ...args],
    })
      .spawn();
    this.#children.add(child);
    child.status.finally(() => this.#children.delete(child));
    return child;
  }

  /** Ends the processes started here that still run (SIGTERM, then SIGKILL), by PID. */
  async killChildren(): Promise<void> {
    await Promise.all([...this.#children].map((child) => terminate(child)));
  }
}

/**
 * Group range allowed to open ICMP datagram ("ping") sockets: everyone, as systemd sets it on
 * current distributions. A new namespace starts from the kernel's "1 0" (nobody), which makes
 * root's `ping` fall back to a raw socket; the kernel then copies every echo reply to every raw
 * ICMP socket in the namespace, so with 1000 pingers each reply costs ~1000 socket deliveries
 * (about 130 us here) inside the responder's send.
 */
export const PING_GROUP_RANGE_ALL = "0 2147483647";

/** The namespaces of one benchmark run. */
export class Namespaces {
  readonly #all: Namespace[] = [];
  readonly #prefix = `gonet-b-${Deno.pid}`;
  /** ping_group_range of every namespace made here, or undefined for the kernel's default. */
  readonly #pingGroupRange: string | undefined;

  /** `rawPing`: leave ping_group_range at the kernel default (ping then uses raw sockets). */
  constructor(options: { rawPing?: boolean } = {}) {
    this.#pingGroupRange = options.rawPing ? undefined : PING_GROUP_RANGE_ALL;
  }

  /** Creates namespace `<prefix>-<suffix>` with loopback up. */
  async create(suffix: string): Promise<Namespace> {
    const ns = new Namespace(`${this.#prefix}-${suffix}`, true);
    await ipCommand(["netns", "add", ns.name]);
    this.#all.push(ns);
    await ipCommand(["-n", ns.name, "link", "set", "lo", "up"]);
    if (this.#pingGroupRange !== undefined) {
      await ipCommand([
        "netns",
        "exec",
        ns.name,
        "sh",
        "-c",
        `echo '${this.#pingGroupRange}' > /proc/sys/net/ipv4/ping_group_range`,
      ]);
    }
    return ns;
  }

  /** Wraps a namespace someone else made (never deleted here). */
  existing(name: string): Namespace {
    const ns = new Namespace(name, false);
    this.#all.push(ns);
    return ns;
  }

  /**
   * Joins `a` (address `addrA`) and `b` (`addrB`) with a veth pair; addresses are CIDR strings.
   */
  async veth(a: Namespace, addrA: string, b: Namespace, addrB: string): Promise<void> {
    await ipCommand([
      "link",
      "add",
      "vb0",
      "netns",
      a.name,
      "type",
      "veth",
      "peer",
      "name",
      "vb1",
      "netns",
      b.name,
    ]);
    await ipCommand(["-n", a.name, "addr", "add", addrA, "dev", "vb0"]);
    await ipCommand(["-n", b.name, "addr", "add", addrB, "dev", "vb1"]);
    await ipCommand(["-n", a.name, "link", "set", "vb0", "up"]);
    await ipCommand(["-n", b.name, "link", "set", "vb1", "up"]);
  }

  /** Kills every process started in any of them, then deletes the owned ones. Idempotent. */
  async deleteAll(): Promise<void> {
    const all = this.#all.splice(0);
    for (const ns of all) await ns.killChildren();
    for (const ns of all) {
      if (!ns.owned) continue;
      try {
        await ipCommand(["netns", "delete", ns.name]);
      } catch (error) {
        console.error(`bench: could not delete namespace ${ns.name}: ${error}`);
      }
    }
  }
}
