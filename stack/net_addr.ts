/**
 * Deno-shaped socket addresses (`Deno.NetAddr`) and the conversions the user APIs share.
 * @module
 */

import { formatIpv4, type Ipv4Addr, parseIpv4 } from "./wire/addr.ts";

/** A socket address shaped like `Deno.NetAddr`. */
export interface NetAddr {
  /** `tcp` or `udp`. */
  transport: "tcp" | "udp";
  /** Dotted-quad IPv4 address. */
  hostname: string;
  /** Port number. */
  port: number;
}

/** Builds a {@link NetAddr}. */
export function netAddr(transport: "tcp" | "udp", address: Ipv4Addr, port: number): NetAddr {
  return { transport, hostname: formatIpv4(address), port };
}

/** Parses a hostname given by a user; throws `TypeError` for anything but a dotted-quad IPv4. */
export function hostnameToIpv4(hostname: string): Ipv4Addr {
  const address = parseIpv4(hostname);
  if (address === undefined) {
    throw new TypeError(`Invalid hostname: ${JSON.stringify(hostname)} is not an IPv4 address`);
  }
  return address;
}

/** Throws `RangeError` unless `port` is an integer in 0..65535. */
export function checkPort(port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`Invalid port: ${port} (expected an integer from 0 to 65535)`);
  }
  return port;
}
