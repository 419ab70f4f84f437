import assert from "node:assert/strict";
import { createTestNamespace } from "../tests/helpers/netns.ts";
import { ErrnoError } from "./errno.ts";
import { currentNetnsId, withNetns } from "./netns.ts";

Deno.test("withNetns switches the thread into the namespace and back", async () => {
  await using ns = await createTestNamespace();
  const outside = currentNetnsId();
  // `ip netns exec NS stat -L -c %i /proc/self/ns/net` names the namespace from a process in it.
  const { stdout } = await ns.run(["stat", "-L", "-c", "%i", "/proc/self/ns/net"]);
  const expected = stdout.trim();
  assert.notEqual(expected, outside);
  assert.equal(withNetns(ns.name, () => currentNetnsId()), expected);
  assert.equal(currentNetnsId(), outside);
});

Deno.test("withNetns nests and restores each level", async () => {
  await using a = await createTestNamespace();
  await using b = await createTestNamespace();
  const outside = currentNetnsId();
  const ids = withNetns(a.name, () => {
    const inA = currentNetnsId();
    const inB = withNetns(b.name, () => currentNetnsId());
    return [inA, inB, currentNetnsId()];
  });
  assert.notEqual(ids[0], outside);
  assert.notEqual(ids[1], ids[0]);
  assert.equal(ids[2], ids[0]);
  assert.equal(currentNetnsId(), outside);
});

Deno.test("withNetns switches back when fn throws, and rethrows", async () => {
  await using ns = await createTestNamespace();
  const outside = currentNetnsId();
  const boom = new Error("boom");
  assert.throws(() =>
    withNetns(ns.name, () => {
      throw boom;
    }), (err) => err === boom);
  assert.equal(currentNetnsId(), outside);
});

Deno.test("withNetns rejects an async fn after switching back", async () => {
  await using ns = await createTestNamespace();
  const outside = currentNetnsId();
  assert.throws(() => withNetns(ns.name, () => Promise.resolve(1)), TypeError);
  assert.equal(currentNetnsId(), outside);
});

Deno.test("withNetns on a missing namespace is a typed ENOENT", () => {
  const outside = currentNetnsId();
  assert.throws(
    () => withNetns("gonet-t-does-not-exist", () => 1),
    (err: unknown) => err instanceof ErrnoError && err.code === "ENOENT",
  );
  assert.throws(() => withNetns("../etc", () => 1), RangeError);
  assert.equal(currentNetnsId(), outside);
});

Deno.test("a socket created inside stays in the namespace", async () => {
  await using ns = await createTestNamespace();
  const conn = withNetns(
    ns.name,
    () => Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 }),
  );
  try {
    const { port } = conn.addr as Deno.NetAddr;
    // A process in the namespace reaches it over the namespace's own loopback.
    const received = conn.receive();
    const sent = await ns.run(["bash", "-c", `printf hello > /dev/udp/127.0.0.1/${port}`]);
    assert.equal(sent.code, 0, sent.stderr);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("no datagram within 5 s")), 5000);
    });
    const [data] = await Promise.race([received, timeout]).finally(() => clearTimeout(timer));
    assert.equal(new TextDecoder().decode(data), "hello");
  } finally {
    conn.close();
  }
});
