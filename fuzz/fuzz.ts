/**
 * The receive-path fuzzer: `deno task fuzz [--seed N] [--frames N] [--seconds N]`.
 *
 * Feeds a full target stack random and mutated ARP/IPv4/ICMP/UDP/TCP frames over an in-memory
 * link (see `harness.ts`), checks the invariants of `invariants.ts` throughout, prints the frame
 * rate and a summary, and saves any failing input under `fuzz/corpus/` (replayed by
 * `tests/fuzz_test.ts`). Exits 1 when an invariant broke.
 *
 * Options: `--seed N` (default: random, printed so the run replays), `--frames N` (default
 * 10 000 000), `--seconds N` (wall-clock limit, default none), `--health-every N` (frames between
 * health checks, default 500 000), `--corpus DIR` (default `fuzz/corpus`), `--keep-going`
 * (continue after a failure, saving the first input of each distinct failure), `--profile P`
 * (target configuration: `default`, `lean` or `small-mtu`; see `harness.ts`).
 * @module
 */

import { FUZZ_PROFILES, type FuzzProfile, runFuzz } from "./harness.ts";

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  if (at >= 0) return args[at + 1];
  const prefixed = args.find((a) => a.startsWith(`${name}=`));
  return prefixed?.slice(name.length + 1);
}

function numberOption(args: string[], name: string, fallback: number): number {
  const text = option(args, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`Invalid ${name}: "${text}" is not a non-negative number`);
  }
  return value;
}

if (import.meta.main) {
  const args = Deno.args;
  if (args.includes("--help") || args.includes("-h")) {
    console.log(
      "usage: deno task fuzz [--seed N] [--frames N] [--seconds N] [--health-every N] " +
        "[--corpus DIR] [--keep-going] [--profile default|lean|small-mtu]",
    );
    Deno.exit(0);
  }
  const seed = numberOption(args, "--seed", crypto.getRandomValues(new Uint32Array(1))[0]) >>> 0;
  const frames = numberOption(args, "--frames", 10_000_000);
  const seconds = option(args, "--seconds") === undefined
    ? undefined
    : numberOption(args, "--seconds", 0);
  const healthEvery = numberOption(args, "--health-every", 500_000);
  const keepGoing = args.includes("--keep-going");
  const profile = option(args, "--profile") ?? "default";
  if (!FUZZ_PROFILES.includes(profile as FuzzProfile)) {
    throw new RangeError(
      `Invalid --profile: "${profile}" is not one of ${FUZZ_PROFILES.join(", ")}`,
    );
  }
  const corpusDir = option(args, "--corpus") ??
    new URL("./corpus", import.meta.url).pathname;
  console.log(
    `fuzz: seed ${seed}, profile ${profile}, up to ${frames} frames` +
      (seconds ? `, ${seconds} s` : ""),
  );
  const report = await runFuzz({
    seed,
    frames,
    seconds,
    healthEvery,
    corpusDir,
    keepGoing,
    profile: profile as FuzzProfile,
    progress: (line) => console.log(`fuzz: ${line}`),
  });
  const s = report.stats;
  console.log(
    `fuzz: ${report.frames} frames in ${(report.elapsedMs / 1000).toFixed(1)} s ` +
      `(${report.framesPerSecond} frames/s), ${(report.simulatedMs / 1000).toFixed(0)} s ` +
      `simulated, ${report.healthChecks} health checks, peak heap ` +
      `${Math.round(report.peakHeapBytes / 1048576)} MiB, ${report.accepted} TCP accepts`,
  );
  console.log(`fuzz: frames by kind ${JSON.stringify(report.kinds)}`);
  console.log(`fuzz: notes (not failures) ${JSON.stringify(report.notes)}`);
  console.log(
    `fuzz: target ethernet drops ${JSON.stringify(s.ethernet.drops)}; arp drops ` +
      `${JSON.stringify(s.arp.drops)}; ipv4 delivered ${s.ipv4.delivered}, sent ${s.ipv4.sent} ` +
      `(${s.ipv4.fragmentsOut} fragments), reassembled ` +
      `${s.ipv4.reassembled}, drops ${JSON.stringify(s.ipv4.drops)}; reassembly ` +
      `${JSON.stringify(s.ipv4.reassembly)}; icmp drops ${JSON.stringify(s.icmp.drops)}; udp in ` +
      `${s.udp.datagramsIn}, drops ${JSON.stringify(s.udp.drops)}`,
  );
  console.log(`fuzz: tcp ${JSON.stringify(s.tcp)}`);
  if (report.failures.length > 0) {
    console.log(`fuzz: FAILED (seed ${seed}, after ${report.frames} frames)`);
    for (const failure of report.failures) {
      console.log(`  [${failure.kind}] ${failure.message}`);
      if (failure.stack) console.log(failure.stack.replace(/^/gm, "    "));
    }
    console.log(`fuzz: occurrences ${JSON.stringify(report.occurrences)}`);
    for (const path of report.savedFiles) console.log(`fuzz: saved ${path}`);
    Deno.exit(1);
  }
  console.log("fuzz: ok");
}
