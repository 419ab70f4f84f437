/**
 * `deno task bench` (as root): re-runs the GoNet paper's experiments against gonet and, in the
 * same run, against the Linux kernel, and writes results.json, results.md and SVG charts.
 *
 * ```
 * deno task bench [--quick | --smoke] [--out DIR] [--only 1,3]
 *                 [--target-ns NS --target-ip ADDR] [--raw-ping] [--no-pin]
 * ```
 *
 * Every namespace made here is deleted at the end, also on errors and SIGINT/SIGTERM; every
 * process started here is killed by its PID if it still runs.
 * @module
 */

import { parseArgs } from "node:util";
import { latencyChart, throughputChart } from "./chart.ts";
import { type Context, planFor, serverStats, type Side } from "./experiments/context.ts";
import { runLatency } from "./experiments/latency.ts";
import { runThroughput } from "./experiments/throughput.ts";
import { runBulk } from "./experiments/bulk.ts";
import { runConnRate } from "./experiments/conn_rate.ts";
import { runMemory } from "./experiments/memory.ts";
import { runUdp } from "./experiments/udp.ts";
import { type CpuLayout, defaultCpuLayout, onCpus } from "./cpus.ts";
import { describeMachine } from "./machine.ts";
import { type LineProcess, type Namespace, Namespaces } from "./netns.ts";
import { renderMarkdown, type Results } from "./report.ts";
import { buildCReflector } from "./servers/c_reflector.ts";
import { gonetV8FlagsArg } from "../cli/v8_flags.ts";
import { DEFAULT_NAP_MICROS } from "../cli/stack_flags.ts";

const USAGE = `usage: deno task bench [--quick | --smoke] [--out DIR] [--only 1,2,...]
                       [--target-ns NS --target-ip ADDR] [--raw-ping] [--no-pin]
                       [--gonet-arg=ARG]... [--cpu-prof DIR]
  --quick        smaller sizes, under 3 minutes
  --smoke        one point of experiment 1 per side, under 30 s (for CI)
  --out DIR      where to write results (default bench/results, bench/results/smoke for --smoke)
  --only LIST    run only these experiments (1 latency, 2 throughput, 3 bulk, 4 connection rate,
                 5 memory, 6 UDP)
  --target-ns NS --target-ip ADDR
                 load another responder instead: the load runs in existing namespace NS towards
                 ADDR; no servers are started (experiments needing server counters are skipped)
  --raw-ping     leave the namespaces' net.ipv4.ping_group_range at the kernel default, so root's
                 ping uses raw sockets (each reply then reaches every pinger's socket); by default
                 it is opened to all groups as systemd does, and ping uses ICMP datagram sockets
  --no-pin       let the scheduler place every process; by default the responders' JS threads
                 run on the first half of the CPUs and the load (generators, pings, peers) on
                 the rest
  --gonet-arg=ARG
                 pass ARG to the main gonet server (servers/gonet_server.ts), e.g. --tx-thread,
                 to compare a setting with the default in two runs; repeat for several
  --cpu-prof DIR run the main gonet server under V8's sampling profiler; it writes a
                 .cpuprofile (Chrome DevTools format) into DIR when it exits at the end`;

const GONET_SERVER = new URL("./servers/gonet_server.ts", import.meta.url).pathname;
const KERNEL_SERVER = new URL("./servers/kernel_server.ts", import.meta.url).pathname;

/**
 * Where a server runs: a responder under test has its JS thread pinned (`--main-cpus`) and its
 * helper threads free, as on a machine of its own; a peer of the load runs with the load.
 */
type Placement = { mainThread: string } | { process: string } | undefined;

/** The placement of a responder under test in layout `cpus`. */
function responder(cpus: CpuLayout | undefined): Placement {
  return cpus && { mainThread: cpus.server };
}

/** The placement of a load-side peer in layout `cpus`. */
function loadPeer(cpus: CpuLayout | undefined): Placement {
  return cpus && { process: cpus.load };
}

