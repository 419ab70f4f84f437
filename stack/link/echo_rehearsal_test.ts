import assert from "node:assert/strict";
import {
  EchoRehearsal,
  MAX_REHEARSED_FRAME_BYTES,
  REHEARSAL_TOKEN_BYTES,
  type RehearsalHook,
  type RehearsalTiming,
} from "./echo_rehearsal.ts";
import { internetChecksum } from "../wire/checksum.ts";
import { hex } from "../../tests/helpers/bytes.ts";

// Captured on a TAP (`gonet up --pcap`): Linux 6.18's `ping -c 1 10.0.0.2` (10.0.0.1, MAC
// 92:60:38:99:fb:fd) and gonet's reply. The reply is the request with the MACs and addresses
// swapped, its own IP identification, flags and checksum, and ICMP type 0, whose checksum is the
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
/** Where the IP header, the ICMP message and its echo data begin (no IP options). */
const IP = 14;
const ICMP = IP + 20;
const DATA = ICMP + 8;

/** Made-up timing: every millisecond of quiet, for a second, answered within 10 ms. */
const TIMING: RehearsalTiming = { intervalMs: 1, ttlMs: 1000, answerMs: 10 };
const always: Pick<RehearsalHook, "ready"> = { ready: () => true };

/** A fresh rehearsal with {@link TOKEN} and {@link TIMING}. */
function fresh(): EchoRehearsal {
  return new EchoRehearsal(TOKEN, TIMING);
}

/** A rehearsal that saw the stack send `REPLY` at time 0. */
function armed(): EchoRehearsal {
  const rehearsal = fresh();
  assert.equal(rehearsal.noteAnswered(REPLY, 0), true);
  return rehearsal;
}

/** The rehearsal frame `rehearsal` hands out at `now` (quiet since the answer at 0). */
function rehearsalFrame(rehearsal: EchoRehearsal, now = 5): Uint8Array {
  const buffer = new Uint8Array(MAX_REHEARSED_FRAME_BYTES);
  const length = rehearsal.next(buffer, 0, now, 0, always);
  assert.ok(length > 0, "no rehearsal was due");
  return buffer.subarray(0, length);
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
  // Guards the helper the other tests rely on (the IP headers differ in identification, flags
  // and checksum only).
  const derived = replyTo(REQUEST);
  assert.deepEqual(derived.subarray(ICMP), REPLY.subarray(ICMP));
  assert.deepEqual(derived.subarray(0, 14), REPLY.subarray(0, 14));
  assert.deepEqual(derived.subarray(26, 34), REPLY.subarray(26, 34));
});

Deno.test("echo rehearsal: armed by an echo reply the stack sent, not by anything else", () => {
  const rehearsal = fresh();
  assert.equal(rehearsal.noteAnswered(REQUEST, 0), false, "an echo request is no answer");
  assert.equal(rehearsal.armed, false);
  assert.equal(rehearsal.next(new Uint8Array(MAX_REHEARSED_FRAME_BYTES), 0, 5, 0, always), 0);
  assert.equal(rehearsal.noteAnswered(REPLY, 0), true);
  assert.equal(rehearsal.armed, true);
});

Deno.test("echo rehearsal: the rehearsal is the answered request, with the token", () => {
  const frame = rehearsalFrame(armed());
  assert.equal(frame.length, REQUEST.length);
  // Back to front again: the pinger's MAC and address as the source, ours as the destination.
  assert.deepEqual(frame.subarray(0, 14), REQUEST.subarray(0, 14));
  assert.deepEqual(frame.subarray(IP + 12, IP + 20), REQUEST.subarray(IP + 12, IP + 20));
  // The rest of the IP header is the reply's, and its checksum still holds (RFC 1071).
  assert.deepEqual(frame.subarray(IP, IP + 12), REPLY.subarray(IP, IP + 12));
  assert.equal(internetChecksum(frame.subarray(IP, ICMP)), 0);
  // An echo request with the pinger's identifier, sequence and data, but for the token.
  assert.equal(frame[ICMP], 8);
  assert.equal(frame[ICMP + 1], 0);
  assert.deepEqual(frame.subarray(ICMP + 4, DATA), REQUEST.subarray(ICMP + 4, DATA));
  assert.deepEqual(frame.subarray(DATA, DATA + REHEARSAL_TOKEN_BYTES), TOKEN);
  const rest = DATA + REHEARSAL_TOKEN_BYTES;
  assert.deepEqual(frame.subarray(rest), REQUEST.subarray(rest));
  assert.equal(internetChecksum(frame.subarray(ICMP)), 0);
  // Written where the link asks, as often as one is due.
  const rehearsal = armed();
  for (const [at, now] of [[0, 5], [40, 7]]) {
    const buffer = new Uint8Array(40 + MAX_REHEARSED_FRAME_BYTES);
    assert.equal(rehearsal.next(buffer, at, now, 0, always), REQUEST.length);
    assert.deepEqual(buffer.subarray(at, at + REQUEST.length), frame);
    rehearsal.replied();
  }
});

