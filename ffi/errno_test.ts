import assert from "node:assert/strict";
import { check, Errno, ErrnoError, errnoName, lastErrno } from "./errno.ts";
import { close, O_RDONLY, open } from "./libc.ts";

Deno.test("ErrnoError names the operation, the code and the description", () => {
  const err = new ErrnoError("TUNSETIFF gonet0", 1);
  assert.ok(err instanceof Error);
  assert.equal(err.name, "ErrnoError");
  assert.equal(err.errno, 1);
  assert.equal(err.code, "EPERM");
  assert.equal(err.operation, "TUNSETIFF gonet0");
  assert.equal(err.message, "TUNSETIFF gonet0 failed: EPERM (Operation not permitted)");
});

Deno.test("errno names follow Linux numbering, unknown numbers stay visible", () => {
  // Values from Linux include/uapi/asm-generic/errno-base.h and errno.h.
  assert.equal(errnoName(11), "EAGAIN");
  assert.equal(errnoName(16), "EBUSY");
  assert.equal(errnoName(19), "ENODEV");
  assert.equal(errnoName(22), "EINVAL");
  assert.equal(errnoName(77), "EBADFD");
  assert.equal(errnoName(4095), "E4095");
  assert.equal(new ErrnoError("x", 4095).message, "x failed: E4095 (Unknown error 4095)");
});

Deno.test("lastErrno reads errno of the failed call on this thread", () => {
  assert.equal(open("/nonexistent/gonet-errno-test", O_RDONLY), -1);
  assert.equal(lastErrno(), Errno.ENOENT);
  assert.equal(close(-1), -1);
  assert.equal(lastErrno(), Errno.EBADF);
});

Deno.test("check passes results through and throws a typed error on -1", () => {
  assert.equal(check(7, "unused"), 7);
  assert.throws(
    () => check(open("/nonexistent/gonet-errno-test", O_RDONLY), "open /nonexistent"),
    (err: unknown) =>
      err instanceof ErrnoError && err.code === "ENOENT" &&
      err.message === "open /nonexistent failed: ENOENT (No such file or directory)",
  );
});
