import assert from "node:assert/strict";
import { RouteTable } from "./route.ts";

// Addresses as numbers: 10.0.0.x = 0x0a0000xx.
const IFACE_24 = { address: 0x0a000002, prefixLength: 24 }; // 10.0.0.2/24
const GATEWAY = 0x0a000001; // 10.0.0.1
const NEIGHBOUR = 0x0a000063; // 10.0.0.99
const SUBNET_BROADCAST = 0x0a0000ff; // 10.0.0.255
const LIMITED_BROADCAST = 0xffffffff; // 255.255.255.255
const REMOTE = 0x08080808; // 8.8.8.8
const NEXT_SUBNET = 0x0a000101; // 10.0.1.1

Deno.test("route: a destination inside the subnet is on-link", () => {
  const table = new RouteTable(IFACE_24);
  assert.deepEqual(table.nextHop(NEIGHBOUR), { kind: "unicast", address: NEIGHBOUR });
  assert.deepEqual(table.nextHop(GATEWAY), { kind: "unicast", address: GATEWAY });
});

Deno.test("route: on-link wins over the gateway", () => {
  const table = new RouteTable(IFACE_24, GATEWAY);
  assert.deepEqual(table.nextHop(NEIGHBOUR), { kind: "unicast", address: NEIGHBOUR });
});

Deno.test("route: off-link goes to the gateway", () => {
  const table = new RouteTable(IFACE_24, GATEWAY);
  assert.equal(table.gateway, GATEWAY);
  assert.deepEqual(table.nextHop(REMOTE), { kind: "unicast", address: GATEWAY });
  assert.deepEqual(table.nextHop(NEXT_SUBNET), { kind: "unicast", address: GATEWAY });
});

Deno.test("route: off-link without a gateway has no route", () => {
  const table = new RouteTable(IFACE_24);
  assert.equal(table.gateway, undefined);
  assert.deepEqual(table.nextHop(REMOTE), { kind: "none" });
  assert.deepEqual(table.nextHop(NEXT_SUBNET), { kind: "none" });
});

Deno.test("route: limited and directed broadcasts are detected", () => {
  const table = new RouteTable(IFACE_24, GATEWAY);
  assert.deepEqual(table.nextHop(LIMITED_BROADCAST), { kind: "broadcast" });
  assert.deepEqual(table.nextHop(SUBNET_BROADCAST), { kind: "broadcast" });
  assert.equal(table.isBroadcast(LIMITED_BROADCAST), true);
  assert.equal(table.isBroadcast(SUBNET_BROADCAST), true);
  assert.equal(table.isBroadcast(NEIGHBOUR), false);
  assert.equal(table.isBroadcast(IFACE_24.address), false);
  // Another subnet's broadcast address is just an off-link destination.
  assert.equal(table.isBroadcast(0x0a0001ff), false);
  assert.deepEqual(table.nextHop(0x0a0001ff), { kind: "unicast", address: GATEWAY });
});

Deno.test("route: the directed broadcast follows the prefix length", () => {
  // 192.168.4.10/22: network 192.168.4.0, broadcast 192.168.7.255.
  const table = new RouteTable({ address: 0xc0a8040a, prefixLength: 22 });
  assert.equal(table.isBroadcast(0xc0a807ff), true);
  assert.equal(table.isBroadcast(0xc0a804ff), false); // 192.168.4.255 is a host in a /22
  assert.deepEqual(table.nextHop(0xc0a804ff), { kind: "unicast", address: 0xc0a804ff });
  assert.deepEqual(table.nextHop(0xc0a80801), { kind: "none" }); // 192.168.8.1 is outside
});

Deno.test("route: isLocal accepts our address and broadcasts only", () => {
  const table = new RouteTable(IFACE_24);
  assert.equal(table.isLocal(IFACE_24.address), true);
  assert.equal(table.isLocal(SUBNET_BROADCAST), true);
  assert.equal(table.isLocal(LIMITED_BROADCAST), true);
  assert.equal(table.isLocal(NEIGHBOUR), false);
  assert.equal(table.isLocal(REMOTE), false);
});

Deno.test("route: a gateway outside the subnet throws", () => {
  assert.throws(() => new RouteTable(IFACE_24, NEXT_SUBNET), (e: unknown) => {
    assert.ok(e instanceof RangeError);
    assert.match(e.message, /gateway/);
    return true;
  });
  assert.throws(() => new RouteTable(IFACE_24, REMOTE), RangeError);
});

Deno.test("route: a /0 interface has every destination on-link", () => {
  const table = new RouteTable({ address: 0x0a000002, prefixLength: 0 });
  assert.deepEqual(table.nextHop(REMOTE), { kind: "unicast", address: REMOTE });
  assert.deepEqual(table.nextHop(LIMITED_BROADCAST), { kind: "broadcast" });
});

Deno.test({
  name: "route: /31 and /32 have no directed broadcast (RFC 3021 §2.2)",
  fn() {
    const p2p = new RouteTable({ address: 0x0a000002, prefixLength: 31 });
    assert.deepEqual(p2p.nextHop(0x0a000003), { kind: "unicast", address: 0x0a000003 });
    assert.equal(p2p.isBroadcast(0x0a000003), false);
    assert.equal(p2p.isLocal(0x0a000003), false);
    const host = new RouteTable({ address: 0x0a000002, prefixLength: 32 });
    assert.equal(host.isBroadcast(0x0a000002), false);
  },
});

Deno.test("route: the subnet's network address and broadcasts are invalid sources; hosts are not", () => {
  const table = new RouteTable({ address: 0x0a000002, prefixLength: 24 });
  assert.equal(table.isInvalidSource(0x0a000000), true, "10.0.0.0");
  assert.equal(table.isInvalidSource(0x0a0000ff), true, "10.0.0.255");
  assert.equal(table.isInvalidSource(0xffffffff), true, "255.255.255.255");
  assert.equal(table.isInvalidSource(0x0a000001), false, "10.0.0.1");
  assert.equal(table.isInvalidSource(0xc0000201), false, "192.0.2.1 (off-subnet host)");
  const p2p = new RouteTable({ address: 0x0a000002, prefixLength: 31 });
  assert.equal(p2p.isInvalidSource(0x0a000003), false, "on a /31 both addresses are hosts");
});
