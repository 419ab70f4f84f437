/**
 * TCP for the gonet user-space stack: the dealer ({@link TcpLayer}), Deno-shaped connections and
 * listeners, and the sans-I/O control block for those who drive it themselves.
 * @module
 */

export { TcpLayer, type TcpLayerOptions, type TcpStats } from "./layer.ts";
export { type TcpAddr, TcpConn } from "./conn.ts";
export { TcpListener } from "./listener.ts";
export { DEFAULT_TCB_CONFIG, type TcbConfig, type TcbCounters } from "./config.ts";
export { type InSegment, type OutSegment, resetFor } from "./segment.ts";
export { Tcb, type TcbInit } from "./tcb.ts";
export type { TcpError } from "./errors.ts";
export { stateName, TcpState } from "./state.ts";
export type { CongestionAlgorithm } from "./congestion/types.ts";
