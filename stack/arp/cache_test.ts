import assert from "node:assert/strict";
import { ArpCache } from "./cache.ts";

// 10.0.0.1 .. 10.0.0.4 and MACs 02:00:00:00:00:0N, written as numbers.
const IP1 = 0x0a000001;
const IP2 = 0x0a000002;
const IP3 = 0x0a000003;
const IP4 = 0x0a000004;
const MAC1 = 0x02_00_00_00_00_01;
const MAC2 = 0x02_00_00_00_00_02;
const MAC3 = 0x02_00_00_00_00_03;
const MAC4 = 0x02_00_00_00_00_04;
const MAC_NEW = 0x02_00_00_00_00_99;

Deno.test("arp cache: unknown address looks up as undefined", () => {
  const cache = new ArpCache();
  assert.equal(cache.lookup(IP1, 0), undefined);
  assert.equal(cache.has(IP1, 0), false);
  assert.equal(cache.size, 0);
  assert.deepEqual(cache.entries(0), []);
});

Deno.test("arp cache: a binding lives until expireMs after confirmation (default 120 s)", () => {
  const cache = new ArpCache();
  cache.set(IP1, MAC1, 1000);
  assert.equal(cache.lookup(IP1, 1000), MAC1);
  assert.equal(cache.lookup(IP1, 1000 + 119_999), MAC1);
  assert.equal(cache.has(IP1, 1000 + 119_999), true);
  assert.equal(cache.lookup(IP1, 1000 + 120_000), undefined);
  // The expired binding is gone, even if time were to read earlier again.
  assert.equal(cache.size, 0);
  assert.equal(cache.lookup(IP1, 1000), undefined);
});

Deno.test("arp cache: custom expiry", () => {
  const cache = new ArpCache({ reachableMs: 10, expireMs: 50 });
  cache.set(IP1, MAC1, 0);
  assert.equal(cache.has(IP1, 49), true);
  assert.equal(cache.has(IP1, 50), false);
});

Deno.test("arp cache: state is reachable, then stale by age, then the entry is gone", () => {
  const cache = new ArpCache({ reachableMs: 30_000, expireMs: 120_000 });
  cache.set(IP1, MAC1, 0);
  assert.deepEqual(cache.entries(0), [{ address: IP1, mac: MAC1, state: "reachable", ageMs: 0 }]);
  assert.deepEqual(cache.entries(29_999), [
    { address: IP1, mac: MAC1, state: "reachable", ageMs: 29_999 },
  ]);
  assert.deepEqual(cache.entries(30_000), [
    { address: IP1, mac: MAC1, state: "stale", ageMs: 30_000 },
  ]);
  assert.deepEqual(cache.entries(119_999), [
    { address: IP1, mac: MAC1, state: "stale", ageMs: 119_999 },
  ]);
  assert.deepEqual(cache.entries(120_000), []);
  assert.equal(cache.size, 0, "entries() removes expired bindings");
});

Deno.test("arp cache: a stale binding still resolves, and set() makes it reachable again", () => {
  const cache = new ArpCache({ reachableMs: 100, expireMs: 1000 });
  cache.set(IP1, MAC1, 0);
  assert.equal(cache.lookup(IP1, 500), MAC1);
  assert.equal(cache.entries(500)[0].state, "stale");
  cache.set(IP1, MAC1, 500);
  assert.deepEqual(cache.entries(550), [{
    address: IP1,
    mac: MAC1,
    state: "reachable",
    ageMs: 50,
  }]);
  // The expiry restarts from the new confirmation.
  assert.equal(cache.has(IP1, 1499), true);
  assert.equal(cache.has(IP1, 1500), false);
});

Deno.test("arp cache: set overwrites the MAC of an existing binding", () => {
  const cache = new ArpCache();
  cache.set(IP1, MAC1, 0);
  cache.set(IP1, MAC_NEW, 10);
  assert.equal(cache.lookup(IP1, 10), MAC_NEW);
  assert.equal(cache.size, 1);
});

