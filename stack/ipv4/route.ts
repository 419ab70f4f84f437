/**
 * Routing for a single interface: destinations inside the interface's subnet are on-link (the
 * next hop is the destination itself), anything else goes to the default gateway if one is set.
 * @module
 */

import {
  inSubnet,
  IPV4_BROADCAST,
  type Ipv4Addr,
  type Ipv4Cidr,
  prefixMask,
  subnetBroadcast,
} from "../wire/addr.ts";

/** Where a datagram goes next. */
export type NextHop =
  | { readonly kind: "unicast"; readonly address: Ipv4Addr }
  | { readonly kind: "broadcast" }
  | { readonly kind: "none" };

/** The route table of one interface. */
export class RouteTable {
  /** Interface address and subnet. */
  readonly interface: Ipv4Cidr;
  /** Default gateway, if any; it must be on-link. */
  readonly gateway: Ipv4Addr | undefined;
  readonly #broadcast: Ipv4Addr;

  /** Creates the table; throws a RangeError when the gateway is not inside the subnet. */
  constructor(iface: Ipv4Cidr, gateway?: Ipv4Addr) {
    if (gateway !== undefined && !inSubnet(iface, gateway)) {
      throw new RangeError("Invalid gateway: it must be inside the interface's subnet");
    }
    this.interface = iface;
    this.gateway = gateway;
    // RFC 3021 §2.2: a /31 has no directed broadcast (both addresses are hosts), nor has a /32.
    this.#broadcast = iface.prefixLength >= 31 ? IPV4_BROADCAST : subnetBroadcast(iface);
  }

  /** The next hop for `destination` (RFC 1122 §3.3.1.1: on-link, else the gateway). */
  nextHop(destination: Ipv4Addr): NextHop {
    if (destination === IPV4_BROADCAST || destination === this.#broadcast) {
      return { kind: "broadcast" };
    }
    if (inSubnet(this.interface, destination)) return { kind: "unicast", address: destination };
    if (this.gateway !== undefined) return { kind: "unicast", address: this.gateway };
    return { kind: "none" };
  }

  /** Whether a datagram sent to `destination` is for this host (our address or a broadcast). */
  isLocal(destination: Ipv4Addr): boolean {
    return destination === this.interface.address || destination === IPV4_BROADCAST ||
      destination === this.#broadcast;
  }

  /**
   * Whether `source` cannot be a host: a broadcast, or our subnet's network address (the
   * all-zeros host part, an old broadcast form; RFC 1122 §3.2.1.3). Nothing is ever sent back.
   */
  isInvalidSource(source: Ipv4Addr): boolean {
    return this.isBroadcast(source) ||
      (this.interface.prefixLength <= 30 &&
        source === ((this.interface.address & prefixMask(this.interface.prefixLength)) >>> 0));
  }

  /** Whether `destination` is one of our broadcast addresses. */
  isBroadcast(destination: Ipv4Addr): boolean {
    return destination === IPV4_BROADCAST || destination === this.#broadcast;
  }
}
