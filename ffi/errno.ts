/**
 * errno at the FFI boundary: read it right after a failed libc call and turn it into a typed
 * {@link ErrnoError}, so callers can branch on `err.code === "EBUSY"` instead of parsing text.
 * @module
 */

import { errnoLocation } from "./libc.ts";

/** Linux errno numbers gonet names (x86-64 / generic values), as `as const` data. */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  ENOTDIR: 20,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOTTY: 25,
  ENOSPC: 28,
  EPIPE: 32,
  ERANGE: 34,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  EBADFD: 77,
  EMSGSIZE: 90,
  EOPNOTSUPP: 95,
  EAFNOSUPPORT: 97,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENETDOWN: 100,
  ENETUNREACH: 101,
  ENOBUFS: 105,
  EINPROGRESS: 115,
} as const;

/** The short texts glibc's `strerror` gives for the numbers in {@link Errno}. */
const DESCRIPTIONS: Record<number, string> = {
  1: "Operation not permitted",
  2: "No such file or directory",
  3: "No such process",
  4: "Interrupted system call",
  5: "Input/output error",
  6: "No such device or address",
  9: "Bad file descriptor",
  11: "Resource temporarily unavailable",
  12: "Cannot allocate memory",
  13: "Permission denied",
  14: "Bad address",
  16: "Device or resource busy",
  17: "File exists",
  19: "No such device",
  20: "Not a directory",
  22: "Invalid argument",
  23: "Too many open files in system",
  24: "Too many open files",
  25: "Inappropriate ioctl for device",
  28: "No space left on device",
  32: "Broken pipe",
  34: "Numerical result out of range",
  36: "File name too long",
  38: "Function not implemented",
  77: "File descriptor in bad state",
  90: "Message too long",
  95: "Operation not supported",
  97: "Address family not supported by protocol",
  98: "Address already in use",
  99: "Cannot assign requested address",
  100: "Network is down",
  101: "Network is unreachable",
  105: "No buffer space available",
  115: "Operation now in progress",
};

const NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(Errno).map(([name, value]) => [value, name]),
);

/** The symbolic name of an errno number, e.g. `EPERM`; `E<n>` for numbers not in the table. */
export function errnoName(errno: number): string {
  return NAMES[errno] ?? `E${errno}`;
}

/** The human description of an errno number, e.g. `Operation not permitted`. */
export function errnoDescription(errno: number): string {
  return DESCRIPTIONS[errno] ?? `Unknown error ${errno}`;
}

/**
 * A failed system call, with the errno kept as a number and as its name.
 * @example
 * ```ts
 * const err = new ErrnoError("TUNSETIFF gonet0", Errno.EPERM);
 * err.message; // "TUNSETIFF gonet0 failed: EPERM (Operation not permitted)"
 * err.code; // "EPERM"
 * ```
 */
export class ErrnoError extends Error {
  /** The errno number, e.g. 1. */
  readonly errno: number;
  /** The errno name, e.g. `EPERM`. */
  readonly code: string;
  /** What was attempted, e.g. `TUNSETIFF gonet0`. */
  readonly operation: string;

  /** Creates the error for `operation` failing with `errno`. */
  constructor(operation: string, errno: number) {
    const code = errnoName(errno);
    super(`${operation} failed: ${code} (${errnoDescription(errno)})`);
    this.name = "ErrnoError";
    this.errno = errno;
    this.code = code;
    this.operation = operation;
  }
}

// errno is thread-local; a module instance lives on one JS thread (main or one Worker), so the
// address can be looked up once and reused.
let errnoView: Deno.UnsafePointerView | undefined;

/**
 * The calling thread's current errno. Read it right after the failed synchronous call; calls made
 * with `nonblocking: true` run on another thread and leave nothing here.
 */
export function lastErrno(): number {
  errnoView ??= new Deno.UnsafePointerView(errnoLocation());
  return errnoView.getInt32();
}

/** An {@link ErrnoError} for `operation` with the current errno. */
export function errnoError(operation: string): ErrnoError {
  return new ErrnoError(operation, lastErrno());
}

/**
 * Returns `result` when it is not negative, else throws an {@link ErrnoError} for `operation`
 * with the current errno. Wraps libc calls that return -1 on failure.
 * @example
 * ```ts
 * const fd = check(open("/dev/net/tun", O_RDWR), "open /dev/net/tun");
 * ```
 */
export function check(result: number, operation: string): number {
  if (result < 0) throw errnoError(operation);
  return result;
}
