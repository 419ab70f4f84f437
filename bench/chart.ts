/**
 * SVG charts of experiments 1 and 2, drawn by Vega-Lite (compiled to Vega, rendered headless
 * with `view.toSVG()`).
 * @module
 */

import * as vega from "vega";
import * as vl from "vega-lite";
import type { LatencyRow } from "./experiments/latency.ts";
import type { ThroughputRow } from "./experiments/throughput.ts";

/** Renders a Vega-Lite spec to an SVG string. */
export async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  const compiled = vl.compile(spec as unknown as vl.TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Experiment 1: mean and p99 RTT against concurrent pingers, one panel per payload size. */
export function latencyChart(rows: LatencyRow[]): Promise<string> {
  const values = rows.flatMap((r) => [
    { ...r, statistic: "mean", rttMs: r.meanMs, series: `${r.stack} mean` },
    { ...r, statistic: "p99", rttMs: r.p99Ms, series: `${r.stack} p99` },
  ]).filter((v) => Number.isFinite(v.rttMs) && v.rttMs > 0);
  return renderSvg({
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "Exp. 1: ICMP echo RTT vs concurrent ping processes",
      subtitle: "solid: mean, dashed: p99",
    },
    data: { values },
    facet: { column: { field: "payload", type: "ordinal", title: "payload bytes" } },
    spec: {
      width: 300,
      height: 240,
      mark: { type: "line", point: true },
      encoding: {
        x: {
          field: "concurrency",
          type: "quantitative",
          scale: { type: "log" },
          title: "concurrent ping processes",
        },
        y: { field: "rttMs", type: "quantitative", scale: { type: "log" }, title: "RTT (ms)" },
        color: { field: "stack", type: "nominal" },
        strokeDash: {
          field: "statistic",
          type: "nominal",
          legend: { symbolType: "stroke", symbolStrokeColor: "black", symbolStrokeWidth: 2 },
        },
        detail: { field: "series" },
      },
    },
  });
}

/** Experiment 2: aggregate Mbit/s against concurrent connections. */
export function throughputChart(rows: ThroughputRow[]): Promise<string> {
  const values = rows.filter((r) => r.mbitPerS > 0).map((r) => ({
    ...r,
    series: `${r.stack} ${r.direction}`,
    size: r.bytesPerConn >= 1 << 20
      ? `${r.bytesPerConn / (1 << 20)} MiB`
      : `${r.bytesPerConn / 1024} KiB`,
  }));
  return renderSvg({
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "Exp. 2: aggregate TCP throughput vs concurrent connections",
      subtitle:
        "solid: from-server (its own clients send), dashed: to-server (kernel clients send)",
    },
    data: { values },
    facet: { column: { field: "size", type: "nominal", title: "bytes per connection" } },
    resolve: { scale: { y: "independent" } },
    spec: {
      width: 300,
      height: 240,
      mark: { type: "line", point: true },
      encoding: {
        x: {
          field: "connections",
          type: "quantitative",
          scale: { type: "log" },
          title: "concurrent connections",
        },
        y: {
          field: "mbitPerS",
          type: "quantitative",
          scale: { type: "log" },
          title: "Mbit/s (confirmed by the receiver)",
        },
        color: { field: "stack", type: "nominal" },
        strokeDash: {
          field: "direction",
          type: "nominal",
          legend: { symbolType: "stroke", symbolStrokeColor: "black", symbolStrokeWidth: 2 },
        },
        detail: { field: "series" },
      },
    },
  });
}
