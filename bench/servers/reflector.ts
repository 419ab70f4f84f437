/**
 * The floor of experiment 1: a minimal echo responder on the same TAP code as gonet
 * (`ffi/tap.ts`: one `poll` per wakeup, reads until EAGAIN, optional busy polling) that answers
 * ARP requests and ICMP echo requests for its address by rewriting each frame in place, with no
 * stack, no channels and no dealers behind it. What it measures is what the TAP, the wake-up and
 * Deno cost by themselves; the gap to gonet is what the stack adds.
 *
 * Run it as root inside a namespace made for it:
 * `ip netns exec NS deno run -A bench/servers/reflector.ts [--busy-poll USEC] [--nap USEC] [--spin-ahead USEC]`. It prints one
 * `{"ready":true}` line and serves until its stdin closes.
 * @module
 */

import { parseArgs } from "node:util";
import { setIpv4Address, setLinkUp } from "../../ffi/netif.ts";
import { openTap } from "../../ffi/tap.ts";
import {
  DEFAULT_INLINE_WAIT_MS,
  DEFAULT_NAP_MICROS,
  DEFAULT_SPIN_AHEAD_MICROS,
} from "../../cli/stack_flags.ts";
import { parseIpv4Cidr } from "../../stack/wire/addr.ts";
import { updateChecksum } from "../../stack/wire/checksum.ts";
import { emit } from "../lines.ts";
import { MAIN_CPUS_OPTION, pinMainThread } from "./main_cpus.ts";
import { TAP_SERVER_OPTIONS } from "./tap_options.ts";

/** The responder's MAC: locally administered, fixed. */
const MAC = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];

/** Whether bytes `at..at+3` of `frame` hold `address`. */
function holds(frame: Uint8Array, at: number, address: number): boolean {
  return ((frame[at] << 24 | frame[at + 1] << 16 | frame[at + 2] << 8 | frame[at + 3]) >>> 0) ===
    address;
}

/** Turns an ARP request (RFC 826) for `address` into its reply in place; false for anything else. */
export function answerArp(frame: Uint8Array, address: number): boolean {
  if (frame.length < 42 || frame[12] !== 0x08 || frame[13] !== 0x06 || frame[21] !== 1) {
    return false;
  }
  if (!holds(frame, 38, address)) return false;
  frame.copyWithin(0, 6, 12); // to the asker
  frame.set(MAC, 6);
  frame[21] = 2; // reply
  frame.copyWithin(32, 22, 32); // the asker becomes the target
  frame.set(MAC, 22);
  frame.set([address >>> 24, (address >>> 16) & 0xff, (address >>> 8) & 0xff, address & 0xff], 28);
  return true;
}

/** Turns an ICMP echo request to `address` into its reply in place; false for anything else. */
export function answerEcho(frame: Uint8Array, address: number): boolean {
  if (frame.length < 42 || frame[12] !== 0x08 || frame[13] !== 0x00 || frame[23] !== 1) {
    return false;
  }
  const icmp = 14 + (frame[14] & 0x0f) * 4;
  if (frame.length < icmp + 8 || frame[icmp] !== 8 || !holds(frame, 30, address)) return false;
  frame.copyWithin(0, 6, 12);
  frame.set(MAC, 6);
  // Swap the addresses: the IP header checksum does not change.
  for (let i = 26; i < 30; i++) {
    const byte = frame[i];
    frame[i] = frame[i + 4];
    frame[i + 4] = byte;
  }
  frame[icmp] = 0;
  const checksum = updateChecksum((frame[icmp + 2] << 8) | frame[icmp + 3], 0x0800, 0x0000);
  frame[icmp + 2] = checksum >>> 8;
  frame[icmp + 3] = checksum & 0xff;
  return true;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      ...TAP_SERVER_OPTIONS,
      ...MAIN_CPUS_OPTION,
      "busy-poll": { type: "string", default: "0" },
      // Waits like `gonet up` by default, so the floor and gonet differ only by the stack.
      "inline-wait": { type: "string", default: String(DEFAULT_INLINE_WAIT_MS) },
      nap: { type: "string", default: String(DEFAULT_NAP_MICROS) },
      "spin-ahead": { type: "string", default: String(DEFAULT_SPIN_AHEAD_MICROS) },
    },
  });
  pinMainThread(values["main-cpus"]);
  const ip = parseIpv4Cidr(values.ip)!;
  const tap = openTap({
    name: values.tap,
    busyPollMicros: Number(values["busy-poll"]),
    inlineWaitMs: Number(values["inline-wait"]),
    napMicros: Number(values.nap),
    spinAheadMicros: Number(values["spin-ahead"]),
  });
  setIpv4Address(tap.name, parseIpv4Cidr(values["host-ip"])!);
  setLinkUp(tap.name, true);
  const serving = (async () => {
    for await (const batch of tap.receive()) {
      for (const frame of batch) {
        if (answerEcho(frame, ip.address) || answerArp(frame, ip.address)) tap.write(frame);
      }
    }
  })();
  await emit({ ready: true, pid: Deno.pid, stack: "reflector" });
  // Serve until the orchestrator closes our stdin.
  for await (const _ of Deno.stdin.readable) { /* commands are not used */ }
  await tap.close();
  await serving;
  Deno.exit(0);
}
