/**
 * Frame generators for the receive-path fuzzer: random bytes, and ARP/IPv4/ICMP/UDP/TCP frames
 * addressed to the target with mutated fields (lengths, IHL and options, fragment offsets and
 * flags, TCP flags/options/data offset, ICMP types, UDP lengths). Checksums are fixed up after
 * mutation most of the time so frames get past the parsers and into deep code.
 *
 * The generator is stateful for TCP: it watches what the target sends (through
 * {@link FrameGenerator.observe}) to learn the target's initial sequence numbers, so it can
 * complete handshakes and send in-window data, ACKs, SACKs, FINs and RSTs on live connections.
 * It also answers the target's ARP requests for the fuzzer's hosts. Every choice comes from one
 * seeded generator, so a run replays exactly from its seed.
 * @module
 */

import { SeededRandom } from "../stack/clock.ts";
import { readIpv4, readMac, writeIpv4, writeMac } from "../stack/wire/addr.ts";
import { finishChecksum, pseudoHeaderSum, sumWords } from "../stack/wire/checksum.ts";
import { emitTcpOptions, type TcpOptions, tcpOptionsLength } from "../stack/wire/tcp.ts";

/** The target stack's address (10.0.0.2). */
export const TARGET_IP = 0x0a000002;
/** The target stack's MAC (02:00:00:00:00:02). */
export const TARGET_MAC = 0x02_00_00_00_00_02;
/** The well-behaved helper stack's address (10.0.0.1); the fuzzer never impersonates it. */
export const HELPER_IP = 0x0a000001;
/** The helper stack's MAC (02:00:00:00:00:01). */
export const HELPER_MAC = 0x02_00_00_00_00_01;
/** How many fake hosts the fuzzer speaks for: 10.0.0.10 and up. */
export const PEER_COUNT = 32;
/** TCP port of the target's echo listener. */
export const ECHO_PORT = 80;
/** TCP port of the target's small-backlog discard listener (drives SYN cookies). */
export const DISCARD_PORT = 7;
/** UDP port of the target's echo socket. */
export const UDP_ECHO_PORT = 53;

const BROADCAST_MAC = 0xffff_ffff_ffff;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_ARP = 0x0806;
const PROTO_ICMP = 1;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const SYN = 0x02;
const RST = 0x04;
const FIN = 0x01;
const PSH = 0x08;
const ACK = 0x10;
const URG = 0x20;

const INTERESTING_U8 = [0, 1, 2, 4, 5, 6, 7, 8, 0x0f, 0x10, 0x3f, 0x40, 0x7f, 0x80, 0xfe, 0xff];
const INTERESTING_U16 = [
  0,
  1,
  7,
  8,
  19,
  20,
  21,
  27,
  28,
  40,
  60,
  64,
  67,
  68,
  576,
  1280,
  1472,
  1480,
  1500,
  1501,
  8191,
  8192,
  0x7fff,
  0x8000,
  0xfffe,
  0xffff,
];
const INTERESTING_MTU = [0, 1, 8, 67, 68, 100, 296, 552, 576, 1006, 1280, 1492, 1500, 9000, 65535];

/** A seeded source of the choices the fuzzer makes. */
export class Rng {
  readonly #random: SeededRandom;

  /** Seeds the sequence. */
  constructor(seed: number) {
    this.#random = new SeededRandom(seed);
  }

  /** A uniform unsigned 32-bit integer. */
  u32(): number {
    return this.#random.nextU32();
  }

  /** A uniform integer in `[0, n)`. */
  int(n: number): number {
    return Math.floor(this.#random.nextFloat() * n);
  }

  /** A uniform integer in `[low, high]`. */
  range(low: number, high: number): number {
    return low + this.int(high - low + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.#random.nextFloat() < p;
  }

  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const v = this.u32();
      out[i] = v;
      if (i + 1 < n) out[i + 1] = v >>> 8;
      if (i + 2 < n) out[i + 2] = v >>> 16;
      if (i + 3 < n) out[i + 3] = v >>> 24;
    }
    return out;
  }

  /** A length skewed to small values, with occasional large ones, up to `max`. */
  length(max: number): number {
    const r = this.#random.nextFloat();
    if (r < 0.5) return this.int(Math.min(max, 64) + 1);
    if (r < 0.9) return this.int(Math.min(max, 1500) + 1);
    return this.int(max + 1);
  }

  /** A 16-bit value that is interesting half the time. */
  u16ish(): number {
    return this.chance(0.5) ? this.pick(INTERESTING_U16) : this.u32() & 0xffff;
  }

  /** An 8-bit value that is interesting half the time. */
  u8ish(): number {
    return this.chance(0.5) ? this.pick(INTERESTING_U8) : this.u32() & 0xff;
  }
}

// ------------------------------------------------------------------------------ byte builders

/** An Ethernet II frame around `payload`. */
export function ethernetFrame(
  destination: number,
  source: number,
  etherType: number,
  payload: Uint8Array,
): Uint8Array {
  const frame = new Uint8Array(14 + payload.length);
  writeMac(frame, 0, destination);
  writeMac(frame, 6, source);
  frame[12] = etherType >>> 8;
  frame[13] = etherType;
  frame.set(payload, 14);
  return frame;
}

/** Fields of an IPv4 header to build; options are raw bytes (padded to 4 by the builder). */
export interface IpFields {
  /** Source address. */
  source: number;
  /** Destination address. */
  destination: number;
  /** Protocol number. */
  protocol: number;
  /** TTL (default 64). */
  ttl?: number;
  /** Identification (default 0). */
  identification?: number;
  /** Flags and fragment offset word (default 0). */
  flagsOffset?: number;
  /** Raw option bytes (default none). */
  options?: Uint8Array;
}

/** An IPv4 packet with a correct total length and header checksum. */
export function ipv4Packet(fields: IpFields, payload: Uint8Array): Uint8Array {
  const optionBytes = fields.options ?? new Uint8Array(0);
  const headerLength = 20 + Math.min(40, (optionBytes.length + 3) & ~3);
  const packet = new Uint8Array(headerLength + payload.length);
  packet[0] = 0x40 | (headerLength >>> 2);
  setU16(packet, 2, Math.min(0xffff, packet.length));
  setU16(packet, 4, fields.identification ?? 0);
  setU16(packet, 6, fields.flagsOffset ?? 0);
  packet[8] = fields.ttl ?? 64;
  packet[9] = fields.protocol;
  writeIpv4(packet, 12, fields.source);
  writeIpv4(packet, 16, fields.destination);
  packet.set(optionBytes.subarray(0, headerLength - 20), 20);
  packet.set(payload, headerLength);
  fixIpChecksum(packet);
  return packet;
}

