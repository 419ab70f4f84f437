import assert from "node:assert/strict";
import {
  EchoRehearsal,
  MAX_REHEARSED_FRAME_BYTES,
  REHEARSAL_TOKEN_BYTES,
} from "./echo_rehearsal.ts";
import { internetChecksum } from "../wire/checksum.ts";
import { hex } from "../../tests/helpers/bytes.ts";

// Captured on a TAP (`gonet up --pcap`): Linux 6.18's `ping -c 1 10.0.0.2` (10.0.0.1, MAC
// 92:60:38:99:fb:fd) and gonet's reply. The reply is the request with the MACs and addresses
// swapped, its own IP identification and checksum, and ICMP type 0, whose checksum is the
// request's plus 0x0800 (RFC 1624: only the type byte changed).
const REQUEST = hex(`
  a657933dfce6 92603899fbfd 0800
  4500 0054 014a 4000 4001 255d 0a000001 0a000002
  0800 29a7 5dbd 0001 e2cf166b00000000 b18c070000000000
  101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637`);
const REPLY = hex(`
  92603899fbfd a657933dfce6 0800
  4500 0054 6dc4 0000 4001 f8e2 0a000002 0a000001
  0000 31a7 5dbd 0001 e2cf166b00000000 b18c070000000000
  101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637`);
const TOKEN = hex("f00dfacecafebeef");
/** Where the ICMP message and its echo data begin in these frames (no IP options). */
const ICMP = 14 + 20;
const DATA = ICMP + 8;

/** A rehearsal that saw `REQUEST` come in and `REPLY` go out. */
function armed(): EchoRehearsal {
  const rehearsal = new EchoRehearsal(TOKEN);
  rehearsal.noteReceived(REQUEST);
  assert.equal(rehearsal.noteSent(REPLY), "answered");
  return rehearsal;
}

/** The rehearsal frame `rehearsal` writes. */
function rehearsalFrame(rehearsal: EchoRehearsal): Uint8Array {
  const buffer = new Uint8Array(MAX_REHEARSED_FRAME_BYTES);
  return buffer.subarray(0, rehearsal.writeRehearsal(buffer));
}

/** The reply a stack sends to an echo request frame, derived by hand as RFC 792 asks. */
function replyTo(request: Uint8Array): Uint8Array {
  const reply = request.slice();
  reply.set(request.subarray(6, 12), 0);
  reply.set(request.subarray(0, 6), 6);
  reply.set(request.subarray(30, 34), 26);
  reply.set(request.subarray(26, 30), 30);
  reply[ICMP] = 0;
  const checksum = ((request[ICMP + 2] << 8) | request[ICMP + 3]) + 0x0800;
  const folded = (checksum & 0xffff) + (checksum >>> 16);
  reply[ICMP + 2] = folded >>> 8;
  reply[ICMP + 3] = folded & 0xff;
  return reply;
}

Deno.test("echo rehearsal: the captured reply is the hand-derived one, addresses and checksum", () => {
  // Guards the helper the other tests rely on (the IP headers differ in identification only).
  const derived = replyTo(REQUEST);
  assert.deepEqual(derived.subarray(ICMP), REPLY.subarray(ICMP));
  assert.deepEqual(derived.subarray(0, 14), REPLY.subarray(0, 14));
  assert.deepEqual(derived.subarray(26, 34), REPLY.subarray(26, 34));
});

Deno.test("echo rehearsal: arms only once the stack answered the request", () => {
  const rehearsal = new EchoRehearsal(TOKEN);
  assert.equal(rehearsal.watching, false);
  rehearsal.noteReceived(REQUEST);
  assert.equal(rehearsal.armed, false);
  assert.equal(rehearsal.watching, true);
  assert.equal(rehearsal.noteSent(REQUEST), "other", "a request going out is no answer");
  const otherSequence = REPLY.slice();
  otherSequence[ICMP + 7] = 2;
  assert.equal(rehearsal.noteSent(otherSequence), "other");
  const otherPeer = REPLY.slice();
  otherPeer[33] = 9;
  assert.equal(rehearsal.noteSent(otherPeer), "other");
  assert.equal(rehearsal.armed, false);
  assert.equal(rehearsal.noteSent(REPLY), "answered");
  assert.equal(rehearsal.armed, true);
  assert.equal(rehearsal.frameBytes, REQUEST.length);
});

