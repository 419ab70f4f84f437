/**
 * The connection-rate client of experiment 4, on the kernel's sockets through libc: `loops`
 * connections in flight, each a non-blocking connect, 32 bytes sent, 32 read back up to the
 * server's close, then close, driven by one synchronous `poll` loop on the JS thread.
 *
 * Why not `Deno.connect` like the other loads: its promise and runtime round trips per connection
 * cost the client more CPU than a connection costs either server, so on a 2-CPU machine the
 * client was the limit for both sides (the kernel baseline topped out at 8-10k/s with it). This
 * loop spends a handful of system calls per connection and nothing else, so the server under test
 * sets the rate.
 * @module
 */

import { Errno, lastErrno } from "../../ffi/errno.ts";
import {
  AF_INET,
  close,
  connect,
  poll,
  POLLERR,
  POLLFD_BYTES,
  POLLHUP,
  POLLIN,
  POLLNVAL,
  read,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  socket,
  write,
} from "../../ffi/libc.ts";
import { parseIpv4 } from "../../stack/wire/addr.ts";
import { ECHO_PORT, type RateResult } from "../workloads.ts";

/** `poll(2)` event: writable (a non-blocking connect has finished). */
const POLLOUT = 0x4;
/** Bytes of each exchange, as in the `Deno.connect` loop it replaces. */
const MESSAGE_BYTES = 32;
/**
 * Errnos with which a non-blocking TCP `connect(2)` fails at once; anything else but EINPROGRESS
 * means it is in progress. errno read from JavaScript can be stale: V8 may run between the call
 * and the read, and its own system calls set errno (seen once in CI: ENOENT after a connect that
 * was in progress).
 */
const SYNCHRONOUS_CONNECT_ERRORS: ReadonlySet<number> = new Set([
  Errno.EPERM,
  Errno.EACCES,
  Errno.EAFNOSUPPORT,
  Errno.EADDRNOTAVAIL,
  Errno.ENETDOWN,
  Errno.ENETUNREACH,
]);
/** Longest single wait for readiness, us: the deadlines are checked at least this often. */
const POLL_SLICE_MICROS = 50_000;
/** Pause after every connection in flight failed at once, us. */
const RETRY_PAUSE_MICROS = 1_000;

/** Where one in-flight connection is. */
const enum Phase {
  Idle,
  Connecting,
  Reading,
}

/** One connection slot of the loop. */
interface Slot {
  fd: number;
  phase: Phase;
  received: number;
  startedAt: number;
}

/** Options of {@link rawConnectionRate}. */
export interface RawRateOptions {
  /** The echo server's IPv4 address. */
  hostname: string;
  /** Its port (the benchmark's echo port by default). */
  port?: number;
  /** Connections in flight. */
  loops: number;
  /** How long to start new exchanges, ms. */
  durationMs: number;
  /** Most exchanges started overall. */
  maxCount: number;
  /** Longest one exchange may take before it counts as failed, ms. */
  timeoutMs: number;
}

/** A `struct sockaddr_in` for `hostname:port`. */
function sockaddrIn(hostname: string, port: number): Uint8Array {
  const address = parseIpv4(hostname);
  if (address === undefined) throw new RangeError(`Invalid IPv4 address ${hostname}`);
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, AF_INET, true); // sin_family is host order
  view.setUint16(2, port); // sin_port is network order
  view.setUint32(4, address); // so is sin_addr
  return bytes;
}

/**
 * Runs the loop: exchanges start for `durationMs` (at most `maxCount`), those in flight then
 * finish or time out. Blocks the JS thread throughout, so run it in a process of its own.
 */
