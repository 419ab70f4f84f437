/**
 * The ARP cache (RFC 826 "translation table"): a pure table of IPv4 to MAC bindings with expiry,
 * taking `now` as an argument. The ARP dealer owns it; the IPv4 egress path reads it.
 *
 * Learning policy (RFC 826 "Packet Reception", hardened against poisoning):
 * - a request aimed at our address creates or refreshes the sender's entry (the merge step plus
 *   "add the triplet" because we are the target);
 * - any other request or gratuitous announcement only refreshes an entry that already exists;
 * - a reply creates or refreshes an entry only while we have an outstanding request for that
 *   address: an unsolicited reply is counted and ignored, so nobody can plant a binding we did not
 *   ask for, nor overwrite a fresh one.
 * @module
 */

import type { Ipv4Addr, MacAddr } from "../wire/addr.ts";

/** One binding as shown to users. */
export interface ArpEntry {
  /** The neighbour's IPv4 address. */
  readonly address: Ipv4Addr;
  /** Its MAC address. */
  readonly mac: MacAddr;
  /** `reachable` while younger than the reachable time, then `stale` until expiry. */
  readonly state: "reachable" | "stale";
  /** Milliseconds since the binding was last confirmed. */
  readonly ageMs: number;
}

/** Tunables of the cache, with defaults. */
export interface ArpCacheOptions {
  /** A binding is `reachable` this long after confirmation (default 30 s, as Linux). */
  reachableMs?: number;
  /** A binding is forgotten this long after confirmation (default 120 s). */
  expireMs?: number;
  /** At most this many bindings; the oldest is evicted beyond it (default 1024). */
  maxEntries?: number;
}

interface Binding {
  mac: MacAddr;
  confirmedAt: number;
}

/** The table of bindings. */
export class ArpCache {
  readonly #reachableMs: number;
  readonly #expireMs: number;
  readonly #maxEntries: number;
  // Map iteration order is insertion order; refreshing re-inserts, so the first key is the oldest.
  readonly #bindings = new Map<Ipv4Addr, Binding>();
  /** Bindings evicted to respect `maxEntries`. */
  evictions = 0;

  /** Creates an empty cache. */
  constructor(options: ArpCacheOptions = {}) {
    this.#reachableMs = options.reachableMs ?? 30_000;
    this.#expireMs = options.expireMs ?? 120_000;
    this.#maxEntries = options.maxEntries ?? 1024;
  }

  /** Number of bindings held (expired ones included until touched). */
  get size(): number {
    return this.#bindings.size;
  }

  /** The MAC for `address`, or `undefined` when unknown or expired. */
  lookup(address: Ipv4Addr, now: number): MacAddr | undefined {
    const binding = this.#bindings.get(address);
    if (!binding) return undefined;
    if (now - binding.confirmedAt >= this.#expireMs) {
      this.#bindings.delete(address);
      return undefined;
    }
    return binding.mac;
  }

  /** Whether a live binding exists for `address`. */
  has(address: Ipv4Addr, now: number): boolean {
    return this.lookup(address, now) !== undefined;
  }

  /** Creates or refreshes the binding of `address`. */
  set(address: Ipv4Addr, mac: MacAddr, now: number): void {
    this.#bindings.delete(address);
    this.#bindings.set(address, { mac, confirmedAt: now });
    while (this.#bindings.size > this.#maxEntries) {
      const oldest = this.#bindings.keys().next().value as Ipv4Addr;
      this.#bindings.delete(oldest);
      this.evictions++;
    }
  }

  /** Refreshes the binding of `address` only if one exists; returns whether it did. */
  refresh(address: Ipv4Addr, mac: MacAddr, now: number): boolean {
    if (!this.has(address, now)) return false;
    this.set(address, mac, now);
    return true;
  }

  /** Removes the binding of `address`. */
  delete(address: Ipv4Addr): boolean {
    return this.#bindings.delete(address);
  }

  /** All live bindings, oldest first, expiring the dead ones. */
  entries(now: number): ArpEntry[] {
    const out: ArpEntry[] = [];
    for (const [address, binding] of this.#bindings) {
      const ageMs = now - binding.confirmedAt;
      if (ageMs >= this.#expireMs) {
        this.#bindings.delete(address);
        continue;
      }
      out.push({
        address,
        mac: binding.mac,
        state: ageMs < this.#reachableMs ? "reachable" : "stale",
        ageMs,
      });
    }
    return out;
  }
}