/** Starts a server script in `ns`, placed as `placement` says, and waits for its ready line. */
function startServer(
  ns: Namespace,
  script: string,
  label: string,
  placement: Placement,
  args: string[] = [],
  cpuProfDir?: string,
): Promise<LineProcess> {
  const command = [
    Deno.execPath(),
    "run",
    "-A",
    "--unstable-net",
    gonetV8FlagsArg(["--expose-gc"]),
    ...(cpuProfDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${cpuProfDir}`]),
    script,
    ...args,
  ];
  if (placement && "mainThread" in placement) command.push("--main-cpus", placement.mainThread);
  return startCommand(ns, command, label, placement);
}

/**
 * Starts `command` in `ns` (whole, on the CPUs of a `process` placement) and waits for its
 * ready line.
 */
async function startCommand(
  ns: Namespace,
  command: string[],
  label: string,
  placement: Placement,
): Promise<LineProcess> {
  const server = ns.start(
    placement && "process" in placement ? onCpus(placement.process, command) : command,
    label,
  );
  const ready = await server.next(30_000);
  if (ready.ready !== true) {
    throw new Error(`${label}: unexpected first line ${JSON.stringify(ready)}`);
  }
  return server;
}

/** How long the profiled gonet server gets to write its CPU profile and exit, ms. */
const PROFILE_WRITE_MS = 60_000;

/** Busy polling of the latency-only gonet side: longer than the pings' interval (0.2 s). */
const BUSY_POLL_MICROS = 300_000;

/** A gonet server started with other flags, measured by experiment 1 only. */
interface GonetVariant {
  /** Namespace suffix. */
  suffix: string;
  /** Side name in the results. */
  stack: string;
  /** Extra server flags. */
  args: string[];
  /** The variant's `--busy-poll`, us, when it polls. */
  busyPollMicros?: number;
}

/**
 * The latency-only gonet servers: one that busy-polls its TAP (G3, what polling instead of
 * sleeping buys at low load), and one without each of the cache warmer (G6), naps (G9),
 * spinning ahead (G11) and rehearsals (G12), to show what each buys.
 */
const GONET_VARIANTS: readonly GonetVariant[] = [
  {
    suffix: "g3",
    stack: "gonet busy-poll",
    args: ["--busy-poll", String(BUSY_POLL_MICROS)],
    busyPollMicros: BUSY_POLL_MICROS,
  },
  { suffix: "g6", stack: "gonet no warmer", args: ["--keep-warm", "0"] },
  { suffix: "g9", stack: "gonet no naps", args: ["--nap", "0"] },
  { suffix: "g11", stack: "gonet no spin-ahead", args: ["--spin-ahead", "0"] },
  { suffix: "g12", stack: "gonet no rehearsal", args: ["--rehearse", "0"] },
];

/** Starts the {@link GONET_VARIANTS}, one after the other. */
async function setUpGonetVariants(
  namespaces: Namespaces,
  cpus: CpuLayout | undefined,
): Promise<Side[]> {
  const sides: Side[] = [];
  for (const variant of GONET_VARIANTS) {
    sides.push(await setUpGonetVariant(namespaces, cpus, variant));
  }
  return sides;
}

/** Starts one {@link GonetVariant} in a namespace of its own. */
async function setUpGonetVariant(
  namespaces: Namespaces,
  cpus: CpuLayout | undefined,
  variant: GonetVariant,
): Promise<Side> {
  const ns = await namespaces.create(variant.suffix);
  const label = `gonet server (${variant.stack.slice("gonet ".length)})`;
  const server = await startServer(ns, GONET_SERVER, label, responder(cpus), variant.args);
  return {
    stack: variant.stack,
    clientNs: ns,
    serverIp: "10.0.0.2",
    clientIp: "10.0.0.1",
    server,
    responder: server.child,
    offloads: "with offloads",
    busyPollMicros: variant.busyPollMicros,
    loadCpus: cpus?.load,
  };
}

const REFLECTOR = new URL("./servers/reflector.ts", import.meta.url).pathname;

/** One way of waiting for a reflector: its namespace suffix, name suffix and flags. */
interface ReflectorVariant {
  /** Namespace suffix. */
  suffix: string;
  /** Appended to the reflector's name ("" for the one that waits like gonet). */
  name: string;
  /** `--busy-poll`, us. */
  busyPollMicros: number;
  /** `--nap`, us. */
  napMicros: number;
}

/**
 * Starts the reflectors named `name` in `variants`, with `start`; they are measured by
 * experiment 1 only, up to `maxConcurrency` pingers.
 */
async function setUpReflectorSides(
  namespaces: Namespaces,
  cpus: CpuLayout | undefined,
  name: string,
  variants: readonly ReflectorVariant[],
  start: (ns: Namespace, label: string, args: string[]) => Promise<LineProcess>,
  maxConcurrency?: number,
): Promise<Side[]> {
  const sides: Side[] = [];
  for (const variant of variants) {
    const ns = await namespaces.create(variant.suffix);
    const label = name + variant.name;
    const reflector = await start(ns, label, [
      "--busy-poll",
      String(variant.busyPollMicros),
      "--nap",
      String(variant.napMicros),
    ]);
    sides.push({
      stack: label,
      clientNs: ns,
      serverIp: "10.0.0.2",
      clientIp: "10.0.0.1",
      responder: reflector.child,
      busyPollMicros: variant.busyPollMicros,
      loadCpus: cpus?.load,
      maxConcurrency,
    });
  }
  return sides;
}

/** Waiting like gonet (inline with naps, then sleeping), and busy-polling. */
const GONET_LIKE_AND_BUSY: readonly ReflectorVariant[] = [
  { suffix: "", name: "", busyPollMicros: 0, napMicros: DEFAULT_NAP_MICROS },
  { suffix: "", name: " busy-poll", busyPollMicros: BUSY_POLL_MICROS, napMicros: 0 },
];

/**
 * The floor of experiment 1: a minimal echo responder on the same TAP code, with no stack behind
 * it, waiting like gonet (namespace G4) and busy-polling (G5). Measured by experiment 1 only.
 */
function setUpReflectors(namespaces: Namespaces, cpus: CpuLayout | undefined): Promise<Side[]> {
  const [like, busy] = GONET_LIKE_AND_BUSY;
  return setUpReflectorSides(
    namespaces,
    cpus,
    "reflector",
    [{ ...like, suffix: "g4" }, { ...busy, suffix: "g5" }],
    (ns, label, args) => startServer(ns, REFLECTOR, label, responder(cpus), args),
  );
}

/**
 * The machine's floor of experiment 1: the reflector in C (`servers/c_reflector.c`), built with
 * the machine's compiler into `dir`, napping like gonet (namespace G7), busy-polling (G8) and
 * sleeping in `poll(2)` without naps (G10), measured at C=1 only. It is one thread, so pinning
 * the whole process places it like a responder's JS thread. Without a compiler the sides are
 * left out with a note.
 */
async function setUpCReflectors(
  namespaces: Namespaces,
  cpus: CpuLayout | undefined,
  dir: string,
  note: (message: string) => void,
): Promise<Side[]> {
  const binary = await buildCReflector(dir);
  if (binary instanceof Error) {
    note(`exp1: the C reflector (the machine's floor) is left out: ${binary.message}`);
    return [];
  }
  const placement = cpus && { process: cpus.server };
  const [like, busy] = GONET_LIKE_AND_BUSY;
  return setUpReflectorSides(
    namespaces,
    cpus,
    "c reflector",
    [
      { ...like, suffix: "g7" },
      { ...busy, suffix: "g8" },
      { suffix: "g10", name: " no naps", busyPollMicros: 0, napMicros: 0 },
    ],
    (ns, label, args) => startCommand(ns, [binary, ...args], label, placement),
    1,
  );
}

/**
 * A second gonet server without TAP offloads, in its own namespace G2, for experiment 3's
 * with/without comparison.
 */
async function setUpPlainGonet(
  namespaces: Namespaces,
  cpus: CpuLayout | undefined,
): Promise<Side> {
  const g2 = await namespaces.create("g2");
  const server = await startServer(
    g2,
    GONET_SERVER,
    "gonet server (no offloads)",
    responder(cpus),
    [
      "--no-offload",
    ],
  );
  await startServer(g2, KERNEL_SERVER, "kernel peer in G2", loadPeer(cpus));
  return {
    stack: "gonet",
    clientNs: g2,
    serverIp: "10.0.0.2",
    clientIp: "10.0.0.1",
    server,
    offloads: "without offloads",
    loadCpus: cpus?.load,
  };
}

/** Builds the sides: gonet in G, the kernel in K1/K2 (or one external target). */
async function setUp(
  namespaces: Namespaces,
  cpus: CpuLayout | undefined,
  flags: { targetNs?: string; targetIp?: string; gonetArgs?: string[]; cpuProfDir?: string },
): Promise<Side[]> {
  if (flags.targetNs || flags.targetIp) {
    if (!flags.targetNs || !flags.targetIp) {
      throw new Error("--target-ns and --target-ip go together");
    }
    return [{
      stack: "target",
      clientNs: namespaces.existing(flags.targetNs),
      serverIp: flags.targetIp,
      loadCpus: cpus?.load,
    }];
  }
  const g = await namespaces.create("g");
  const gonetServer = await startServer(
    g,
    GONET_SERVER,
    "gonet server",
    responder(cpus),
    flags.gonetArgs,
    flags.cpuProfDir,
  );
  // The kernel discard server gonet's own clients send to (exp. 2 from-server), at 10.0.0.1:
  // part of the load, so it runs where the load does.
  await startServer(g, KERNEL_SERVER, "kernel peer in G", loadPeer(cpus));

  const k1 = await namespaces.create("k1");
  const k2 = await namespaces.create("k2");
  await namespaces.veth(k1, "10.0.1.1/24", k2, "10.0.1.2/24");
  const kernelServer = await startServer(k2, KERNEL_SERVER, "kernel server", responder(cpus));
  await startServer(k1, KERNEL_SERVER, "kernel peer in K1", loadPeer(cpus));
  return [
    {
      stack: "gonet",
      clientNs: g,
      serverIp: "10.0.0.2",
      clientIp: "10.0.0.1",
      server: gonetServer,
      responder: gonetServer.child,
      offloads: "with offloads",
      loadCpus: cpus?.load,
    },
    {
      stack: "kernel",
      clientNs: k1,
      serverIp: "10.0.1.2",
      clientIp: "10.0.1.1",
      server: kernelServer,
      responder: kernelServer.child,
      offloads: "kernel defaults",
      loadCpus: cpus?.load,
    },
  ];
}

function want3(plan: { experiments: number[] }): boolean {
  return plan.experiments.includes(3);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      smoke: { type: "boolean", default: false },
      out: { type: "string" },
      only: { type: "string" },
      "target-ns": { type: "string" },
      "target-ip": { type: "string" },
      "raw-ping": { type: "boolean", default: false },
      "gonet-arg": { type: "string", multiple: true },
      "no-pin": { type: "boolean", default: false },
      "cpu-prof": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (Deno.uid() !== 0) {
    console.error("bench: needs root (network namespaces, TAP devices)");
    return 2;
  }
  const plan = planFor(values.smoke ? "smoke" : values.quick ? "quick" : "full");
  if (values.only) plan.experiments = values.only.split(",").map(Number);
  const outDir = values.out ??
    new URL(values.smoke ? "./results/smoke" : "./results", import.meta.url).pathname;

  const cpus = values["no-pin"] ? undefined : defaultCpuLayout();
  if (values["cpu-prof"] !== undefined) await Deno.mkdir(values["cpu-prof"], { recursive: true });
  const started = performance.now();
  const namespaces = new Namespaces({ rawPing: values["raw-ping"] });
  const notes: string[] = [];
  const log = (message: string) =>
    console.error(`[${((performance.now() - started) / 1000).toFixed(1)}s] ${message}`);
  const note = (message: string) => {
    notes.push(message);
    log(`note: ${message}`);
  };
  // Where the C reflector is built; removed with the namespaces.
  const buildDir = await Deno.makeTempDir({ prefix: "gonet-bench-" });
  let cleaning: Promise<void> | undefined;
  const cleanUp = () =>
    cleaning ??= namespaces.deleteAll().finally(() => Deno.remove(buildDir, { recursive: true }));
  const onSignal = () => {
    log("interrupted: cleaning up");
    cleanUp().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);

  const results: Results = {
    machine: await describeMachine(),
    plan,
    pingSockets: values["raw-ping"] ? "raw" : "datagram",
    cpuLayout: cpus,
    sides: [],
    durationSeconds: 0,
    experiments: {},
    notes,
  };
  try {
    const sides = await setUp(namespaces, cpus, {
      targetNs: values["target-ns"],
      targetIp: values["target-ip"],
      gonetArgs: values["gonet-arg"],
      cpuProfDir: values["cpu-prof"],
    });
    const bulkOnlySides = want3(plan) && sides.some((s) => s.stack === "gonet")
      ? [await setUpPlainGonet(namespaces, cpus)]
      : [];
    const latencyOnlySides = plan.experiments.includes(1) && plan.mode !== "smoke" &&
        sides.some((s) => s.stack === "gonet")
      ? [
        ...await setUpGonetVariants(namespaces, cpus),
        ...await setUpReflectors(namespaces, cpus),
        ...await setUpCReflectors(namespaces, cpus, buildDir, note),
      ]
      : [];
    const gonetArgs = values["gonet-arg"]?.length ? ` (${values["gonet-arg"].join(" ")})` : "";
    results.sides = [...sides, ...latencyOnlySides, ...bulkOnlySides].map((s) => ({
      stack: s.stack + (s.offloads === "without offloads" ? " (no offloads)" : "") +
        (s === sides[0] && s.stack === "gonet" ? gonetArgs : ""),
      serverIp: s.serverIp,
      namespace: s.clientNs.name,
    }));
    log(`sides: ${sides.map((s) => `${s.stack} ${s.serverIp}`).join(", ")}; plan ${plan.mode}`);
    const ctx: Context = {
      sides,
      bulkOnlySides,
      latencyOnlySides,
      plan,
      log,
      note,
    };
    const e = results.experiments;
    const want = (n: number) => plan.experiments.includes(n);
    const gonet = sides.find((s) => s.stack === "gonet" && s.server);
    const timeline: Record<string, unknown>[] = [];
    results.gonetTimeline = timeline;
    // The gonet server's RSS and connection table after each experiment: growth shows here.
    const checkpoint = async (after: string) => {
      if (!gonet) return;
      const stats = await serverStats(gonet).catch(() => undefined);
      if (!stats) return;
      const tcp = (stats.gonet as { tcp?: { activeConnections?: number } } | undefined)?.tcp;
      timeline.push({
        after,
        rssBytes: stats.rssBytes,
        cpuSeconds: stats.cpuSeconds,
        tcpActiveConnections: tcp?.activeConnections,
      });
    };
    await checkpoint("start");
    // Memory (5) runs early: bulk transfers and the connection-rate test leave the gonet server
    // with a larger heap and a table full of TIME-WAIT connections, which would skew it.
    if (want(1)) {
      e.latency = await runLatency(ctx);
      await checkpoint("exp1");
    }
    if (want(5)) {
      e.memory = await runMemory(ctx);
      await checkpoint("exp5");
    }
    if (want(2)) {
      e.throughput = await runThroughput(ctx);
      await checkpoint("exp2");
    }
    if (want(3)) {
      e.bulk = await runBulk(ctx);
      await checkpoint("exp3");
    }
    if (want(4)) {
      e.connRate = await runConnRate(ctx);
      await checkpoint("exp4");
    }
    if (want(6)) {
      e.udp = await runUdp(ctx);
      await checkpoint("exp6");
    }
    if (gonet) results.gonetFinalStats = await serverStats(gonet).catch(() => undefined);
    if (values["cpu-prof"] !== undefined && gonet?.server) {
      // V8 writes the profile only on a normal exit, which SIGTERM at clean-up is not.
      await gonet.server.stop(PROFILE_WRITE_MS);
      log(`gonet server's CPU profile in ${values["cpu-prof"]}`);
    }
  } catch (error) {
    notes.push(`run aborted: ${error instanceof Error ? error.stack : error}`);
    log(`error: ${error instanceof Error ? error.stack : error}`);
  } finally {
    await cleanUp();
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }

  results.durationSeconds = (performance.now() - started) / 1000;
  await Deno.mkdir(outDir, { recursive: true });
  await Deno.writeTextFile(`${outDir}/results.json`, JSON.stringify(results, null, 2) + "\n");
  await Deno.writeTextFile(`${outDir}/results.md`, renderMarkdown(results));
  if (results.experiments.latency) {
    await Deno.writeTextFile(
      `${outDir}/exp1_latency.svg`,
      await latencyChart(results.experiments.latency),
    );
  }
  if (results.experiments.throughput) {
    await Deno.writeTextFile(
      `${outDir}/exp2_throughput.svg`,
      await throughputChart(results.experiments.throughput),
    );
  }
  log(`wrote ${outDir}/results.{json,md} in ${results.durationSeconds.toFixed(0)} s`);
  return notes.some((n) => n.startsWith("run aborted")) ? 1 : 0;
}

if (import.meta.main) {
  Deno.exit(await main());
}
