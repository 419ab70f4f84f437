/**
 * A raw AF_PACKET socket bound to one interface: writes whole Ethernet frames onto it from the
 * kernel's side. Tests use it to inject crafted and hostile frames into a TAP (they arrive at the
 * stack exactly as written), the way an attacker on the link would.
 * @module
 */

import { check } from "./errno.ts";
import { bind, close, socket, write } from "./libc.ts";
import { getIfIndex } from "./netif.ts";

const AF_PACKET = 17;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
/** ETH_P_ALL in network byte order, as `socket(2)` and `sockaddr_ll` want it. */
const ETH_P_ALL_BE = 0x0300;
/** `sizeof(struct sockaddr_ll)`. */
const SOCKADDR_LL_BYTES = 20;

/** An open packet socket. */
export interface PacketSocket {
  /** Sends one frame; returns whether all of it was written. */
  send(frame: Uint8Array): boolean;
  /** Closes the socket. */
  close(): void;
}

/**
 * Opens a packet socket on `interfaceName` in the calling thread's network namespace (wrap the
 * call in `withNetns` to pick the namespace). Needs CAP_NET_RAW.
 */
export function openPacketSocket(interfaceName: string): PacketSocket {
  const fd = check(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, ETH_P_ALL_BE), "socket AF_PACKET");
  try {
    // struct sockaddr_ll { u16 family; be16 protocol; i32 ifindex; u16 hatype; u8 pkttype;
    // u8 halen; u8 addr[8]; }
    const addr = new Uint8Array(SOCKADDR_LL_BYTES);
    const view = new DataView(addr.buffer);
    view.setUint16(0, AF_PACKET, true);
    view.setUint16(2, ETH_P_ALL_BE, true);
    view.setInt32(4, getIfIndex(interfaceName), true);
    check(bind(fd, addr), `bind AF_PACKET ${interfaceName}`);
  } catch (error) {
    close(fd);
    throw error;
  }
  let open = true;
  return {
    send(frame) {
      return open && write(fd, frame) === frame.length;
    },
    close() {
      if (open) close(fd);
      open = false;
    },
  };
}
