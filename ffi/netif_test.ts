import assert from "node:assert/strict";
import { createTestNamespace, type TestNamespace } from "../tests/helpers/netns.ts";
import { ErrnoError } from "./errno.ts";
import {
  getIfIndex,
  getIpv4Address,
  getMac,
  getMtu,
  isLinkUp,
  setIpv4Address,
  setLinkUp,
  setMtu,
} from "./netif.ts";
import { withNetns } from "./netns.ts";
import { openTap } from "./tap.ts";

/** `ip -j ARGS` inside the namespace, parsed. */
async function ipJson(ns: TestNamespace, args: string[]): Promise<Record<string, unknown>[]> {
  const out = await ns.run(["ip", "-j", ...args]);
  assert.equal(out.code, 0, out.stderr);
  return JSON.parse(out.stdout);
}

Deno.test("netif configures address, netmask, MTU and up state as ip(8) reports them", async () => {
  await using ns = await createTestNamespace();
  const tap = withNetns(ns.name, () => openTap({ name: "gonet0" }));
  try {
    withNetns(ns.name, () => {
      assert.equal(getIpv4Address("gonet0"), undefined);
      assert.equal(isLinkUp("gonet0"), false);
      setIpv4Address("gonet0", { address: 0x0a000001, prefixLength: 24 }); // 10.0.0.1/24
      setMtu("gonet0", 1280);
      setLinkUp("gonet0", true);
      assert.equal(isLinkUp("gonet0"), true);
      assert.equal(getMtu("gonet0"), 1280);
      assert.deepEqual(getIpv4Address("gonet0"), { address: 0x0a000001, prefixLength: 24 });
    });

    const [link] = await ipJson(ns, ["addr", "show", "dev", "gonet0"]);
    assert.equal(link.mtu, 1280);
    assert.ok((link.flags as string[]).includes("UP"));
    const inet = (link.addr_info as Record<string, unknown>[]).filter((a) => a.family === "inet");
    assert.equal(inet.length, 1);
    assert.equal(inet[0].local, "10.0.0.1");
    assert.equal(inet[0].prefixlen, 24);
    assert.equal(inet[0].broadcast, "10.0.0.255");

    const mac = withNetns(ns.name, () => getMac("gonet0"));
    assert.equal(mac, parseInt((link.address as string).replaceAll(":", ""), 16));
    assert.equal(withNetns(ns.name, () => getIfIndex("gonet0")), link.ifindex);

    // The address brings its connected route, and only that one (no classful 10.0.0.0/8).
    const routes = await ipJson(ns, ["route", "show", "dev", "gonet0"]);
    assert.deepEqual(routes.map((r) => [r.dst, r.protocol, r.scope, r.prefsrc]), [
      ["10.0.0.0/24", "kernel", "link", "10.0.0.1"],
    ]);

    withNetns(ns.name, () => setLinkUp("gonet0", false));
    const [down] = await ipJson(ns, ["link", "show", "dev", "gonet0"]);
    assert.ok(!(down.flags as string[]).includes("UP"));
  } finally {
    await tap.close();
  }
});

Deno.test("setIpv4Address replaces the address and its connected route", async () => {
  await using ns = await createTestNamespace();
  const tap = withNetns(ns.name, () => openTap({ name: "gonet0" }));
  try {
    withNetns(ns.name, () => {
      setLinkUp("gonet0", true);
      setIpv4Address("gonet0", { address: 0x0a000001, prefixLength: 24 }); // 10.0.0.1/24
      setIpv4Address("gonet0", { address: 0xc0a80a01, prefixLength: 30 }); // 192.168.10.1/30
    });
    const [link] = await ipJson(ns, ["addr", "show", "dev", "gonet0"]);
    const inet = (link.addr_info as Record<string, unknown>[]).filter((a) => a.family === "inet");
    assert.deepEqual(inet.map((a) => [a.local, a.prefixlen, a.broadcast]), [
      ["192.168.10.1", 30, "192.168.10.3"],
    ]);
    const routes = await ipJson(ns, ["route", "show", "dev", "gonet0"]);
    assert.deepEqual(routes.map((r) => r.dst), ["192.168.10.0/30"]);
  } finally {
    await tap.close();
  }
});

Deno.test("netif errors are typed ErrnoErrors naming request and interface", async () => {
  await using ns = await createTestNamespace();
  const tap = withNetns(ns.name, () => openTap({ name: "gonet0" }));
  try {
    withNetns(ns.name, () => {
      assert.throws(
        () => setLinkUp("nosuch0", true),
        (err: unknown) =>
          err instanceof ErrnoError && err.code === "ENODEV" &&
          err.message === "SIOCGIFFLAGS nosuch0 failed: ENODEV (No such device)",
      );
      assert.throws(
        () => getMac("nosuch0"),
        (err: unknown) => err instanceof ErrnoError && err.code === "ENODEV",
      );
      // A TAP takes MTUs 68 (the IPv4 minimum, RFC 791) to 65535.
      for (const mtu of [67, 65536]) {
        assert.throws(
          () => setMtu("gonet0", mtu),
          (err: unknown) =>
            err instanceof ErrnoError && err.code === "EINVAL" &&
            err.message === "SIOCSIFMTU gonet0 failed: EINVAL (Invalid argument)",
        );
      }
      assert.equal(getMtu("gonet0"), 1500);
      assert.throws(() => getMtu("a-name-longer-than-15"), RangeError);
      assert.throws(() => setMtu("gonet0", 1.5), RangeError);
    });
  } finally {
    await tap.close();
  }
});