/** Raw TCP header fields; `options` are raw bytes padded to 4 (at most 40 kept). */
export interface TcpFields {
  /** Source port. */
  sourcePort: number;
  /** Destination port. */
  destinationPort: number;
  /** Sequence number. */
  seq: number;
  /** Acknowledgment number. */
  ack: number;
  /** Flag byte. */
  flags: number;
  /** Window. */
  window: number;
  /** Urgent pointer (default 0). */
  urgent?: number;
  /** Raw option bytes (default none). */
  options?: Uint8Array;
  /** Overrides the data offset nibble (default: from the options length). */
  dataOffset?: number;
}

/** A TCP segment; its checksum is filled by {@link fixChecksums} once inside an IP packet. */
export function tcpSegment(fields: TcpFields, payload: Uint8Array): Uint8Array {
  const optionBytes = fields.options ?? new Uint8Array(0);
  const headerLength = 20 + Math.min(40, (optionBytes.length + 3) & ~3);
  const segment = new Uint8Array(headerLength + payload.length);
  setU16(segment, 0, fields.sourcePort);
  setU16(segment, 2, fields.destinationPort);
  setU32(segment, 4, fields.seq);
  setU32(segment, 8, fields.ack);
  segment[12] = (fields.dataOffset ?? headerLength >>> 2) << 4;
  segment[13] = fields.flags;
  setU16(segment, 14, fields.window);
  setU16(segment, 18, fields.urgent ?? 0);
  segment.set(optionBytes.subarray(0, headerLength - 20), 20);
  segment.set(payload, headerLength);
  return segment;
}

/** A UDP datagram (checksum filled later by {@link fixChecksums}). */
export function udpDatagram(
  sourcePort: number,
  destinationPort: number,
  payload: Uint8Array,
): Uint8Array {
  const datagram = new Uint8Array(8 + payload.length);
  setU16(datagram, 0, sourcePort);
  setU16(datagram, 2, destinationPort);
  setU16(datagram, 4, Math.min(0xffff, datagram.length));
  datagram.set(payload, 8);
  return datagram;
}

/** An ICMP message (checksum filled later by {@link fixChecksums}). */
export function icmpMessage(
  type: number,
  code: number,
  rest: number,
  data: Uint8Array,
): Uint8Array {
  const message = new Uint8Array(8 + data.length);
  message[0] = type;
  message[1] = code;
  setU32(message, 4, rest);
  message.set(data, 8);
  return message;
}

/** An Ethernet/IPv4 ARP packet. */
export function arpPacket(
  operation: number,
  senderMac: number,
  senderIp: number,
  targetMac: number,
  targetIp: number,
): Uint8Array {
  const packet = new Uint8Array(28);
  setU16(packet, 0, 1);
  setU16(packet, 2, 0x0800);
  packet[4] = 6;
  packet[5] = 4;
  setU16(packet, 6, operation);
  writeMac(packet, 8, senderMac);
  writeIpv4(packet, 14, senderIp);
  writeMac(packet, 18, targetMac);
  writeIpv4(packet, 24, targetIp);
  return packet;
}

/** Recomputes the IPv4 header checksum over the IHL bytes (when they fit). */
export function fixIpChecksum(packet: Uint8Array): void {
  const headerLength = (packet[0] & 0x0f) * 4;
  if (packet.length < 20 || headerLength < 20 || headerLength > packet.length) return;
  packet[10] = packet[11] = 0;
  setU16(packet, 10, finishChecksum(sumWords(packet.subarray(0, headerLength))));
}

/**
 * Recomputes the transport checksum (ICMP, UDP, TCP; unfragmented packets only) over the bytes
 * the receiver will check, then the IP header checksum. A UDP checksum left at zero stays zero.
 */
export function fixChecksums(packet: Uint8Array): void {
  const headerLength = (packet[0] & 0x0f) * 4;
  if (packet.length < 20 || headerLength < 20 || headerLength > packet.length) return;
  const totalLength = getU16(packet, 2);
  const end = Math.min(totalLength, packet.length);
  const fragmentWord = getU16(packet, 6);
  if (end > headerLength && (fragmentWord & 0x3fff) === 0) {
    const body = packet.subarray(headerLength, end);
    const source = readIpv4(packet, 12);
    const destination = readIpv4(packet, 16);
    switch (packet[9]) {
      case PROTO_ICMP:
        if (body.length >= 4) {
          body[2] = body[3] = 0;
          setU16(body, 2, finishChecksum(sumWords(body)));
        }
        break;
      case PROTO_UDP: {
        if (body.length < 8) break;
        const length = getU16(body, 4);
        if (length < 8 || length > body.length || getU16(body, 6) === 0) break;
        body[6] = body[7] = 0;
        const sum = sumWords(
          body.subarray(0, length),
          pseudoHeaderSum(source, destination, PROTO_UDP, length),
        );
        setU16(body, 6, finishChecksum(sum) || 0xffff);
        break;
      }
      case PROTO_TCP:
        if (body.length >= 18) {
          body[16] = body[17] = 0;
          const pseudo = pseudoHeaderSum(source, destination, PROTO_TCP, body.length);
          setU16(body, 16, finishChecksum(sumWords(body, pseudo)));
        }
        break;
    }
  }
  fixIpChecksum(packet);
}

// ------------------------------------------------------------------------------ mutations

/** Applies 1..4 random byte-level mutations to `bytes[from..]` in place. */
function mutateBytes(rng: Rng, bytes: Uint8Array, from = 0): void {
  if (bytes.length <= from) return;
  const count = rng.range(1, 4);
  for (let i = 0; i < count; i++) {
    const at = rng.range(from, bytes.length - 1);
    switch (rng.int(4)) {
      case 0:
        bytes[at] ^= 1 << rng.int(8);
        break;
      case 1:
        bytes[at] = rng.u8ish();
        break;
      case 2:
        if (at + 1 < bytes.length) setU16(bytes, at, rng.u16ish());
        break;
      default:
        if (at + 3 < bytes.length) setU32(bytes, at, rng.u32());
    }
  }
}

