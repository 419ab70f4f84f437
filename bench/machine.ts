/**
 * A description of the machine a run measured: CPU count and model, memory, kernel, Deno.
 * @module
 */

/** What results.json records about the machine. */
export interface MachineInfo {
  /** Online CPUs (`nproc`). */
  nproc: number;
  /** `model name` from /proc/cpuinfo. */
  cpuModel: string;
  /** MemTotal, bytes. */
  memoryBytes: number;
  /** `uname -r`. */
  kernel: string;
  /** Deno, V8 and TypeScript versions. */
  deno: typeof Deno.version;
  /** ISO date of the run. */
  date: string;
  /** /proc/loadavg when the run started: other work on the machine skews every number. */
  loadAverage: string;
}

async function text(cmd: string, args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
    return new TextDecoder().decode(out.stdout).trim();
  } catch {
    return "";
  }
}

/** Describes this machine. */
export async function describeMachine(): Promise<MachineInfo> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const meminfo = await Deno.readTextFile("/proc/meminfo").catch(() => "");
  return {
    nproc: Number(await text("nproc", [])) || navigator.hardwareConcurrency,
    cpuModel: /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? "unknown",
    memoryBytes: Number(/MemTotal:\s+(\d+) kB/.exec(meminfo)?.[1] ?? 0) * 1024,
    kernel: await text("uname", ["-r"]),
    deno: Deno.version,
    date: new Date().toISOString(),
    loadAverage: (await Deno.readTextFile("/proc/loadavg").catch(() => "")).trim(),
  };
}
