/**
 * Option negotiation rules used on SYN and SYN-ACK: the MSS we announce (RFC 9293 §3.7.1), the
 * window-scale shift we pick (RFC 7323 §2.2, §2.3), and the effective send MSS (RFC 6691).
 * @module
 */

/** IPv4 + TCP header bytes without options. */
export const IPV4_TCP_HEADERS = 40;

/** RFC 9293 §3.7.1: an MSS of 536 is assumed when the peer sends no MSS option (IPv4). */
export const DEFAULT_IPV4_MSS = 536;

/** RFC 7323 §2.3: the largest shift count. */
export const MAX_WINDOW_SHIFT = 14;

/** The MSS to announce for a path MTU (RFC 9293 §3.7.1: MTU minus fixed IP and TCP headers). */
export function mssForMtu(mtu: number): number {
  return Math.max(DEFAULT_IPV4_MSS, Math.min(0xffff, mtu - IPV4_TCP_HEADERS));
}

/** The smallest shift that lets a 16-bit window field describe `bufferBytes` (RFC 7323 §2.2). */
export function windowShiftFor(bufferBytes: number): number {
  let shift = 0;
  while (shift < MAX_WINDOW_SHIFT && bufferBytes / 2 ** shift > 0xffff) shift++;
  return shift;
}

/**
 * The largest data payload per segment: the smaller of the peer's MSS and ours, minus the option
 * bytes every segment carries (RFC 6691 §2, RFC 9293 §3.7.1).
 */
export function effectiveSendMss(peerMss: number, ourMss: number, optionBytes: number): number {
  return Math.max(1, Math.min(peerMss, ourMss) - optionBytes);
}