/** Raw IPv4 option bytes: well-formed or broken NOP/EOL/record-route/timestamp/unknown. */
function ipOptionBytes(rng: Rng): Uint8Array {
  const length = rng.pick([4, 8, 12, 20, 40]);
  const out = rng.chance(0.3) ? rng.bytes(length) : new Uint8Array(length);
  let i = 0;
  while (i < length) {
    const kind = rng.pick([0, 1, 7, 68, 130, 131, 137, 148, rng.u8ish()]);
    out[i++] = kind;
    if (kind <= 1 || i >= length) continue;
    const optionLength = rng.chance(0.7) ? Math.min(length - i + 1, rng.range(3, 11)) : rng.u8ish();
    out[i++] = optionLength;
    if (i < length) out[i++] = rng.u8ish(); // pointer
    i += Math.max(0, optionLength - 3);
  }
  return out;
}

/** A TCP options area: valid sets, raw TLVs with odd lengths, or random bytes. */
export function tcpOptionBytes(rng: Rng, seqHint: number): Uint8Array {
  const mode = rng.int(10);
  if (mode < 5) {
    const options: TcpOptions = {};
    if (rng.chance(0.5)) options.mss = rng.u16ish();
    if (rng.chance(0.4)) options.windowScale = rng.chance(0.7) ? rng.int(15) : rng.u8ish();
    if (rng.chance(0.4)) options.sackPermitted = true;
    if (rng.chance(0.5)) options.timestamps = { value: rng.u32(), echo: rng.u32() };
    if (rng.chance(0.3)) {
      const blocks = [];
      for (let n = rng.range(1, 3); n > 0; n--) {
        const start = (seqHint + rng.range(-70000, 70000)) >>> 0;
        blocks.push({ start, end: (start + rng.range(-10, 70000)) >>> 0 });
      }
      options.sackBlocks = blocks;
    }
    while (tcpOptionsLength(options) > 40) options.sackBlocks?.pop();
    if (options.sackBlocks?.length === 0) delete options.sackBlocks;
    const out = new Uint8Array(tcpOptionsLength(options));
    emitTcpOptions(out, 0, options);
    return out;
  }
  if (mode < 9) {
    const out: number[] = [];
    const target = rng.range(1, 40);
    while (out.length < target) {
      const kind = rng.pick([0, 1, 2, 3, 4, 5, 8, 19, 29, 30, 34, 254, rng.u8ish()]);
      out.push(kind);
      if (kind <= 1) continue;
      const length = rng.chance(0.6)
        ? ({ 2: 4, 3: 3, 4: 2, 5: 10 + 8 * rng.int(4), 8: 10 } as Record<number, number>)[kind] ??
          rng.range(2, 12)
        : rng.pick([0, 1, 2, 3, 5, 9, 11, 18, 255]);
      out.push(length);
      for (let i = 2; i < length && out.length < 40; i++) out.push(rng.u8ish());
    }
    return new Uint8Array(out.slice(0, 40));
  }
  return rng.bytes(rng.range(1, 40));
}

// ------------------------------------------------------------------------------ the generator

/** One generated frame and the name of the generator branch that made it. */
export interface GeneratedFrame {
  /** The Ethernet frame. */
  bytes: Uint8Array;
  /** Which branch made it (for statistics). */
  kind: string;
}

interface Session {
  readonly peer: number;
  readonly peerPort: number;
  readonly port: number;
  state: "syn-sent" | "open";
  /** Our next sequence number. */
  sndNxt: number;
  /** The target's next sequence number, once known. */
  rcvNxt: number;
  /** Frames generated when the session started (to expire stuck ones). */
  startedAt: number;
  timestamps: boolean;
}

/** Fake host `i`'s address (10.0.0.10 + i). */
export function peerIp(i: number): number {
  return 0x0a00000a + i;
}

/** Fake host `i`'s MAC (02:00:00:00:01:i). */
export function peerMac(i: number): number {
  return 0x02_00_00_00_01_00 + i;
}

const MAX_SESSIONS = 48;

/** Fake host `i` asking the target for its MAC, so the target learns the host (RFC 826). */
export function arpHelloFrame(i: number): Uint8Array {
  const packet = arpPacket(1, peerMac(i), peerIp(i), 0, TARGET_IP);
  return ethernetFrame(BROADCAST_MAC, peerMac(i), ETHERTYPE_ARP, packet);
}

/**
 * The fuzzer's reply to an ARP request the target sent: it answers for every address but the
 * target's and the helper's (the fake hosts with their MACs, any other address with
 * 02:00:00:00:02:xx), so whatever the target sends in response to odd sources reaches the wire
 * where the output checks see it.
 */
export function arpAnswerFor(frame: Uint8Array): Uint8Array | undefined {
  if (frame.length < 14 + 28 || getU16(frame, 12) !== ETHERTYPE_ARP) return undefined;
  const arp = frame.subarray(14);
  const targetIp = readIpv4(arp, 24);
  if (getU16(arp, 6) !== 1 || targetIp === TARGET_IP || targetIp === HELPER_IP) return undefined;
  const i = targetIp - peerIp(0);
  const mac = i >= 0 && i < PEER_COUNT ? peerMac(i) : 0x02_00_00_00_02_00 + (targetIp & 0xff);
  const reply = arpPacket(2, mac, targetIp, TARGET_MAC, TARGET_IP);
  return ethernetFrame(TARGET_MAC, mac, ETHERTYPE_ARP, reply);
}

/**
 * Produces fuzz frames for a target at {@link TARGET_IP} / {@link TARGET_MAC}. Call
 * {@link observe} with every frame the target sends so TCP sessions can follow it.
 */
export class FrameGenerator {
  readonly #rng: Rng;
  readonly #queue: GeneratedFrame[] = [];
  readonly #sessions = new Map<string, Session>();
  readonly #sentByTarget: Uint8Array[] = [];
  readonly #ended: Session[] = [];
  #generated = 0;
  #identification = 0;

  /** A generator seeded with `seed`. */
  constructor(seed: number) {
    this.#rng = new Rng(seed);
    // Introduce every fake host to the target (RFC 826: a request to it is learned).
    for (let i = 0; i < PEER_COUNT; i++) this.#queue.push(this.#arpHello(i));
  }