export function rawConnectionRate(options: RawRateOptions): RateResult {
  const addr = sockaddrIn(options.hostname, options.port ?? ECHO_PORT);
  const message = new Uint8Array(MESSAGE_BYTES).fill(0x62);
  const buf = new Uint8Array(256);
  const pollBytes = new Uint8Array(options.loops * POLLFD_BYTES);
  const pollView = new DataView(pollBytes.buffer);
  const slots: Slot[] = Array.from(
    { length: options.loops },
    () => ({ fd: -1, phase: Phase.Idle, received: 0, startedAt: 0 }),
  );
  const result: RateResult = { completed: 0, failed: 0, wallMs: 0, perSecond: 0 };
  const start = performance.now();
  const end = start + options.durationMs;
  let started = 0;

  const finish = (slot: Slot, error?: string) => {
    close(slot.fd);
    slot.fd = -1;
    slot.phase = Phase.Idle;
    if (error === undefined) result.completed++;
    else {
      result.failed++;
      result.error ??= error;
    }
  };
  const begin = (slot: Slot, now: number) => {
    started++;
    slot.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    slot.received = 0;
    slot.startedAt = now;
    if (slot.fd < 0) {
      slot.phase = Phase.Idle;
      result.failed++;
      result.error ??= `socket: errno ${lastErrno()}`;
      return;
    }
    slot.phase = Phase.Connecting;
    if (connect(slot.fd, addr) < 0) {
      const errno = lastErrno();
      // Other errnos are stale and the connect is in progress: poll tells how it ends.
      if (SYNCHRONOUS_CONNECT_ERRORS.has(errno)) finish(slot, `connect: errno ${errno}`);
    }
  };
  // The connect has finished (or failed): send the message.
  const onWritable = (slot: Slot, revents: number) => {
    if (revents & (POLLERR | POLLHUP | POLLNVAL)) return finish(slot, "connect failed");
    if (write(slot.fd, message) !== MESSAGE_BYTES) {
      return finish(slot, `write: errno ${lastErrno()}`);
    }
    slot.phase = Phase.Reading;
  };
  // Reads up to the server's FIN before closing: closing first would leave this side in
  // TIME-WAIT, and at these rates the ephemeral ports would run out within seconds.
  const onReadable = (slot: Slot) => {
    for (;;) {
      const n = read(slot.fd, buf);
      if (n > 0) slot.received += n;
      else if (n === 0) {
        return finish(
          slot,
          slot.received === MESSAGE_BYTES ? undefined : `echo sent ${slot.received} bytes`,
        );
      } else {
        const errno = lastErrno();
        if (errno !== Errno.EAGAIN) finish(slot, `read: errno ${errno}`);
        return;
      }
    }
  };

  for (;;) {
    const now = performance.now();
    let active = 0;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i];
      if (slot.phase !== Phase.Idle && now - slot.startedAt > options.timeoutMs) {
        finish(slot, `exchange timed out after ${options.timeoutMs} ms`);
      }
      if (slot.phase === Phase.Idle && now < end && started < options.maxCount) begin(slot, now);
      const waiting = slot.phase !== Phase.Idle;
      if (waiting) active++;
      pollView.setInt32(i * POLLFD_BYTES, waiting ? slot.fd : -1, true);
      pollView.setInt16(
        i * POLLFD_BYTES + 4,
        slot.phase === Phase.Connecting ? POLLOUT : POLLIN,
        true,
      );
      pollView.setInt16(i * POLLFD_BYTES + 6, 0, true);
    }
    if (active === 0) {
      if (now >= end || started >= options.maxCount) break;
      // Every slot failed at once (no ports, no route): pause instead of spinning, then retry.
      poll(pollBytes, 0, RETRY_PAUSE_MICROS);
      continue;
    }
    if (poll(pollBytes, slots.length, POLL_SLICE_MICROS) <= 0) continue;
    for (let i = 0; i < slots.length; i++) {
      const revents = pollView.getInt16(i * POLLFD_BYTES + 6, true);
      if (revents === 0) continue;
      const slot = slots[i];
      if (slot.phase === Phase.Connecting) onWritable(slot, revents);
      else if (slot.phase === Phase.Reading) onReadable(slot);
    }
  }
  result.wallMs = performance.now() - start;
  result.perSecond = result.completed / (result.wallMs / 1000);
  return result;
}
