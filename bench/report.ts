/**
 * results.md: one Markdown table per experiment, every gonet number followed by its ratio to the
 * kernel's number for the same point (gonet / kernel).
 * @module
 */

import type { CpuLayout } from "./cpus.ts";
import type { MachineInfo } from "./machine.ts";
import type { Plan } from "./experiments/context.ts";
import type { LatencyRow } from "./experiments/latency.ts";
import type { ThroughputRow } from "./experiments/throughput.ts";
import type { BulkRow } from "./experiments/bulk.ts";
import type { ConnRateRow } from "./experiments/conn_rate.ts";
import type { MemoryRow } from "./experiments/memory.ts";
import type { UdpRow } from "./experiments/udp.ts";

/** Everything one run measured (the shape of results.json). */
export interface Results {
  /** The machine. */
  machine: MachineInfo;
  /** The plan that ran. */
  plan: Plan;
  /** Which sockets the load's `ping` used: ICMP datagram sockets or raw ones (`--raw-ping`). */
  pingSockets?: "datagram" | "raw";
  /** CPUs of the responders and of the load (absent: `--no-pin`, or a single CPU). */
  cpuLayout?: CpuLayout;
  /** Sides measured and their addresses. */
  sides: { stack: string; serverIp: string; namespace: string }[];
  /** Run time, s. */
  durationSeconds: number;
  /** Experiment results. */
  experiments: {
    latency?: LatencyRow[];
    throughput?: ThroughputRow[];
    bulk?: BulkRow[];
    connRate?: ConnRateRow[];
    memory?: MemoryRow[];
    udp?: UdpRow[];
  };
  /** Problems seen while measuring. */
  notes: string[];
  /** The gonet server's RSS, CPU and TCP table size after each experiment. */
  gonetTimeline?: Record<string, unknown>[];
  /** The gonet server's counters at the end. */
  gonetFinalStats?: unknown;
}

/** Formats a number for a table. */
export function fmt(value: number | undefined, digits = 2): string {
  if (value === undefined || !Number.isFinite(value)) return "–";
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString("en-US");
  return value.toFixed(digits);
}

/** Number with its ratio to the baseline, e.g. `1.23 (×4.1)`. */
function withRatio(value: number | undefined, base: number | undefined, digits = 2): string {
  const text = fmt(value, digits);
  if (value === undefined || base === undefined || !Number.isFinite(value) || !(base > 0)) {
    return text;
  }
  return `${text} (×${fmt(value / base, 2)})`;
}

function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

/**
 * Every row in its original order; rows of the non-kernel sides carry the kernel row with the same
 * `key` as `base`, so their numbers can show the ratio. Kernel rows show their absolute numbers.
 */
function paired<T extends { stack: string }>(
  rows: T[],
  key: (row: T) => string,
): { row: T; base: T | undefined }[] {
  const kernel = new Map(rows.filter((r) => r.stack === "kernel").map((r) => [key(r), r]));
  return rows.map((row) => ({
    row,
    base: row.stack === "kernel" ? undefined : kernel.get(key(row)),
  }));
}

const pct = (v: number | undefined) => v === undefined ? "–" : `${fmt(v * 100, 1)}%`;

