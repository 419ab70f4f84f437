/**
 * Per-connection tunables with their defaults, and the counters every connection of a layer adds
 * to.
 * @module
 */

import type { CongestionAlgorithm } from "./congestion/types.ts";

/** Tunables of one connection. Defaults are in {@link DEFAULT_TCB_CONFIG}. */
export interface TcbConfig {
  /** MSS we announce (from the MTU). */
  mss: number;
  /**
   * Largest segment payload the link can cut into MSS-sized segments for us (TSO); 0 without
   * segmentation offload. New data then goes out in super-segments of whole MSS multiples.
   */
  tsoBytes: number;
  /** Send buffer size in bytes. */
  sendBufferBytes: number;
  /** Receive buffer size in bytes (the most we advertise). */
  recvBufferBytes: number;
  /** Cap on out-of-order bytes held for reassembly. */
  maxOutOfOrderBytes: number;
  /** Offer window scaling (RFC 7323 §2). */
  windowScaling: boolean;
  /** Offer timestamps (RFC 7323 §3). */
  timestamps: boolean;
  /** Offer SACK (RFC 2018). */
  sack: boolean;
  /** Congestion-control algorithm. */
  congestion: CongestionAlgorithm;
  /** RTO before the first RTT sample (RFC 6298 §2.1). */
  initialRtoMs: number;
  /** Lowest RTO. */
  minRtoMs: number;
  /** Highest RTO (RFC 6298 §2.5). */
  maxRtoMs: number;
  /** Retransmissions of data or FIN before giving up with a timeout (RFC 9293 §3.8.3 R2). */
  maxRetries: number;
  /** Retransmissions of a SYN or SYN-ACK before giving up (R2 for SYN). */
  synRetries: number;
  /** Delayed-ACK timeout; 0 acknowledges every segment at once (RFC 9293 §3.8.6.3: < 500 ms). */
  delayedAckMs: number;
  /** TIME-WAIT duration, 2*MSL (RFC 9293 §3.4.2). */
  timeWaitMs: number;
  /** How long an orphaned (fully closed) connection may sit in FIN-WAIT-2. */
  finWait2TimeoutMs: number;
  /** Disable Nagle's algorithm (RFC 1122 §4.2.3.4). */
  noDelay: boolean;
  /** Send keepalives (RFC 9293 §3.8.4). */
  keepAlive: boolean;
  /** Idle time before the first keepalive (RFC 1122 §4.2.3.6: >= 2 h by default). */
  keepAliveIdleMs: number;
  /** Interval between unanswered keepalives. */
  keepAliveIntervalMs: number;
  /** Unanswered keepalives before the connection times out. */
  keepAliveProbes: number;
  /** Challenge ACKs allowed per second (RFC 5961 §7). */
  challengeAckLimit: number;
  /** Least time between ACKs answering out-of-window pure ACKs (Linux: 500 ms). */
  invalidAckIntervalMs: number;
  /** Send tail loss probes (RFC 8985 §7) when SACK is in use. */
  tailLossProbe: boolean;
  /** Shortest probe timeout. */
  tlpMinMs: number;
}

/** Defaults: Linux-like buffers and timers, 2*MSL = 60 s, CUBIC. */
export const DEFAULT_TCB_CONFIG: TcbConfig = {
  mss: 1460,
  tsoBytes: 0,
  sendBufferBytes: 256 * 1024,
  recvBufferBytes: 256 * 1024,
  maxOutOfOrderBytes: 256 * 1024,
  windowScaling: true,
  timestamps: true,
  sack: true,
  congestion: "cubic",
  initialRtoMs: 1000,
  minRtoMs: 200,
  maxRtoMs: 60_000,
  maxRetries: 12,
  synRetries: 6,
  delayedAckMs: 40,
  timeWaitMs: 60_000,
  finWait2TimeoutMs: 60_000,
  noDelay: false,
  keepAlive: false,
  keepAliveIdleMs: 7_200_000,
  keepAliveIntervalMs: 75_000,
  keepAliveProbes: 9,
  challengeAckLimit: 100,
  invalidAckIntervalMs: 500,
  tailLossProbe: true,
  tlpMinMs: 10,
};

/** Counters a TCB adds to (shared by all connections of a layer). */
export interface TcbCounters {
  /** Segments sent again (RTO, fast retransmit, recovery). */
  retransmissions: number;
  /** Fast retransmits (entries into loss recovery). */
  fastRetransmits: number;
  /** RTO expiries. */
  timeouts: number;
  /** Duplicate ACKs received. */
  duplicateAcks: number;
  /** Challenge ACKs sent (RFC 5961). */
  challengeAcks: number;
  /** Segments dropped by PAWS (RFC 7323 §5). */
  pawsDrops: number;
  /** Unacceptable segments (outside the window) answered with an ACK. */
  outOfWindow: number;
  /** Out-of-order segments dropped because the reassembly cap was reached. */
  outOfOrderDrops: number;
  /** Zero-window probes sent. */
  windowProbes: number;
  /** Keepalive probes sent. */
  keepAliveProbes: number;
  /** Tail loss probes sent (RFC 8985 §7). */
  tailLossProbes: number;
}

/** A fresh zeroed {@link TcbCounters}. */
export function newTcbCounters(): TcbCounters {
  return {
    retransmissions: 0,
    fastRetransmits: 0,
    timeouts: 0,
    duplicateAcks: 0,
    challengeAcks: 0,
    pawsDrops: 0,
    outOfWindow: 0,
    outOfOrderDrops: 0,
    windowProbes: 0,
    keepAliveProbes: 0,
    tailLossProbes: 0,
  };
}