Deno.test("echo rehearsal: Ethernet padding after the reply is left out of the rehearsal", () => {
  const padded = new Uint8Array(REPLY.length + 6);
  padded.set(REPLY);
  const rehearsal = fresh();
  assert.equal(rehearsal.noteAnswered(padded, 0), true);
  assert.deepEqual(rehearsalFrame(rehearsal), rehearsalFrame(armed()));
});

Deno.test("echo rehearsal: the reply to a rehearsal is known by its token, also padded", () => {
  const rehearsal = armed();
  const reply = replyTo(rehearsalFrame(rehearsal));
  assert.equal(rehearsal.isRehearsalReply(reply), true);
  const padded = new Uint8Array(reply.length + 6);
  padded.set(reply);
  assert.equal(rehearsal.isRehearsalReply(padded), true);
  // It does not replace the answered echo: that stays a real one.
  assert.equal(rehearsal.noteAnswered(reply, 6), false);
  // A real reply is sent: its data is the pinger's.
  assert.equal(rehearsal.isRehearsalReply(REPLY), false);
  // Late, after rehearsing stopped: still swallowed, so the token never reaches the wire.
  rehearsal.disarm();
  assert.equal(rehearsal.isRehearsalReply(reply), true);
  // Another token: another link's rehearsal, or a pinger's data.
  const stranger = new EchoRehearsal(hex("0102030405060708"), TIMING);
  assert.equal(stranger.isRehearsalReply(reply), false);
});

Deno.test("echo rehearsal: a later answered echo replaces the one rehearsed", () => {
  const rehearsal = armed();
  rehearsalFrame(rehearsal);
  rehearsal.replied();
  const next = REPLY.slice();
  next[ICMP + 7] = 2; // sequence 2
  next[ICMP + 3] -= 1; // its checksum, one less (the sequence word grew by one; no borrow here)
  assert.equal(internetChecksum(next.subarray(ICMP)), 0);
  assert.equal(rehearsal.noteAnswered(next, 10), true);
  const frame = rehearsalFrame(rehearsal, 12);
  assert.equal(frame[ICMP + 7], 2);
  assert.equal(internetChecksum(frame.subarray(ICMP)), 0);
});

Deno.test("echo rehearsal: only whole, short IPv4 echo replies with 8 data bytes qualify", () => {
  const variants: [string, Uint8Array][] = [];
  const fragment = REPLY.slice();
  fragment[20] = 0x20; // more fragments
  variants.push(["a first fragment", fragment]);
  const offset = REPLY.slice();
  offset[21] = 0x01;
  variants.push(["a later fragment", offset]);
  const notIpv4 = REPLY.slice();
  notIpv4[13] = 0x06;
  variants.push(["an ARP ethertype", notIpv4]);
  const ipv6 = REPLY.slice();
  ipv6[IP] = 0x65;
  variants.push(["IP version 6", ipv6]);
  // The stack's replies carry no IP options; one that did would not be its own.
  const options = new Uint8Array(REPLY.length + 4);
  options.set(REPLY.subarray(0, ICMP));
  options.set(REPLY.subarray(ICMP), ICMP + 4);
  options[IP] = 0x46;
  options[17] += 4;
  variants.push(["IP options", options]);
  const udp = REPLY.slice();
  udp[23] = 17;
  variants.push(["UDP", udp]);
  const timestamp = REPLY.slice();
  timestamp[ICMP] = 14;
  variants.push(["an ICMP timestamp reply", timestamp]);
  // 4 data bytes (`ping -s 4`): no room for the token.
  const short = REPLY.slice(0, DATA + 4);
  short[17] = 20 + 8 + 4;
  variants.push(["4 data bytes", short]);
  const long = new Uint8Array(MAX_REHEARSED_FRAME_BYTES + 2);
  long.set(REPLY);
  long[16] = (long.length - 14) >>> 8;
  long[17] = (long.length - 14) & 0xff;
  variants.push(["a frame over the size limit", long]);
  variants.push(["a datagram longer than its frame", REPLY.slice(0, 60)]);
  for (const [what, frame] of variants) {
    const rehearsal = fresh();
    assert.equal(rehearsal.noteAnswered(frame, 0), false, what);
    assert.equal(rehearsal.armed, false, what);
  }
});