  /** Live TCP sessions the generator is driving. */
  get sessions(): number {
    return this.#sessions.size;
  }

  /** The connections the generator is driving, as the target sees them. */
  sessionTuples(): { remote: number; remotePort: number; localPort: number }[] {
    return [...this.#sessions.values()].map((s) => ({
      remote: s.peer,
      remotePort: s.peerPort,
      localPort: s.port,
    }));
  }

  /** The next frame: a queued follow-up (handshake ACK, ARP reply, fragment) or a new one. */
  next(): GeneratedFrame {
    this.#generated++;
    const queued = this.#queue.shift();
    if (queued) return queued;
    const rng = this.#rng;
    const roll = rng.int(100);
    if (roll < 4) return { bytes: rng.bytes(rng.length(1600)), kind: "random" };
    if (roll < 9) return this.#randomPayload();
    if (roll < 16) return this.#arp();
    if (roll < 28) return this.#ipMutated();
    if (roll < 31) return this.#fragments();
    if (roll < 41) return this.#icmp();
    if (roll < 51) return this.#udp();
    if (roll < 66) return this.#tcpStateless();
    return this.#tcpSession();
  }

  /**
   * Learns from a frame the target sent: ARP requests for our hosts get replies queued; SYN-ACKs
   * open sessions; data and FINs move the session's receive point; RSTs end sessions.
   */
  observe(frame: Uint8Array): void {
    if (frame.length < 14 || readMac(frame, 6) !== TARGET_MAC) return;
    const etherType = getU16(frame, 12);
    if (etherType === ETHERTYPE_ARP) {
      const answer = arpAnswerFor(frame);
      if (answer && this.#queue.length < 256) {
        this.#queue.push({ bytes: answer, kind: "arp-answer" });
      }
      return;
    }
    if (etherType !== ETHERTYPE_IPV4 || frame.length < 14 + 20) return;
    const ip = frame.subarray(14);
    const headerLength = (ip[0] & 0x0f) * 4;
    const totalLength = Math.min(getU16(ip, 2), ip.length);
    if (ip[9] === PROTO_TCP || ip[9] === PROTO_UDP) {
      if (this.#sentByTarget.length >= 16) this.#sentByTarget.shift();
      this.#sentByTarget.push(ip.slice(0, totalLength));
    }
    if (ip[9] !== PROTO_TCP || totalLength < headerLength + 20) return;
    const seg = ip.subarray(headerLength, totalLength);
    const key = `${readIpv4(ip, 16)}:${getU16(seg, 2)}`;
    const flags = seg[13];
    const seq = getU32(seg, 4);
    if ((flags & (SYN | ACK | RST)) === SYN) {
      this.#answerSyn(readIpv4(ip, 16), getU16(seg, 2), getU16(seg, 0), seq);
      return;
    }
    const session = this.#sessions.get(key);
    if (!session) return;
    const dataLength = seg.length - (seg[12] >>> 4) * 4;
    if (flags & RST) {
      this.#endSession(key);
      return;
    }
    if (session.state === "syn-sent" && (flags & (SYN | ACK)) === (SYN | ACK)) {
      session.state = "open";
      session.rcvNxt = (seq + 1) >>> 0;
      session.sndNxt = getU32(seg, 8);
      // Complete the handshake right away (most of the time).
      if (this.#rng.chance(0.9)) this.#queue.push(this.#sessionFrame(session, ACK, 0, "tcp-ack"));
      return;
    }
    if (session.state === "open") {
      const end = (seq + dataLength + (flags & FIN ? 1 : 0)) >>> 0;
      if (((end - session.rcvNxt) | 0) > 0) session.rcvNxt = end;
      // Follow the target's RCV.NXT, so "in order" stays in order after a frame we mangled was
      // dropped, and a closing RST carries exactly RCV.NXT (RFC 5961 §3.2).
      if (flags & ACK) session.sndNxt = getU32(seg, 8);
    }
  }

  /**
   * The target opened a connection to one of our hosts (an active open by its client task):
   * answer like a server (SYN-ACK), refuse (RST), open simultaneously (SYN), or stay silent.
   */
  #answerSyn(peer: number, peerPort: number, port: number, targetSeq: number): void {
    const rng = this.#rng;
    const i = peer - peerIp(0);
    if (i < 0 || i >= PEER_COUNT || this.#queue.length > 256) return;
    const key = `${peer}:${peerPort}`;
    const existing = this.#sessions.get(key);
    const session: Session = existing ?? {
      peer,
      peerPort,
      port,
      state: "open",
      sndNxt: rng.u32(),
      rcvNxt: (targetSeq + 1) >>> 0,
      startedAt: this.#generated,
      timestamps: false,
    };
    if (!existing) this.#sessions.set(key, session);
    const iss = session.sndNxt;
    const roll = rng.int(20);
    if (roll < 12) {
      session.sndNxt = (iss + 1) >>> 0;
      this.#queue.push(this.#sessionFrame(session, SYN | ACK, 0, "tcp-synack", {
        seq: iss,
        ack: (targetSeq + rng.pick([1, 1, 1, 1, 0, 2])) >>> 0,
        options: rng.chance(0.5) ? tcpOptionBytes(rng, targetSeq) : undefined,
      }));
    } else if (roll < 15) {
      this.#endSession(key);
      this.#queue.push(this.#sessionFrame(session, RST | ACK, 0, "tcp-refuse", {
        seq: 0,
        ack: (targetSeq + 1) >>> 0,
      }));
    } else if (roll < 17) {
      session.sndNxt = (iss + 1) >>> 0;
      this.#queue.push(
        this.#sessionFrame(session, SYN, 0, "tcp-simultaneous", { seq: iss, ack: 0 }),
      );
    }
  }

  // ---------------------------------------------------------------------------- branches

  #frame(ip: Uint8Array, kind: string, fix = true): GeneratedFrame {
    const rng = this.#rng;
    if (fix && rng.chance(0.93)) fixChecksums(ip);
    const roll = rng.int(100);
    const destination = roll < 94 ? TARGET_MAC : roll < 97 ? BROADCAST_MAC : rng.u32();
    const source = rng.chance(0.98) ? peerMac(rng.int(PEER_COUNT)) : rng.u32() * 0x10000;
    let bytes = ethernetFrame(destination, source, ETHERTYPE_IPV4, ip);
    if (rng.chance(0.05)) bytes = bytes.subarray(0, rng.int(bytes.length)); // truncated on the wire
    else if (bytes.length < 60 || rng.chance(0.03)) {
      const padded = new Uint8Array(Math.max(60, bytes.length + rng.int(32)));
      padded.set(bytes);
      if (rng.chance(0.5)) padded.set(rng.bytes(padded.length - bytes.length), bytes.length);
      bytes = padded;
    }
    return { bytes, kind };
  }

  #randomPayload(): GeneratedFrame {
    const rng = this.#rng;
    const etherType = rng.pick([ETHERTYPE_IPV4, ETHERTYPE_IPV4, ETHERTYPE_ARP, 0x86dd, rng.u32()]);
    const payload = rng.bytes(rng.length(1500));
    if (etherType === ETHERTYPE_IPV4 && payload.length >= 20 && rng.chance(0.7)) {
      payload[0] = 0x40 | (payload[0] & 0x0f);
      writeIpv4(payload, 16, TARGET_IP);
      if (rng.chance(0.7)) fixChecksums(payload);
    }
    const destination = rng.chance(0.9) ? TARGET_MAC : BROADCAST_MAC;
    return {
      bytes: ethernetFrame(destination, peerMac(rng.int(PEER_COUNT)), etherType & 0xffff, payload),
      kind: "random-payload",
    };
  }

  #arpHello(i: number): GeneratedFrame {
    return { bytes: arpHelloFrame(i), kind: "arp-hello" };
  }

  #arp(): GeneratedFrame {
    const rng = this.#rng;
    const i = rng.int(PEER_COUNT);
    if (rng.chance(0.3)) return this.#arpHello(i);
    const senderIp = rng.chance(0.7)
      ? peerIp(rng.int(PEER_COUNT))
      : rng.pick([0, TARGET_IP, 0x0a0000ff, 0xffffffff, 0x0a000000 + rng.range(3, 254)]);
    const packet = arpPacket(
      rng.pick([1, 2, 1, 2, 0, 3, 4, rng.u32() & 0xffff]),
      rng.chance(0.9) ? peerMac(i) : rng.pick([0, BROADCAST_MAC, TARGET_MAC, rng.u32()]),
      senderIp === HELPER_IP ? peerIp(i) : senderIp,
      rng.chance(0.8) ? 0 : rng.pick([TARGET_MAC, BROADCAST_MAC, rng.u32()]),
      rng.chance(0.8) ? TARGET_IP : rng.pick([senderIp, rng.u32(), 0x0a000003]),
    );
    let payload: Uint8Array = packet;
    if (rng.chance(0.3)) mutateBytes(rng, packet); // hardware/protocol types and lengths too
    if (rng.chance(0.1)) payload = packet.subarray(0, rng.int(28));
    else if (rng.chance(0.2)) payload = concat(packet, rng.bytes(rng.int(40)));
    const destination = rng.chance(0.6) ? BROADCAST_MAC : TARGET_MAC;
    return { bytes: ethernetFrame(destination, peerMac(i), ETHERTYPE_ARP, payload), kind: "arp" };
  }

  /** A plausible transport payload for `protocol`, addressed to the target's services. */
  #transportPayload(protocol: number): Uint8Array {
    const rng = this.#rng;
    switch (protocol) {
      case PROTO_ICMP:
        return icmpMessage(
          rng.pick([8, 8, 0, 3, 11, 12, rng.u8ish()]),
          rng.u8ish() & (rng.chance(0.7) ? 0x07 : 0xff),
          rng.u32(),
          rng.bytes(rng.length(1400)),
        );
      case PROTO_UDP:
        return udpDatagram(
          rng.u16ish() || 1,
          rng.pick([UDP_ECHO_PORT, UDP_ECHO_PORT, 9, rng.u16ish()]),
          rng.bytes(rng.length(1400)),
        );
      case PROTO_TCP:
        return tcpSegment({
          sourcePort: rng.range(1, 65535),
          destinationPort: rng.pick([ECHO_PORT, DISCARD_PORT, rng.u16ish()]),
          seq: rng.u32(),
          ack: rng.u32(),
          flags: rng.chance(0.5) ? rng.pick([SYN, ACK, SYN | ACK, RST, FIN | ACK]) : rng.u8ish(),
          window: rng.u16ish(),
          options: rng.chance(0.5) ? tcpOptionBytes(rng, rng.u32()) : undefined,
        }, rng.bytes(rng.length(1400)));
      default:
        return rng.bytes(rng.length(200));
    }
  }

  #source(): number {
    const rng = this.#rng;
    if (rng.chance(0.9)) return peerIp(rng.int(PEER_COUNT));
    return rng.pick([
      0,
      0x7f000001,
      0xe0000001,
      0xffffffff,
      0x0a0000ff,
      TARGET_IP,
      0xc0a80001,
      rng.u32(),
    ]);
  }

  #destination(): number {
    const rng = this.#rng;
    if (rng.chance(0.9)) return TARGET_IP;
    return rng.pick([0xffffffff, 0x0a0000ff, 0x0a000000, HELPER_IP, 0xe0000001, rng.u32()]);
  }

  #ipMutated(): GeneratedFrame {
    const rng = this.#rng;
    const protocol = rng.pick([PROTO_ICMP, PROTO_UDP, PROTO_TCP, rng.u8ish()]);
    const source = this.#source();
    let ip = ipv4Packet({
      source,
      destination: this.#destination(),
      protocol,
      ttl: rng.chance(0.9) ? 64 : rng.u8ish(),
      identification: rng.u32() & 0xffff,
      flagsOffset: rng.chance(0.7) ? (rng.chance(0.5) ? 0x4000 : 0) : rng.u16ish(),
      options: rng.chance(0.2) ? ipOptionBytes(rng) : undefined,
    }, this.#transportPayload(protocol));
    fixChecksums(ip);
    const mutation = rng.int(9);
    switch (mutation) {
      case 0:
        ip[0] = (rng.int(16) << 4) | (ip[0] & 0x0f); // version
        break;
      case 1:
        ip[0] = (ip[0] & 0xf0) | rng.int(16); // IHL
        break;
      case 2:
        setU16(ip, 2, rng.chance(0.5) ? rng.u16ish() : ip.length + rng.range(-24, 24)); // length
        break;
      case 3:
        setU16(ip, 6, rng.u16ish()); // flags and offset
        break;
      case 4:
        ip[9] = rng.u8ish(); // protocol
        break;
      case 5:
        ip = ip.subarray(0, rng.int(ip.length)); // short
        break;
      case 6:
        ip = concat(ip, rng.bytes(rng.range(1, 64))); // trailing garbage
        break;
      default: {
        const headerLength = (ip[0] & 0x0f) * 4;
        mutateBytes(rng, ip, rng.chance(0.5) ? headerLength : 0);
      }
    }
    return this.#frame(ip, `ip-mutated-${mutation}`);
  }

  /** A datagram cut into fragments: in or out of order, duplicated, overlapping, lost, huge. */
  #fragments(): GeneratedFrame {
    const rng = this.#rng;
    const protocol = rng.pick([PROTO_ICMP, PROTO_UDP, PROTO_TCP]);
    const source = rng.chance(0.95) ? peerIp(rng.int(8)) : this.#source();
    const big = rng.chance(0.05);
    const payloadLength = big ? rng.range(1500, 66000) : rng.range(9, 4000);
    let transport = this.#transportPayload(protocol);
    if (transport.length < payloadLength) {
      transport = concat(transport, rng.bytes(payloadLength - transport.length));
    }
    // Fix the inner length and checksum as if whole (a UDP length over 65535 wraps on purpose).
    if (protocol === PROTO_UDP) setU16(transport, 4, transport.length & 0xffff);
    const whole = ipv4Packet(
      { source, destination: TARGET_IP, protocol, identification: 0 },
      transport.subarray(0, Math.min(transport.length, 65515)),
    );
    fixChecksums(whole);
    const data = concat(whole.subarray(20), transport.subarray(whole.length - 20));
    const identification = rng.chance(0.7) ? rng.int(8) : (this.#identification++ & 0xffff);
    const unit = 8 * rng.range(1, rng.chance(0.9) ? 185 : 8);
    const pieces: { offset: number; length: number; more: boolean }[] = [];
    for (let offset = 0; offset < data.length; offset += unit) {
      pieces.push({
        offset,
        length: Math.min(unit, data.length - offset),
        more: offset + unit < data.length,
      });
    }
    // Mischief on the plan.
    const mischief = rng.int(10);
    if (mischief === 0) pieces.reverse();
    else if (mischief === 1) shuffle(rng, pieces);
    else if (mischief === 2 && pieces.length > 1) pieces.splice(rng.int(pieces.length), 1);
    else if (mischief === 3) pieces.push({ ...rng.pick(pieces) });
    else if (mischief === 4) {
      const piece = rng.pick(pieces);
      pieces.push({
        offset: Math.max(0, piece.offset - 8 * rng.range(1, 4)),
        length: unit,
        more: true,
      });
    } else if (mischief === 5) pieces[pieces.length - 1].more = true;
    else if (mischief === 6) pieces[0].more = false;
    else if (mischief === 7) {
      pieces.push({
        offset: 0xfff8 - 8 * rng.int(4),
        length: rng.range(1, 200),
        more: rng.chance(0.5),
      });
    }
    const limit = 1500 - 20;
    for (const piece of pieces.slice(0, 48)) {
      const start = Math.min(piece.offset, data.length);
      let body = data.subarray(start, Math.min(data.length, start + piece.length));
      if (body.length < piece.length) body = concat(body, rng.bytes(piece.length - body.length));
      if (body.length > limit && rng.chance(0.8)) body = body.subarray(0, limit & ~7);
      const flagsOffset = (piece.more ? 0x2000 : 0) | ((piece.offset >>> 3) & 0x1fff) |
        (rng.chance(0.03) ? 0x4000 : 0);
      const fragment = ipv4Packet({
        source,
        destination: TARGET_IP,
        protocol: rng.chance(0.97) ? protocol : rng.u8ish(),
        identification,
        flagsOffset,
        ttl: 64,
        options: rng.chance(0.05) ? ipOptionBytes(rng) : undefined,
      }, body);
      if (rng.chance(0.03)) mutateBytes(rng, fragment);
      fixIpChecksum(fragment);
      this.#queue.push(this.#frame(fragment, big ? "fragment-big" : "fragment", false));
    }
    return this.#queue.shift() ?? this.#ipMutated();
  }

  #icmp(): GeneratedFrame {
    const rng = this.#rng;
    const source = this.#source();
    const roll = rng.int(10);
    let message: Uint8Array;
    let kind = "icmp-echo";
    if (roll < 4) {
      message = icmpMessage(
        8,
        rng.chance(0.9) ? 0 : rng.u8ish(),
        rng.u32(),
        rng.bytes(rng.length(1472)),
      );
    } else if (roll < 8 && this.#sentByTarget.length > 0) {
      // An error quoting something the target really sent, so it reaches TCP/UDP error handling.
      kind = "icmp-error-quoting";
      let quoted: Uint8Array = rng.pick(this.#sentByTarget);
      const cut = rng.int(6);
      if (cut === 0) quoted = quoted.subarray(0, rng.int(quoted.length + 1));
      else if (cut === 1) quoted = quoted.subarray(0, 28);
      else if (cut === 2) {
        quoted = quoted.slice();
        mutateBytes(rng, quoted);
      }
      const type = rng.pick([3, 3, 3, 11, 12, 4, 5, rng.u8ish()]);
      const code = type === 3 ? rng.pick([0, 1, 2, 3, 4, 4, 4, rng.u8ish()]) : rng.u8ish() & 3;
      const rest = type === 3 && code === 4 ? rng.pick(INTERESTING_MTU) : rng.u32();
      message = icmpMessage(type, code, rest, quoted);
    } else {
      kind = "icmp-other";
      message = icmpMessage(rng.u8ish(), rng.u8ish(), rng.u32(), rng.bytes(rng.length(600)));
    }
    const ip = ipv4Packet({
      source,
      destination: this.#destination(),
      protocol: PROTO_ICMP,
      ttl: rng.u8ish() || 1,
    }, message);
    fixChecksums(ip);
    if (rng.chance(0.2)) mutateBytes(rng, ip, 20);
    return this.#frame(ip, kind);
  }

  #udp(): GeneratedFrame {
    const rng = this.#rng;
    const datagram = udpDatagram(
      rng.range(1, 65535),
      rng.pick([UDP_ECHO_PORT, UDP_ECHO_PORT, 9, 0, rng.u16ish()]),
      rng.bytes(rng.length(1472)),
    );
    let kind = "udp";
    const roll = rng.int(10);
    if (roll < 3) {
      kind = "udp-length";
      setU16(datagram, 4, rng.chance(0.5) ? rng.u16ish() : datagram.length + rng.range(-9, 9));
    }
    const ip = ipv4Packet({
      source: this.#source(),
      destination: this.#destination(),
      protocol: 17,
    }, datagram);
    setU16(ip, 26, 1); // nonzero so fixChecksums computes it...
    if (roll === 3) setU16(ip, 26, 0); // ...or zero: "no checksum" (RFC 768)
    fixChecksums(ip);
    if (roll === 4) setU16(ip, 26, rng.u16ish());
    return this.#frame(ip, kind);
  }

  #tcpStateless(): GeneratedFrame {
    const rng = this.#rng;
    const segment = this.#transportPayload(PROTO_TCP);
    const roll = rng.int(10);
    if (roll < 2) segment[12] = (rng.int(16) << 4) | (segment[12] & 0x0f); // data offset
    else if (roll < 3) segment[13] = rng.u8ish();
    else if (roll < 4) mutateBytes(rng, segment);
    const ip = ipv4Packet(
      { source: this.#source(), destination: this.#destination(), protocol: 6 },
      segment,
    );
    return this.#frame(ip, "tcp-stateless");
  }

  /** Forgets a session, remembering its 4-tuple so a later one may reuse it. */
  #endSession(key: string): void {
    const session = this.#sessions.get(key);
    if (!session) return;
    this.#sessions.delete(key);
    if (this.#ended.length >= 32) this.#ended.shift();
    this.#ended.push(session);
  }

  #newSession(): GeneratedFrame {
    const rng = this.#rng;
    // Reusing a recent 4-tuple meets the old connection in TIME-WAIT or LAST-ACK (RFC 9293 §3.6.1).
    const reuse = this.#ended.length > 0 && rng.chance(0.3) ? rng.pick(this.#ended) : undefined;
    const session: Session = {
      peer: reuse?.peer ?? peerIp(rng.int(PEER_COUNT)),
      peerPort: reuse?.peerPort ?? rng.range(1024, 65535),
      port: reuse?.port ?? (rng.chance(0.8) ? ECHO_PORT : DISCARD_PORT),
      state: "syn-sent",
      sndNxt: rng.u32(),
      rcvNxt: 0,
      startedAt: this.#generated,
      timestamps: rng.chance(0.5),
    };
    const key = `${session.peer}:${session.peerPort}`;
    if (!this.#sessions.has(key)) this.#sessions.set(key, session);
    const options: TcpOptions = {
      mss: rng.chance(0.9) ? rng.pick([1460, 536, 1400, 100]) : rng.u16ish(),
      windowScale: rng.chance(0.5) ? rng.int(15) : undefined,
      sackPermitted: rng.chance(0.5) || undefined,
      timestamps: session.timestamps ? { value: rng.u32(), echo: 0 } : undefined,
    };
    const clean = JSON.parse(JSON.stringify(options)) as TcpOptions;
    const optionBytes = new Uint8Array(tcpOptionsLength(clean));
    emitTcpOptions(optionBytes, 0, clean);
    const segment = tcpSegment({
      sourcePort: session.peerPort,
      destinationPort: session.port,
      seq: session.sndNxt,
      ack: 0,
      flags: SYN,
      window: rng.u16ish() || 1024,
      options: optionBytes,
    }, new Uint8Array(0));
    session.sndNxt = (session.sndNxt + 1) >>> 0;
    return this.#frame(
      ipv4Packet({ source: session.peer, destination: TARGET_IP, protocol: 6 }, segment),
      "tcp-syn",
    );
  }

  #sessionFrame(
    session: Session,
    flags: number,
    dataLength: number,
    kind: string,
    tweak?: { seq?: number; ack?: number; window?: number; urgent?: number; options?: Uint8Array },
  ): GeneratedFrame {
    const rng = this.#rng;
    let options = tweak?.options;
    if (!options && session.timestamps) {
      const ts: TcpOptions = { timestamps: { value: this.#generated >>> 0, echo: rng.u32() } };
      options = new Uint8Array(tcpOptionsLength(ts));
      emitTcpOptions(options, 0, ts);
    }
    const segment = tcpSegment({
      sourcePort: session.peerPort,
      destinationPort: session.port,
      seq: tweak?.seq ?? session.sndNxt,
      ack: tweak?.ack ?? session.rcvNxt,
      flags,
      window: tweak?.window ?? 65535,
      urgent: tweak?.urgent,
      options,
    }, rng.bytes(dataLength));
    const ip = ipv4Packet({ source: session.peer, destination: TARGET_IP, protocol: 6 }, segment);
    return this.#frame(ip, kind);
  }

  #tcpSession(): GeneratedFrame {
    const rng = this.#rng;
    // Expire sessions stuck half-open, and keep the table small with an occasional clean RST.
    if (this.#sessions.size >= MAX_SESSIONS || (this.#sessions.size > 0 && rng.chance(0.02))) {
      const [key, oldest] = this.#sessions.entries().next().value!;
      this.#endSession(key);
      if (oldest.state === "open") return this.#sessionFrame(oldest, RST | ACK, 0, "tcp-rst-clean");
    }
    const open = [...this.#sessions.values()].filter((s) => s.state === "open");
    if (open.length === 0 || rng.chance(0.08)) return this.#newSession();
    const s = rng.pick(open);
    const roll = rng.int(100);
    const window = rng.chance(0.9) ? 65535 : rng.u16ish();
    if (roll < 35) {
      const length = rng.chance(0.9) ? rng.range(1, 1460) : rng.range(0, 16);
      const frame = this.#sessionFrame(s, ACK | (rng.chance(0.5) ? PSH : 0), length, "tcp-data", {
        window,
      });
      s.sndNxt = (s.sndNxt + length) >>> 0;
      return frame;
    }
    if (roll < 45) {
      if (rng.chance(0.03)) {
        // A flood of disjoint out-of-order segments past the reassembly cap (256 KiB by default).
        for (let k = 0; k < 220; k++) {
          this.#queue.push(this.#sessionFrame(s, ACK, 1400, "tcp-ooo-flood", {
            seq: (s.sndNxt + 1 + 1500 * k + rng.int(50)) >>> 0,
          }));
        }
        return this.#queue.shift()!;
      }
      // Out of order, ahead of what was sent: exercises the receive reassembly queue and SACK.
      const ahead = rng.chance(0.8) ? rng.range(1, 200_000) : rng.u32();
      return this.#sessionFrame(s, ACK, rng.range(1, 1460), "tcp-ooo", {
        seq: (s.sndNxt + ahead) >>> 0,
      });
    }
    if (roll < 50) {
      return this.#sessionFrame(s, ACK, rng.range(1, 1460), "tcp-retransmit", {
        seq: (s.sndNxt - rng.range(1, 3000)) >>> 0,
      });
    }
    if (roll < 56) {
      // Duplicate ACKs below what the target sent, with SACK blocks above them: the target's loss
      // recovery (RFC 6675, RFC 5681 §3.2) runs against holes the fuzzer chose.
      const back = rng.range(1, 40_000);
      const ack = (s.rcvNxt - back) >>> 0;
      const blocks = [];
      for (let n = rng.range(1, 3); n > 0; n--) {
        const start = (ack + rng.range(1, back + 2000)) >>> 0;
        blocks.push({ start, end: (start + rng.range(1, 8000)) >>> 0 });
      }
      const options = new Uint8Array(tcpOptionsLength({ sackBlocks: blocks }));
      emitTcpOptions(options, 0, { sackBlocks: blocks });
      const copies = rng.range(1, 4);
      for (let i = 1; i < copies; i++) {
        this.#queue.push(this.#sessionFrame(s, ACK, 0, "tcp-sack", { ack, window, options }));
      }
      return this.#sessionFrame(s, ACK, 0, "tcp-sack", { ack, window, options });
    }
    if (roll < 62) {
      const ackDelta = rng.pick([0, 0, 0, 1, -1, 1000, -1000, 0x7fffffff, rng.u32()]);
      const sackOptions = rng.chance(0.4) ? tcpOptionBytes(rng, s.rcvNxt) : undefined;
      return this.#sessionFrame(s, ACK, 0, "tcp-ack", {
        ack: (s.rcvNxt + ackDelta) >>> 0,
        window: rng.chance(0.2) ? 0 : window,
        options: sackOptions,
      });
    }
    if (roll < 67) {
      const length = rng.chance(0.5) ? 0 : rng.range(1, 100);
      const frame = this.#sessionFrame(s, FIN | ACK, length, "tcp-fin");
      s.sndNxt = (s.sndNxt + length + 1) >>> 0;
      return frame;
    }
    if (roll < 71) {
      const valid = rng.chance(0.5);
      if (valid) this.#endSession(`${s.peer}:${s.peerPort}`);
      return this.#sessionFrame(s, RST | (rng.chance(0.5) ? ACK : 0), 0, "tcp-rst", {
        seq: valid ? s.sndNxt : (s.sndNxt + rng.pick([1, -1, 100, 70000])) >>> 0,
      });
    }
    if (roll < 75) {
      return this.#sessionFrame(s, SYN | (rng.chance(0.5) ? ACK : 0), 0, "tcp-syn-open");
    }
    if (roll < 79) {
      const length = rng.range(1, 600);
      const frame = this.#sessionFrame(s, ACK | URG | PSH, length, "tcp-urg", {
        urgent: rng.u16ish(),
      });
      s.sndNxt = (s.sndNxt + length) >>> 0;
      return frame;
    }
    if (roll < 86) {
      return this.#sessionFrame(
        s,
        rng.u8ish(),
        rng.chance(0.5) ? 0 : rng.range(1, 200),
        "tcp-flags",
        {
          seq: (s.sndNxt + rng.pick([0, 0, 1, -1])) >>> 0,
          options: rng.chance(0.3) ? tcpOptionBytes(rng, s.rcvNxt) : undefined,
        },
      );
    }
    if (roll < 92) {
      const frame = this.#sessionFrame(s, ACK, rng.range(0, 64), "tcp-mangled", {
        options: tcpOptionBytes(rng, s.rcvNxt),
      });
      const tcp = frame.bytes.subarray(14 + 20);
      if (tcp.length > 13 && rng.chance(0.5)) tcp[12] = (rng.int(16) << 4) | (tcp[12] & 0x0f);
      else mutateBytes(rng, tcp);
      const ip = frame.bytes.subarray(14);
      if (rng.chance(0.9)) fixChecksums(ip);
      return frame;
    }
    // Fragmented data segment: the TCP payload arrives only through reassembly.
    const length = rng.range(100, 4000);
    const whole = this.#sessionFrame(s, ACK | PSH, length, "tcp-fragmented").bytes.subarray(14);
    if (whole.length < 28 || getU16(whole, 2) !== whole.length) return this.#newSession();
    s.sndNxt = (s.sndNxt + length) >>> 0;
    fixChecksums(whole);
    const data = whole.subarray(20);
    const unit = 8 * rng.range(4, 185);
    const identification = this.#identification++ & 0xffff;
    const pieces: Uint8Array[] = [];
    for (let offset = 0; offset < data.length; offset += unit) {
      const more = offset + unit < data.length;
      pieces.push(ipv4Packet({
        source: s.peer,
        destination: TARGET_IP,
        protocol: 6,
        identification,
        flagsOffset: (more ? 0x2000 : 0) | (offset >>> 3),
      }, data.subarray(offset, offset + unit)));
    }
    if (rng.chance(0.5)) shuffle(rng, pieces);
    for (const piece of pieces) this.#queue.push(this.#frame(piece, "tcp-fragment", false));
    return this.#queue.shift()!;
  }
}

// ------------------------------------------------------------------------------ helpers

function shuffle<T>(rng: Rng, items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [items[i], items[j]] = [items[j], items[i]];
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function getU16(bytes: Uint8Array, at: number): number {
  return (bytes[at] << 8) | bytes[at + 1];
}

function getU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

function setU16(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 8;
  bytes[at + 1] = value;
}

function setU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = value >>> 16;
  bytes[at + 2] = value >>> 8;
  bytes[at + 3] = value;
}