Deno.test("echo rehearsal: the rehearsal is the request with the token and a valid checksum", () => {
  const frame = rehearsalFrame(armed());
  assert.equal(frame.length, REQUEST.length);
  assert.deepEqual(frame.subarray(0, ICMP + 2), REQUEST.subarray(0, ICMP + 2));
  assert.deepEqual(frame.subarray(ICMP + 4, DATA), REQUEST.subarray(ICMP + 4, DATA));
  assert.deepEqual(frame.subarray(DATA, DATA + REHEARSAL_TOKEN_BYTES), TOKEN);
  const rest = DATA + REHEARSAL_TOKEN_BYTES;
  assert.deepEqual(frame.subarray(rest), REQUEST.subarray(rest));
  // A message carrying its valid checksum sums to zero (RFC 1071).
  assert.equal(internetChecksum(frame.subarray(ICMP)), 0);
  // Written where the link asks, as many times as it asks.
  const buffer = new Uint8Array(300);
  assert.equal(armed().writeRehearsal(buffer, 40), REQUEST.length);
  assert.deepEqual(buffer.subarray(40, 40 + REQUEST.length), frame);
});

Deno.test("echo rehearsal: the reply to a rehearsal is recognised by its token, also padded", () => {
  const rehearsal = armed();
  const reply = replyTo(rehearsalFrame(rehearsal));
  assert.equal(rehearsal.noteSent(reply), "rehearsal-reply");
  // Ethernet padding after the datagram changes nothing.
  const padded = new Uint8Array(reply.length + 6);
  padded.set(reply);
  assert.equal(rehearsal.noteSent(padded), "rehearsal-reply");
  // A real reply to the same pinger is not swallowed: its data is the pinger's.
  assert.equal(rehearsal.noteSent(REPLY), "other");
  // Another token: another link's rehearsal, or a pinger's data.
  const stranger = new EchoRehearsal(hex("0102030405060708"));
  stranger.noteReceived(REQUEST);
  stranger.noteSent(REPLY);
  assert.equal(stranger.noteSent(reply), "other");
});

Deno.test("echo rehearsal: a newer answered request replaces the template", () => {
  const rehearsal = armed();
  const next = REQUEST.slice();
  next[ICMP + 7] = 2; // sequence 2
  next[ICMP + 3] -= 1; // its checksum, one less (the sequence word grew by one; no borrow here)
  assert.equal(internetChecksum(next.subarray(ICMP)), 0);
  rehearsal.noteReceived(next);
  assert.equal(rehearsal.noteSent(replyTo(next)), "answered");
  assert.equal(rehearsalFrame(rehearsal)[ICMP + 7], 2);
});

Deno.test("echo rehearsal: only whole, short IPv4 echo requests with 8 data bytes qualify", () => {
  const variants: [string, Uint8Array][] = [];
  const fragment = REQUEST.slice();
  fragment[20] = 0x20; // more fragments
  variants.push(["a first fragment", fragment]);
  const offset = REQUEST.slice();
  offset[21] = 0x01;
  variants.push(["a later fragment", offset]);
  const notIpv4 = REQUEST.slice();
  notIpv4[13] = 0x06;
  variants.push(["an ARP ethertype", notIpv4]);
  const udp = REQUEST.slice();
  udp[23] = 17;
  variants.push(["UDP", udp]);
  const timestamp = REQUEST.slice();
  timestamp[ICMP] = 13;
  variants.push(["an ICMP timestamp request", timestamp]);
  // 4 data bytes (`ping -s 4`): no room for the token.
  const short = REQUEST.slice(0, DATA + 4);
  short[17] = 20 + 8 + 4;
  variants.push(["4 data bytes", short]);
  const long = new Uint8Array(MAX_REHEARSED_FRAME_BYTES + 2);
  long.set(REQUEST);
  long[16] = (long.length - 14) >>> 8;
  long[17] = (long.length - 14) & 0xff;
  variants.push(["a frame over the size limit", long]);
  const truncated = REQUEST.slice(0, 60);
  variants.push(["a datagram longer than its frame", truncated]);
  for (const [what, frame] of variants) {
    const rehearsal = new EchoRehearsal(TOKEN);
    rehearsal.noteReceived(frame);
    assert.equal(rehearsal.watching, false, what);
    assert.equal(rehearsal.noteSent(replyTo(frame)), "other", what);
    assert.equal(rehearsal.armed, false, what);
  }
});

Deno.test("echo rehearsal: disarm forgets template and candidate; a bad token is refused", () => {
  const rehearsal = armed();
  rehearsal.noteReceived(REQUEST);
  rehearsal.disarm();
  assert.equal(rehearsal.armed, false);
  assert.equal(rehearsal.watching, false);
  assert.equal(rehearsal.writeRehearsal(new Uint8Array(MAX_REHEARSED_FRAME_BYTES)), 0);
  assert.equal(rehearsal.noteSent(REPLY), "other");
  assert.throws(() => new EchoRehearsal(new Uint8Array(4)), RangeError);
});