/** Renders results.md. */
export function renderMarkdown(results: Results): string {
  const m = results.machine;
  const e = results.experiments;
  const out: string[] = [];
  out.push(`# gonet benchmark (${results.plan.mode})`);
  out.push("");
  out.push(
    `Measured ${m.date} on ${m.nproc} × ${m.cpuModel}, ${fmt(m.memoryBytes / 2 ** 30, 1)} GiB, ` +
      `Linux ${m.kernel}, Deno ${m.deno.deno} (V8 ${m.deno.v8}); run took ` +
      `${fmt(results.durationSeconds, 0)} s. Load average at the start: ${m.loadAverage} ` +
      `(anything above ~0.5 means other work shared the ${m.nproc} CPUs and skews the numbers).`,
  );
  out.push("");
  out.push(
    "Each gonet number is followed by its ratio to the kernel's number for the same point " +
      "(gonet / kernel); the kernel's own rows follow the gonet ones. gonet: the stack on a TAP in namespace G, load from the kernel side of the " +
      "TAP. kernel: the same server code on kernel sockets, load over a veth pair between two " +
      "namespaces. Load generators are separate processes" +
      (results.cpuLayout
        ? `; the responders' JS threads ran on CPU ${results.cpuLayout.server} and the load on ` +
          `CPU ${results.cpuLayout.load}, as if on two machines (bench/README.md, CPUs).`
        : ", placed by the scheduler (`--no-pin`)."),
  );
  for (const s of results.sides) out.push(`- ${s.stack}: ${s.serverIp} (load in ${s.namespace})`);

  if (e.latency?.length) {
    out.push("", "## 1. Latency vs load (concurrent kernel `ping` processes)", "");
    out.push(
      `Each process: ${results.plan.pingCount} requests (${results.plan.pingCountAlone} at C=1), ` +
        `${results.plan.pingInterval} s apart. ` +
        (results.pingSockets === "raw"
          ? "ping used raw ICMP sockets (`--raw-ping`): every echo reply is copied to every " +
            "pinger's socket, so at high C the cost of a reply grows with C."
          : "ping used ICMP datagram sockets (net.ipv4.ping_group_range opened to all groups in " +
            "the load namespaces, as systemd does on current distributions), so each reply " +
            "reaches only its own pinger.") +
        (e.latency.some((r) => r.stack === "gonet busy-poll")
          ? " gonet busy-poll: a second gonet server started with `--busy-poll 300000`: it " +
            "checks the TAP between event-loop turns instead of sleeping for up to 0.3 s after " +
            "each frame (one CPU kept busy); measured up to C=100."
          : "") +
        (e.latency.some((r) => r.stack === "gonet no warmer")
          ? " gonet no warmer: a gonet server started with `--keep-warm 0`, without the twin " +
            "stacks that rehearse an echo every 5 ms to keep the caches warm (`stack/" +
            "cache_warmer.ts`); measured up to C=100."
          : "") +
        (e.latency.some((r) => r.stack === "gonet no naps")
          ? " gonet no naps: a gonet server started with `--nap 0`: its inline waits sleep in " +
            "one piece of up to 4 ms instead of in 0.1 ms naps for a second after each frame " +
            "(`ffi/inline_wait.ts`, rule 4); measured up to C=100."
          : "") +
        (e.latency.some((r) => r.stack === "gonet no spin-ahead")
          ? " gonet no spin-ahead: a gonet server started with `--spin-ahead 0`: it does not " +
            "poll the TAP around the expected arrival of periodic traffic such as a lone " +
            "pinger's requests (`ffi/spin_ahead.ts`); measured up to C=100."
          : "") +
        (e.latency.some((r) => r.stack === "gonet no rehearsal")
          ? " gonet no rehearsal: a gonet server started with `--rehearse 0`: while it polls " +
            "the TAP between requests it does not replay the last answered echo through the " +
            "stack to keep the path's code and data in the caches (`stack/link/" +
            "echo_rehearsal.ts`); measured up to C=100."
          : "") +
        (e.latency.some((r) => r.stack.startsWith("reflector"))
          ? " reflector / reflector busy-poll: the floor, a minimal responder on the same TAP " +
            "code that rewrites each echo request into its reply in place, with no stack behind " +
            "it (`bench/servers/reflector.ts`), waiting like gonet (inline with naps and " +
            "spinning ahead, then sleeping) and " +
            "busy-polling; measured up to C=100."
          : "") +
        (e.latency.some((r) => r.stack.startsWith("c reflector"))
          ? " c reflector / c reflector busy-poll / c reflector no naps: the machine's floor, " +
            "the same responder in C (`bench/servers/c_reflector.c`, built with the machine's " +
            "compiler), napping in `ppoll(2)` for a second after each frame like gonet (but " +
            "not spinning ahead), " +
            "busy-polling, and sleeping in one piece; no responder that waits the same way " +
            "answers faster on these CPUs; measured at C=1."
          : "") +
        (results.plan.extraSidePingSizes.length < results.plan.pingSizes.length
          ? ` These extra sides were measured at ${
            results.plan.extraSidePingSizes.join(" and ")
          } B only.`
          : ""),
      "",
    );
    out.push(table(
      ["stack", "payload B", "C", "mean ms", "p50 ms", "p99 ms", "loss", "sent"],
      paired(e.latency, (r) => `${r.payload}/${r.concurrency}`).map(({ row, base }) => [
        row.stack,
        String(row.payload),
        String(row.concurrency),
        withRatio(row.meanMs, base?.meanMs, 3),
        withRatio(row.p50Ms, base?.p50Ms, 3),
        withRatio(row.p99Ms, base?.p99Ms, 3),
        pct(row.loss),
        String(row.sent),
      ]),
    ));
    out.push("", "![exp1](exp1_latency.svg)");
  }
  if (e.throughput?.length) {
    out.push("", "## 2. Throughput vs connections", "");
    out.push(
      "to-server: N kernel clients send to the responder's discard port; from-server: N clients " +
        "on the responder's own stack send to a kernel discard server in the load namespace. " +
        "Mbit/s counts only bytes the receiver confirmed. Each point runs " +
        `${results.plan.connWarmupRounds} uncounted warm-up rounds, then ` +
        `${results.plan.connRounds} counted ones, and shows the median counted round: load ` +
        "generators and servers alike are JIT-compiled programs whose first rounds run " +
        "unoptimized code (all rounds are in results.json).",
      "",
    );
    out.push(table(
      ["stack", "direction", "bytes/conn", "N", "Mbit/s", "wall ms", "ok/N"],
      paired(e.throughput, (r) => `${r.direction}/${r.bytesPerConn}/${r.connections}`).map((
        { row, base },
      ) => [
        row.stack,
        row.direction,
        String(row.bytesPerConn),
        String(row.connections),
        withRatio(row.mbitPerS, base?.mbitPerS, 1),
        withRatio(row.wallMs, base?.wallMs, 0),
        `${row.completed}/${row.connections}`,
      ]),
    ));
    out.push("", "![exp2](exp2_throughput.svg)");
  }
  if (e.bulk?.length) {
    out.push("", "## 3. Bulk transfer, one stream", "");
    out.push(table(
      [
        "stack",
        "direction",
        "offloads",
        "MB",
        "Mbit/s",
        "server CPU s/GB",
        "machine CPU s/GB",
      ],
      paired(e.bulk, (r) => r.direction).map(({ row, base }) => [
        row.stack,
        row.direction,
        row.offloads,
        fmt(row.bytes / 1e6, 0),
        withRatio(row.mbitPerS, base?.mbitPerS, 1),
        withRatio(row.serverCpuSecPerGB, base?.serverCpuSecPerGB, 2),
        withRatio(row.machineCpuSecPerGB, base?.machineCpuSecPerGB, 2),
      ]),
    ));
  }
  if (e.connRate?.length) {
    out.push("", "## 4. Connection rate (connect, one exchange, close)", "");
    const rounds = e.connRate[0].rounds ?? 1;
    if (rounds > 1) {
      out.push(
        `Each side's time is split into ${rounds} rounds and the sides take turns in every ` +
          "round, so a machine whose speed drifts slows them alike.",
        "",
      );
    }
    out.push(table(
      ["stack", "loops", "per second", "completed", "failed"],
      paired(e.connRate, () => "").map(({ row, base }) => [
        row.stack,
        String(row.loops),
        withRatio(row.perSecond, base?.perSecond, 0),
        String(row.completed),
        String(row.failed),
      ]),
    ));
  }
  if (e.memory?.length) {
    out.push("", "## 5. Memory per established idle connection", "");
    out.push(
      "RSS delta of the server process, after a memory-reducing GC (the state V8's memory " +
        "reducer brings an idle process to by itself). bytes/conn: the whole delta over all " +
        "connections; marginal: the growth over the second half, per connection, free of " +
        "one-time growth. The kernel row counts only user-space memory: the kernel's own socket " +
        "memory is not in a process's RSS. heap and external: the JS engine's share of the " +
        "marginal growth (objects, and ArrayBuffer memory outside the heap).",
      "",
    );
    out.push(table(
      [
        "stack",
        "open",
        "RSS before MiB",
        "RSS after MiB",
        "bytes/conn",
        "marginal bytes/conn",
        "heap / external B/conn",
      ],
      paired(e.memory, () => "").map(({ row, base }) => [
        row.stack,
        `${row.opened}/${row.requested}`,
        fmt(row.rssBeforeBytes / 2 ** 20, 1),
        fmt(row.rssAfterBytes / 2 ** 20, 1),
        withRatio(row.bytesPerConn, base?.bytesPerConn, 0),
        withRatio(row.marginalBytesPerConn, base?.marginalBytesPerConn, 0),
        `${fmt(row.marginalHeapBytesPerConn ?? NaN, 0)} / ${
          fmt(row.marginalExternalBytesPerConn ?? NaN, 0)
        }`,
      ]),
    ));
  }
  if (e.udp?.length) {
    out.push("", "## 6. UDP datagrams per second", "");
    out.push(
      "received: a kernel client sends as fast as its socket takes them, the responder counts; " +
        "sent: the responder sends, a kernel sink counts.",
      "",
    );
    out.push(table(
      ["stack", "direction", "size B", "delivered/s", "offered/s", "loss"],
      paired(e.udp, (r) => `${r.direction}/${r.size}`).map(({ row, base }) => [
        row.stack,
        row.direction,
        String(row.size),
        withRatio(row.deliveredPerSecond, base?.deliveredPerSecond, 0),
        withRatio(row.sentPerSecond, base?.sentPerSecond, 0),
        pct(row.loss),
      ]),
    ));
  }
  if (results.gonetTimeline?.length) {
    out.push("", "## gonet server after each experiment", "");
    out.push(table(
      ["after", "RSS MiB", "CPU s", "TCP connections in table"],
      results.gonetTimeline.map((t) => [
        String(t.after),
        fmt(Number(t.rssBytes) / 2 ** 20, 1),
        fmt(Number(t.cpuSeconds), 1),
        String(t.tcpActiveConnections ?? "–"),
      ]),
    ));
  }
  if (results.notes.length) {
    out.push("", "## Problems seen during the run", "");
    for (const note of results.notes) out.push(`- ${note.replaceAll("\n", " ")}`);
  }
  out.push("");
  return out.join("\n");
}
