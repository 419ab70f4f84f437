import assert from "node:assert/strict";
import { answerArp, answerEcho } from "./reflector.ts";
import { hex } from "../../tests/helpers/bytes.ts";

const ADDRESS = 0x0a000002; // 10.0.0.2
const KERNEL_MAC = "6abce75dc2e1";
const OUR_MAC = "020000000002";
// Echo request and the reply Linux returned for it, captured on a veth pair (the ICMP part is
// the same capture as stack/wire/icmp_test.ts); only the type and checksum differ.
const PAYLOAD = `024d076b00000000 3970090000000000 ${"0102".repeat(20)}`;
const IP_TO_US = "4500 0054 1234 4000 4001 0000 0a000001 0a000002";
const IP_TO_THEM = "4500 0054 1234 4000 4001 0000 0a000002 0a000001";

Deno.test("reflector: an echo request to us becomes Linux's reply, addressed back", () => {
  const frame = hex(`${OUR_MAC} ${KERNEL_MAC} 0800 ${IP_TO_US} 0800 890c 0ea2 0001 ${PAYLOAD}`);
  assert.equal(answerEcho(frame, ADDRESS), true);
  assert.deepEqual(
    frame,
    hex(`${KERNEL_MAC} ${OUR_MAC} 0800 ${IP_TO_THEM} 0000 910c 0ea2 0001 ${PAYLOAD}`),
  );
});

Deno.test("reflector: echo requests to others, replies and short frames are left alone", () => {
  const toOther = hex(`${OUR_MAC} ${KERNEL_MAC} 0800 ${IP_TO_THEM} 0800 890c 0ea2 0001 ${PAYLOAD}`);
  const reply = hex(`${OUR_MAC} ${KERNEL_MAC} 0800 ${IP_TO_US} 0000 910c 0ea2 0001 ${PAYLOAD}`);
  for (const frame of [toOther, reply, new Uint8Array(20)]) {
    const before = frame.slice();
    assert.equal(answerEcho(frame, ADDRESS), false);
    assert.deepEqual(frame, before);
  }
});

Deno.test("reflector: an ARP request for us gets the RFC 826 reply", () => {
  // who-has 10.0.0.2 tell 10.0.0.1, from the kernel's MAC, broadcast.
  const request = hex(
    `ffffffffffff ${KERNEL_MAC} 0806 0001 0800 06 04 0001 ${KERNEL_MAC} 0a000001 000000000000 0a000002`,
  );
  assert.equal(answerArp(request, ADDRESS), true);
  assert.deepEqual(
    request,
    hex(
      `${KERNEL_MAC} ${OUR_MAC} 0806 0001 0800 06 04 0002 ${OUR_MAC} 0a000002 ${KERNEL_MAC} 0a000001`,
    ),
  );
  const forOther = hex(
    `ffffffffffff ${KERNEL_MAC} 0806 0001 0800 06 04 0001 ${KERNEL_MAC} 0a000001 000000000000 0a000003`,
  );
  assert.equal(answerArp(forOther, ADDRESS), false);
});