Deno.test("echo rehearsal: disarm forgets the answered echo; a bad token is refused", () => {
  for (const built of [false, true]) {
    const rehearsal = armed();
    if (built) rehearsalFrame(rehearsal);
    rehearsal.disarm();
    assert.equal(rehearsal.armed, false);
    assert.equal(rehearsal.next(new Uint8Array(MAX_REHEARSED_FRAME_BYTES), 0, 50, 0, always), 0);
  }
  assert.throws(() => new EchoRehearsal(new Uint8Array(4), TIMING), RangeError);
});

/** Whether a rehearsal is due from `rehearsal` at `now`, the last frame at `lastFrameAt`. */
function due(rehearsal: EchoRehearsal, now: number, lastFrameAt = 0, hook = always): boolean {
  return rehearsal.next(new Uint8Array(MAX_REHEARSED_FRAME_BYTES), 0, now, lastFrameAt, hook) > 0;
}

Deno.test("echo rehearsal schedule: after the interval of quiet since a frame or a rehearsal", () => {
  const rehearsal = armed();
  assert.equal(due(rehearsal, 0.5), false, "half the interval after the answer");
  assert.equal(due(rehearsal, 3, 2.5), false, "half the interval after a frame");
  assert.equal(due(rehearsal, 3, 2), true);
  rehearsal.replied();
  assert.equal(due(rehearsal, 3.5), false, "half the interval after the rehearsal");
  assert.equal(due(rehearsal, 4), true);
  rehearsal.replied();
  assert.equal(rehearsal.stats.rehearsals, 2);
  assert.equal(rehearsal.stats.unanswered, 0);
});

Deno.test("echo rehearsal schedule: one at a time; unanswered, it stops until a real echo", () => {
  const rehearsal = armed();
  assert.equal(due(rehearsal, 2), true);
  assert.equal(due(rehearsal, 5), false, "the last one waits for its reply");
  assert.equal(due(rehearsal, 11.5), false, "still waiting");
  assert.equal(rehearsal.stats.unanswered, 0);
  assert.equal(due(rehearsal, 12.5), false, "unanswered for 10 ms: counted, and rehearsing stops");
  assert.equal(rehearsal.stats.unanswered, 1);
  assert.equal(rehearsal.armed, false);
  assert.equal(due(rehearsal, 20), false);
  assert.equal(rehearsal.noteAnswered(REPLY, 30), true);
  assert.equal(due(rehearsal, 32), true, "a real echo answered again");
});

Deno.test("echo rehearsal schedule: only while the stack says it is ready", () => {
  const rehearsal = armed();
  // A hook whose `ready` is a method: it is called on the hook, with its `this`.
  class NotReady {
    readonly asked: [number, number][] = [];
    ready(source: number, destination: number): boolean {
      this.asked.push([source, destination]);
      return false;
    }
  }
  const notReady = new NotReady();
  assert.equal(due(rehearsal, 2, 0, notReady), false);
  // Asked about the pinger (10.0.0.1) and us (10.0.0.2); nothing is pending after a refusal.
  assert.deepEqual(notReady.asked, [[0x0a000001, 0x0a000002]]);
  assert.equal(due(rehearsal, 3), true);
});

Deno.test("echo rehearsal schedule: for ttlMs after the last real echo, then not", () => {
  const rehearsal = armed();
  assert.equal(due(rehearsal, 999), true);
  rehearsal.replied();
  assert.equal(due(rehearsal, 1000.5), false, "a second after the answer at 0");
  assert.equal(rehearsal.armed, false);
  assert.equal(rehearsal.stats.unanswered, 0);
});
