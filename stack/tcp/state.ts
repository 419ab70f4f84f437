/**
 * The TCP connection states (RFC 9293 §3.3.2, Figure 6).
 * @module
 */

/** Connection states; the values are stable small numbers for cheap comparisons. */
export const TcpState = {
  Closed: 0,
  Listen: 1,
  SynSent: 2,
  SynReceived: 3,
  Established: 4,
  FinWait1: 5,
  FinWait2: 6,
  CloseWait: 7,
  Closing: 8,
  LastAck: 9,
  TimeWait: 10,
} as const;

/** One of the {@link TcpState} values. */
export type TcpState = typeof TcpState[keyof typeof TcpState];

const NAMES = [
  "CLOSED",
  "LISTEN",
  "SYN-SENT",
  "SYN-RECEIVED",
  "ESTABLISHED",
  "FIN-WAIT-1",
  "FIN-WAIT-2",
  "CLOSE-WAIT",
  "CLOSING",
  "LAST-ACK",
  "TIME-WAIT",
];

/** The RFC's name for a state, e.g. `FIN-WAIT-1`. */
export function stateName(state: TcpState): string {
  return NAMES[state] ?? `UNKNOWN(${state})`;
}

/** States in which the connection is synchronized (RFC 9293 §3.5.2 "synchronized states"). */
export function isSynchronized(state: TcpState): boolean {
  return state >= TcpState.Established;
}

/** States in which we may still send data: our FIN is not queued yet. */
export function canSendData(state: TcpState): boolean {
  return state === TcpState.Established || state === TcpState.CloseWait;
}

/** States in which the peer may still send us data: its FIN has not arrived. */
export function canReceiveData(state: TcpState): boolean {
  return state === TcpState.Established || state === TcpState.FinWait1 ||
    state === TcpState.FinWait2;
}