Deno.test("arp cache: refresh updates only an existing live binding", () => {
  const cache = new ArpCache({ reachableMs: 100, expireMs: 1000 });
  assert.equal(cache.refresh(IP1, MAC1, 0), false, "no binding: refresh must not create one");
  assert.equal(cache.has(IP1, 0), false);
  assert.equal(cache.size, 0);

  cache.set(IP2, MAC2, 0);
  assert.equal(cache.refresh(IP2, MAC_NEW, 400), true);
  assert.deepEqual(cache.entries(450), [
    { address: IP2, mac: MAC_NEW, state: "reachable", ageMs: 50 },
  ]);

  // Once expired, a refresh neither revives nor recreates it.
  assert.equal(cache.refresh(IP2, MAC2, 400 + 1000), false);
  assert.equal(cache.has(IP2, 400 + 1000), false);
  assert.equal(cache.size, 0);
});

Deno.test("arp cache: delete removes a binding", () => {
  const cache = new ArpCache();
  cache.set(IP1, MAC1, 0);
  assert.equal(cache.delete(IP1), true);
  assert.equal(cache.delete(IP1), false);
  assert.equal(cache.lookup(IP1, 0), undefined);
});

Deno.test("arp cache: entries are listed oldest confirmation first", () => {
  const cache = new ArpCache();
  cache.set(IP1, MAC1, 0);
  cache.set(IP2, MAC2, 10);
  cache.set(IP3, MAC3, 20);
  assert.deepEqual(cache.entries(30).map((e) => e.address), [IP1, IP2, IP3]);
  // Confirming IP1 again makes it the youngest.
  cache.set(IP1, MAC1, 25);
  assert.deepEqual(cache.entries(30).map((e) => [e.address, e.ageMs]), [
    [IP2, 20],
    [IP3, 10],
    [IP1, 5],
  ]);
  // refresh() has the same effect.
  assert.equal(cache.refresh(IP2, MAC2, 28), true);
  assert.deepEqual(cache.entries(30).map((e) => e.address), [IP3, IP1, IP2]);
});

Deno.test("arp cache: beyond maxEntries the oldest binding is evicted and counted", () => {
  const cache = new ArpCache({ maxEntries: 3 });
  cache.set(IP1, MAC1, 0);
  cache.set(IP2, MAC2, 1);
  cache.set(IP3, MAC3, 2);
  assert.equal(cache.evictions, 0);
  cache.set(IP4, MAC4, 3);
  assert.equal(cache.size, 3);
  assert.equal(cache.evictions, 1);
  assert.equal(cache.lookup(IP1, 3), undefined, "the oldest (IP1) goes");
  assert.deepEqual(cache.entries(3).map((e) => e.address), [IP2, IP3, IP4]);
});

Deno.test("arp cache: re-confirming protects a binding from eviction", () => {
  const cache = new ArpCache({ maxEntries: 3 });
  cache.set(IP1, MAC1, 0);
  cache.set(IP2, MAC2, 1);
  cache.set(IP3, MAC3, 2);
  cache.set(IP1, MAC1, 3); // IP1 is now the youngest; IP2 is the oldest
  cache.set(IP4, MAC4, 4);
  assert.equal(cache.evictions, 1);
  assert.equal(cache.has(IP2, 4), false);
  assert.deepEqual(cache.entries(4).map((e) => e.address), [IP3, IP1, IP4]);
});

Deno.test("arp cache: updating an existing binding at capacity evicts nothing", () => {
  const cache = new ArpCache({ maxEntries: 2 });
  cache.set(IP1, MAC1, 0);
  cache.set(IP2, MAC2, 1);
  cache.set(IP2, MAC_NEW, 2);
  assert.equal(cache.evictions, 0);
  assert.equal(cache.size, 2);
  assert.equal(cache.lookup(IP1, 2), MAC1);
});
