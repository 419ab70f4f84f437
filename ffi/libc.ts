/**
 * The one libc symbol table of gonet, with thin typed wrappers. Everything here returns what C
 * returns (`-1` on failure); turning errno into a typed error is the caller's job, done with
 * `ffi/errno.ts`.
 *
 * Integer widths: `size_t`/`ssize_t`/`nfds_t` are declared as 32-bit (`u32`/`i32`) where the values
 * can never exceed 2^31 (frame lengths, two pollfds). Deno's call trampolines zero-extend 32-bit
 * arguments into the 64-bit register, so the callee sees the right `size_t`; the `ssize_t` result
 * is read from the low half, which holds the whole value because it is at most `count`. This is
 * measured to save ~250 ns per call over `usize`/`isize` (see /work/shared/TAP-FACTS.md), which
 * matters on the per-frame read/write path.
 *
 * The library is opened lazily on first use, so importing this module needs no `--allow-ffi`.
 * @module
 */

const SYMBOLS = {
  /** `int open(const char *pathname, int flags, ...)`: never used with O_CREAT, so no mode. */
  open: { parameters: ["buffer", "i32"], result: "i32" },
  /** `int close(int fd)` */
  close: { parameters: ["i32"], result: "i32" },
  /** `ssize_t read(int fd, void *buf, size_t count)` (32-bit count and result, see above) */
  read: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  /** `ssize_t write(int fd, const void *buf, size_t count)` (32-bit count and result) */
  write: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  /** `int ioctl(int fd, unsigned long request, ...)`: only the pointer-argument form. */
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  /** `int ioctl(int fd, unsigned long request, unsigned long arg)`: the by-value form. */
  ioctl_value: { name: "ioctl", parameters: ["i32", "u64", "u64"], result: "i32" },
  /** `int fcntl(int fd, int cmd, ...)`: only the int-argument form. */
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  /**
   * `int poll(struct pollfd *fds, nfds_t nfds, int timeout)`, run on Deno's blocking thread pool
   * so the JS thread keeps running while it waits. errno of this call is on that other thread and
   * cannot be read from JS.
   */
  poll_async: {
    name: "poll",
    parameters: ["buffer", "u32", "i32"],
    result: "i32",
    nonblocking: true,
  },
  /**
   * `int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *tmo, const sigset_t *mask)`,
   * blocking the JS thread; `poll` with a nanosecond timeout. The mask is always NULL.
   */
  ppoll: { parameters: ["buffer", "u32", "buffer", "pointer"], result: "i32" },
  /** `int socket(int domain, int type, int protocol)` */
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  /** `int bind(int fd, const struct sockaddr *addr, socklen_t len)` */
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  /** `int connect(int fd, const struct sockaddr *addr, socklen_t len)` */
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  /** `int setns(int fd, int nstype)`: moves the calling thread only. */
  setns: { parameters: ["i32", "i32"], result: "i32" },
  /**
   * `int sched_setaffinity(pid_t pid, size_t cpusetsize, const cpu_set_t *mask)`: pid 0 is the
   * calling thread only.
   */
  sched_setaffinity: { parameters: ["i32", "u32", "buffer"], result: "i32" },
  /** `int eventfd(unsigned int initval, int flags)`: wakes a pending poll on close. */
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  /** `int *__errno_location(void)`: the calling thread's errno (glibc). */
  __errno_location: { parameters: [], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

let library: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

/** The symbols, opening libc on first use. */
function libc(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  library ??= Deno.dlopen("libc.so.6", SYMBOLS);
  return library.symbols;
}

/** `open(2)` flag: read only. */
export const O_RDONLY = 0;
/** `open(2)` flag: read and write. */
export const O_RDWR = 2;
/** `open(2)` flag: reads and writes return EAGAIN instead of blocking. */
export const O_NONBLOCK = 0o4000;
/** `open(2)` flag: close on exec, so spawned children (`ip`, `ping`) never inherit the fd. */
export const O_CLOEXEC = 0o2000000;

/** `poll(2)` event: data to read. */
export const POLLIN = 0x1;
/** `poll(2)` event: error condition (a TAP reports it once detached from its device). */
export const POLLERR = 0x8;
/** `poll(2)` event: hang up. */
export const POLLHUP = 0x10;
/** `poll(2)` event: the fd is not open. */
export const POLLNVAL = 0x20;
/** Size of `struct pollfd { int fd; short events; short revents; }` in bytes. */
export const POLLFD_BYTES = 8;

/** Address family IPv4. */
export const AF_INET = 2;
/** Stream socket type. */
export const SOCK_STREAM = 1;
/** Datagram socket type. */
export const SOCK_DGRAM = 2;
/** `socket(2)` type flag: non-blocking. */
export const SOCK_NONBLOCK = 0o4000;
/** `socket(2)` type flag: close on exec. */
export const SOCK_CLOEXEC = 0o2000000;

/** `setns(2)` namespace type: network namespace. */
export const CLONE_NEWNET = 0x40000000;

/** `eventfd(2)` flag: non-blocking. */
export const EFD_NONBLOCK = 0o4000;
/** `eventfd(2)` flag: close on exec. */
export const EFD_CLOEXEC = 0o2000000;

/** `fcntl(2)` command: get file status flags. */
export const F_GETFL = 3;
/** `fcntl(2)` command: set file status flags. */
export const F_SETFL = 4;

const encoder = new TextEncoder();

/** NUL-terminated UTF-8 copy of `text` for a `const char *` parameter. */
export function cString(text: string): Uint8Array {
  return encoder.encode(text + "\0");
}

/** `open(2)` of `path` with `flags`; returns the fd or -1. */
export function open(path: string, flags: number): number {
  return libc().open(cString(path), flags);
}

/** `close(2)`; returns 0 or -1. */
export function close(fd: number): number {
  return libc().close(fd);
}

/** `read(2)` into all of `buf`; returns the byte count or -1. */
export function read(fd: number, buf: Uint8Array): number {
  return libc().read(fd, buf, buf.length);
}

/** `write(2)` of the first `length` bytes of `buf` (all of it by default); returns the byte count or -1. */
export function write(fd: number, buf: Uint8Array, length = buf.length): number {
  return libc().write(fd, buf, length);
}

/** `ioctl(2)` whose argument points to `arg` (e.g. a `struct ifreq`); returns the result or -1. */
export function ioctl(fd: number, request: number, arg: Uint8Array): number {
  // Deno passes u64 as bigint; ioctls are configuration, so the conversion cost is irrelevant.
  return libc().ioctl(fd, BigInt(request), arg);
}

/** `ioctl(2)` whose argument is a plain integer (e.g. TUNSETOFFLOAD); returns the result or -1. */
export function ioctlValue(fd: number, request: number, value: number): number {
  return libc().ioctl_value(fd, BigInt(request), BigInt(value));
}

/** `fcntl(2)` with an int argument; returns the result or -1. */
export function fcntl(fd: number, cmd: number, arg = 0): number {
  return libc().fcntl(fd, cmd, arg);
}

/**
 * `poll(2)` on `count` pollfd records in `fds`, blocking the JS thread for up to `timeoutMicros`
 * (`ppoll` underneath, for sub-millisecond waits); returns the number of ready fds, 0 on
 * timeout, or -1.
 * @throws {RangeError} for a timeout that is negative, not a number, or 2^32 us or more.
 */
export function poll(fds: Uint8Array, count: number, timeoutMicros: number): number {
  if (!(timeoutMicros >= 0 && timeoutMicros < 2 ** 32)) {
    throw new RangeError(`Invalid poll timeout ${timeoutMicros} us: must be 0 to 2^32`);
  }
  const seconds = Math.floor(timeoutMicros / 1_000_000);
  const nanoseconds = Math.round((timeoutMicros - seconds * 1_000_000) * 1000);
  timespec.setUint32(0, seconds, true);
  timespec.setUint32(8, Math.min(nanoseconds, 999_999_999), true);
  return libc().ppoll(fds, count, timespecBytes, null);
}

/** `struct timespec` of {@link poll}: 64-bit seconds, then 64-bit nanoseconds (high halves 0). */
const timespecBytes = new Uint8Array(16);
const timespec = new DataView(timespecBytes.buffer);

/**
 * `poll(2)` on another thread; the JS thread stays free. `fds` must not be touched until the
 * promise settles (the kernel writes `revents` into it). A -1 result carries no readable errno.
 */
export function pollAsync(fds: Uint8Array, count: number, timeoutMs: number): Promise<number> {
  return libc().poll_async(fds, count, timeoutMs);
}

/** `socket(2)`; returns the fd or -1. */
export function socket(domain: number, type: number, protocol: number): number {
  return libc().socket(domain, type, protocol);
}

/** `bind(2)` to the socket address in `addr`; returns 0 or -1. */
export function bind(fd: number, addr: Uint8Array): number {
  return libc().bind(fd, addr, addr.length);
}

/** `connect(2)` to the socket address in `addr`; returns 0 or -1 (EINPROGRESS when non-blocking). */
export function connect(fd: number, addr: Uint8Array): number {
  return libc().connect(fd, addr, addr.length);
}

/** `setns(2)` for the calling thread; returns 0 or -1. */
export function setns(fd: number, nstype: number): number {
  return libc().setns(fd, nstype);
}

/** `sched_setaffinity(2)` with a `cpu_set_t` of `mask.length` bytes. */
export function schedSetAffinity(tid: number, mask: Uint8Array): number {
  return libc().sched_setaffinity(tid, mask.length, mask);
}

/** `eventfd(2)`; returns the fd or -1. */
export function eventfd(initval: number, flags: number): number {
  return libc().eventfd(initval, flags);
}

/** `__errno_location()`: address of the calling thread's `errno`. */
export function errnoLocation(): Deno.PointerObject {
  const pointer = libc().__errno_location();
  if (pointer === null) throw new Error("__errno_location returned NULL");
  return pointer;
}
