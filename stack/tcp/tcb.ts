/**
 * The TCP control block: one connection's state machine, sans I/O (RFC 9293 §3.3, §3.10).
 *
 * A {@link Tcb} takes time as an argument and never touches channels, sockets or timers. Its
 * inputs are segments ({@link Tcb.onSegment}), expired deadlines ({@link Tcb.onTimer}) and user
 * calls (write, read, closeWrite, close, abort); its outputs are segments queued for
 * {@link Tcb.takeOutput} and the next deadline from {@link Tcb.nextDeadline}. The dealer in
 * `layer.ts` does the I/O around it.
 *
 * Implemented here: the full state machine with simultaneous open and close (RFC 9293 §3.5,
 * §3.6), segment arrival rules (§3.10.7), RST and SYN hardening with challenge ACKs (RFC 5961
 * §3-§5), window scaling, timestamps and PAWS (RFC 7323), SACK blocks and SACK-based loss
 * recovery (RFC 2018, RFC 6675), RTO (RFC 6298), delayed ACKs (RFC 5681 §4.2, RFC 9293
 * §3.8.6.3), Nagle and sender/receiver SWS avoidance (RFC 9293 §3.7.4, §3.8.6.2), zero-window
 * probing (§3.8.6.1), keepalive (§3.8.4), fast retransmit / NewReno fast recovery (RFC 5681 §3.2,
 * RFC 6582), limited transmit (RFC 3042), early retransmit (RFC 5827), tail loss probes and a
 * byte-counted form of RACK's loss rule (RFC 8985), and pluggable window growth (NewReno or
 * CUBIC, RFC 9438).
 * @module
 */

import { type SackBlock, TcpFlags, type TcpOptions } from "../wire/tcp.ts";
import {
  seqAdd,
  seqDiff,
  seqGe,
  seqGt,
  seqLe,
  seqLt,
  seqMax,
  seqMin,
  seqSub,
} from "../wire/seq.ts";
import { Cubic } from "./congestion/cubic.ts";
import { NewReno } from "./congestion/newreno.ts";
import type { CongestionControl } from "./congestion/types.ts";
import type { TcbConfig, TcbCounters } from "./config.ts";
import type { TcpError } from "./errors.ts";
import type { TimeWaitSnapshot } from "./time_wait.ts";
import {
  inReceiveWindow,
  type InSegment,
  type OutSegment,
  PAWS_IDLE_MS,
  sequenceLength,
  timestampValue,
} from "./segment.ts";
import { DEFAULT_IPV4_MSS, effectiveSendMss, MAX_WINDOW_SHIFT, windowShiftFor } from "./options.ts";
import { RecvBuffer } from "./recv_buffer.ts";
import { RtoEstimator } from "./rto.ts";
import { SackScoreboard } from "./sack.ts";
import { SendBuffer } from "./send_buffer.ts";
import { canReceiveData, canSendData, TcpState } from "./state.ts";

/** RFC 5681 §3.2: the duplicate-ACK threshold. */
const DUP_THRESH = 3;
const EMPTY = new Uint8Array(0);

/** Per-connection parameters chosen by the dealer. */
export interface TcbInit {
  /** Initial send sequence number (RFC 6528). */
  iss: number;
  /** Offset added to the clock for our TSval (RFC 7323 §5.4 recommends a random one). */
  tsOffset: number;
  /** Counters to add to. */
  counters: TcbCounters;
}

/** One TCP connection's state machine. See the module documentation. */
export class Tcb {
  /** Current state. */
  state: TcpState = TcpState.Closed;
  /** Set when the connection failed. */
  error: TcpError | undefined;
  /** The configuration in force. */
  /** Tunables; shared between connections until one changes (copy on write, see setNoDelay). */
  config: Readonly<TcbConfig>;
  /** Initial send sequence number. */
  readonly iss: number;
  /** Initial receive sequence number. */
  irs = 0;
  /** Oldest unacknowledged sequence number. */
  sndUna: number;
  /** Next sequence number to send. */
  sndNxt: number;
  /** Highest sequence number sent plus one (SND.MAX). */
  sndMax: number;
  /** Peer's window in bytes (scaled). */
  sndWnd = 0;
  /** Largest window the peer ever offered (RFC 5961 MAX.SND.WND). */
  maxSndWnd = 0;
  /** Next sequence number expected. */
  rcvNxt = 0;
  /** Shift applied to the peer's window field (RFC 7323). */
  sndShift = 0;
  /** Shift applied to our window field. */
  rcvShift = 0;
  /** Timestamps negotiated. */
  tsEnabled = false;
  /** SACK negotiated. */
  sackEnabled = false;
  /** Largest data payload per segment. */
  sendMss: number = DEFAULT_IPV4_MSS;
  /** The congestion controller (recreated for the negotiated MSS during the handshake). */
  cc: CongestionControl;
  /** The RTO estimator. */
  readonly rto: RtoEstimator;
  /** Whether fast recovery is in progress. */
  inRecovery = false;

  #now = 0;
  #sndWl1 = 0;
  #sndWl2 = 0;
  #send: SendBuffer;
  #sndBufSeq: number;
  #finQueued = false;
  /** A corked write holds bytes back; cleared by any {@link #output}. */
  #corked = false;
  /** Duplicate data to report as a D-SACK block in the next ACK (RFC 2883). */
  #dsack: SackBlock | undefined;
  #recv: RecvBuffer;
  #rcvAdvEdge = 0;
  #peerFinSeq: number | undefined;
  #eof = false;
  #peerMss = DEFAULT_IPV4_MSS;
  #tsOffset: number;
  #tsRecent = 0;
  #tsRecentAt = 0;
  #lastAckSent = 0;
  #synOptions: TcpOptions = {};
  #dupAcks = 0;
  #recover: number;
  #sack = new SackScoreboard();
  #highRxt: number;
  #delivered = 0;
  #roundDelivered = 0;
  #roundFlight = 0;
  #rtxMark: number | undefined;
  #passDoneAt: number | undefined;
  #retries = 0;
  #synRetransmitted = false;
  #zeroWindowRetransmit = false;
  #lastTimeoutTs: number | undefined;
  #rtoAt: number | undefined;
  #ptoAt: number | undefined;
  #tlpOutstanding = false;
  #rttSeq: number | undefined;
  #rttSentAt = 0;
  #ackPending = false;
  #ackNow = false;
  /** An ACK is due by the every-second-segment rule; it may wait for the end of a batch. */
  #ackByCount = false;
  #unackedSegments = 0;
  #delackAt: number | undefined;
  #persistAt: number | undefined;
  #persistBackoff = 0;
  #timeWaitAt: number | undefined;
  #finWait2At: number | undefined;
  #keepAliveAt: number | undefined;
  #keepAliveSent = 0;
  #userClosed = false;
  #challengeWindowStart = 0;
  #lastInvalidAckAt = -Infinity;
  #challengeCount = 0;
  #out: OutSegment[] = [];
  #counters: TcbCounters;

  /** Creates a CLOSED control block; call {@link openActive} or {@link openPassive}. */
  constructor(config: TcbConfig, init: TcbInit) {
    this.config = config;
    this.iss = init.iss >>> 0;
    this.sndUna = this.iss;
    this.sndNxt = this.iss;
    this.sndMax = this.iss;
    this.#sndBufSeq = seqAdd(this.iss, 1);
    this.#recover = this.iss;
    this.#highRxt = this.iss;
    this.#tsOffset = init.tsOffset >>> 0;
    this.#counters = init.counters;
    this.#send = new SendBuffer(config.sendBufferBytes);
    this.#recv = new RecvBuffer(config.maxOutOfOrderBytes);
    this.rto = new RtoEstimator(config);
    this.cc = this.#newCongestionControl(config.mss);
    this.rcvShift = config.windowScaling ? windowShiftFor(config.recvBufferBytes) : 0;
  }

  // ---------------------------------------------------------------- user-visible state

  /** Bytes ready for {@link read}. */
  get readableBytes(): number {
    return this.#recv.readyBytes;
  }

  /** The peer's FIN was received and every byte before it was read. */
  get eof(): boolean {
    return this.#eof && this.#recv.readyBytes === 0;
  }

  /** The peer's FIN has been received (data may still be waiting to be read). */
  get finReceived(): boolean {
    return this.#eof;
  }

  /** Room in the send buffer. */
  get writableBytes(): number {
    return this.#send.free;
  }

  /** Bytes written but not yet acknowledged. */
  get unacknowledgedBytes(): number {
    return this.#send.length;
  }

  /** Whether our FIN is queued (closeWrite or close was called). */
  get finQueued(): boolean {
    return this.#finQueued;
  }

  /** Whether the state machine reached CLOSED (after having been opened). */
  get closed(): boolean {
    return this.state === TcpState.Closed;
  }

  /** Whether {@link close} was called (the user let go of the connection). */
  get userClosed(): boolean {
    return this.#userClosed;
  }

  /** Toggles Nagle's algorithm off (`true`) or on. */
  setNoDelay(on: boolean, nowMs: number): void {
    if (this.config.noDelay !== on) this.config = { ...this.config, noDelay: on };
    this.#enter(nowMs);
    this.#output();
    this.#armProbe();
  }

  /** Toggles keepalives. */
  setKeepAlive(on: boolean, nowMs: number): void {
    if (this.config.keepAlive !== on) this.config = { ...this.config, keepAlive: on };
    this.#enter(nowMs);
    this.#keepAliveAt = on ? this.#now + this.config.keepAliveIdleMs : undefined;
    this.#keepAliveSent = 0;
  }

  // ---------------------------------------------------------------- opening

  /** Active OPEN (RFC 9293 §3.10.1): send a SYN and enter SYN-SENT. */
  openActive(nowMs: number): void {
    this.#enter(nowMs);
    this.state = TcpState.SynSent;
    this.#synOptions = {
      mss: this.config.mss,
      windowScale: this.config.windowScaling ? this.rcvShift : undefined,
      sackPermitted: this.config.sack || undefined,
    };
    this.#sendSyn();
  }

  /**
   * Passive open from a SYN that reached a listener (RFC 9293 §3.10.7.2): record the peer's
   * options, send SYN-ACK and enter SYN-RECEIVED.
   */
  openPassive(syn: InSegment, nowMs: number): void {
    this.#enter(nowMs);
    this.state = TcpState.SynReceived;
    const ws = this.#adoptPeerSyn(syn);
    // The SYN's window is never scaled (RFC 7323 §2.2).
    this.sndWnd = syn.window;
    this.maxSndWnd = syn.window;
    this.#sndWl1 = syn.seq;
    this.#synOptions = {
      mss: this.config.mss,
      windowScale: ws ? this.rcvShift : undefined,
      sackPermitted: this.sackEnabled || undefined,
    };
    this.#sendSyn();
  }

  /**
   * Takes what the peer's SYN settles (both opens): its ISN, and the options both sides offered.
   * RFC 7323 §2.2: scaling only when both SYNs carry the option; timestamps and SACK likewise.
   * Returns whether window scaling is on.
   */
  #adoptPeerSyn(syn: InSegment): boolean {
    this.irs = syn.seq;
    this.rcvNxt = seqAdd(syn.seq, 1);
    const o = syn.options;
    const ws = this.config.windowScaling && o.windowScale !== undefined;
    this.sndShift = ws ? Math.min(MAX_WINDOW_SHIFT, o.windowScale!) : 0;
    if (!ws) this.rcvShift = 0;
    this.tsEnabled = this.config.timestamps && o.timestamps !== undefined;
    if (this.tsEnabled) {
      this.#tsRecent = o.timestamps!.value;
      this.#tsRecentAt = this.#now;
    }
    this.sackEnabled = this.config.sack && o.sackPermitted === true;
    this.#peerMss = o.mss ?? DEFAULT_IPV4_MSS;
    this.#setSendMss();
    return ws;
  }

  /**
   * Opens straight into ESTABLISHED from the ACK that returned a valid SYN cookie (RFC 4987
   * §3.6); `cookie.iss` must be the ISS this TCB was created with. Only the MSS survives a
   * cookie, so window scaling, timestamps and SACK stay off.
   */
  openFromCookie(cookie: { irs: number; mss: number }, ack: InSegment, nowMs: number): void {
    this.#enter(nowMs);
    this.irs = cookie.irs >>> 0;
    this.rcvNxt = seqAdd(this.irs, 1);
    this.sndUna = seqAdd(this.iss, 1);
    this.sndNxt = this.sndUna;
    this.sndMax = this.sndUna;
    this.sndShift = 0;
    this.rcvShift = 0;
    this.#peerMss = cookie.mss;
    this.#setSendMss();
    this.#rcvAdvEdge = seqAdd(this.rcvNxt, Math.min(0xffff, this.config.recvBufferBytes));
    this.#lastAckSent = this.rcvNxt;
    this.sndWnd = ack.window;
    this.maxSndWnd = ack.window;
    this.#sndWl1 = ack.seq;
    this.#sndWl2 = ack.ack;
    this.#established();
    this.onSegment(ack, nowMs);
  }

  #sendSyn(): void {
    const ack = this.state === TcpState.SynReceived;
    const options: TcpOptions = { ...this.#synOptions };
    if (options.windowScale === undefined) delete options.windowScale;
    if (options.sackPermitted === undefined) delete options.sackPermitted;
    if (this.state === TcpState.SynSent ? this.config.timestamps : this.tsEnabled) {
      options.timestamps = { value: this.#tsNow(), echo: ack ? this.#tsRecent : 0 };
    }
    const window = Math.min(0xffff, this.config.recvBufferBytes);
    this.#out.push({
      seq: this.iss,
      ack: ack ? this.rcvNxt : 0,
      flags: TcpFlags.SYN | (ack ? TcpFlags.ACK : 0),
      window,
      options,
      payload: EMPTY,
    });
    if (ack) {
      this.#rcvAdvEdge = seqAdd(this.rcvNxt, window);
      this.#lastAckSent = this.rcvNxt;
    }
    if (this.sndNxt === this.iss) {
      this.sndNxt = seqAdd(this.iss, 1);
      this.sndMax = this.sndNxt;
      this.#rttSeq = this.sndNxt;
      this.#rttSentAt = this.#now;
    }
    this.#rtoAt ??= this.#now + this.rto.rtoMs;
  }

  // ---------------------------------------------------------------- user calls

  /**
   * Copies as much of `data` into the send buffer as fits, sends what may be sent; returns n.
   * With `cork`, a write that leaves less than one segment unsent sends nothing yet: the caller
   * calls {@link uncork} later (at the end of its turn), and anything sent before then, a FIN
   * included, takes the held bytes along.
   */
  write(data: Uint8Array, nowMs: number, cork = false): number {
    this.#enter(nowMs);
    if (!canSendData(this.state) || this.#finQueued) return 0;
    const n = this.#send.write(data);
    // Only a write taken whole corks: one that found the buffer full waits for an ACK instead,
    // and must not be woken by its own uncork turn after turn.
    if (cork && n === data.length && this.#unsentBytes() < this.sendMss) {
      this.#corked = true;
    } else {
      this.#output();
      this.#armProbe();
    }
    return n;
  }

  /** Whether a corked {@link write} holds bytes back (until {@link uncork} or other output). */
  get corked(): boolean {
    return this.#corked;
  }

  /** Sends what corked writes held back. */
  uncork(nowMs: number): void {
    if (!this.#corked) return;
    this.#enter(nowMs);
    this.#output();
    this.#armProbe();
  }

  /** Copies ready bytes into `into`; returns the count (0 when none are ready). */
  read(into: Uint8Array, nowMs: number): number {
    this.#enter(nowMs);
    const before = this.#windowRoom();
    const n = this.#recv.read(into);
    if (n > 0 && canReceiveData(this.state)) {
      // Window update when reading reopened a window that had shrunk (RFC 9293 §3.8.6.2.2,
      // RFC 1122 §4.2.3.3): the advertised window is at most half the buffer and may grow by
      // at least min(half the buffer, 2*MSS), or it was below min(half, MSS) and now reaches it.
      // Shrunk means held down by unread data: a window held down only by the unscaled 64 KB
      // of the handshake grows with our next segment anyway, and an update for it would cost
      // every request/response connection an extra pure ACK just before its response.
      const advertised = Math.max(0, seqDiff(this.#rcvAdvEdge, this.rcvNxt));
      const room = this.#windowRoom();
      const half = this.config.recvBufferBytes / 2;
      const step = Math.min(half, 2 * this.config.mss);
      const sws = Math.min(half, this.config.mss);
      const unreadBefore = this.config.recvBufferBytes - before;
      if (
        (advertised <= half && room - advertised >= step && unreadBefore >= step) ||
        (advertised < sws && room >= sws && before < room)
      ) {
        this.#emitAck();
      }
    }
    return n;
  }

  /** Half-close (RFC 9293 §3.10.4 CLOSE): queue our FIN after the buffered data. */
  closeWrite(nowMs: number): void {
    this.#enter(nowMs);
    if (this.#finQueued) return;
    if (this.state === TcpState.Established) this.state = TcpState.FinWait1;
    else if (this.state === TcpState.CloseWait) this.state = TcpState.LastAck;
    else return;
    this.#finQueued = true;
    this.#keepAliveAt = undefined;
    this.#output();
    // Corked bytes may have left with the FIN; sending data disarms the probe.
    this.#armProbe();
  }

  /**
   * Full close by the user. With unread data (or data arriving later) the connection is reset
   * (RFC 1122 §4.2.2.13); otherwise our FIN is queued and the connection finishes on its own.
   */
  close(nowMs: number): void {
    this.#enter(nowMs);
    this.#userClosed = true;
    if (this.state === TcpState.Closed || this.state === TcpState.TimeWait) return;
    if (
      this.#recv.readyBytes > 0 || this.state === TcpState.SynSent ||
      this.state === TcpState.SynReceived
    ) {
      this.abort(nowMs);
      return;
    }
    this.closeWrite(nowMs);
    if (this.state === TcpState.FinWait2) {
      this.#finWait2At = this.#now + this.config.finWait2TimeoutMs;
    }
  }

  /**
   * ABORT (RFC 9293 §3.10.5): send `<SEQ=SND.NXT><CTL=RST>` (SND.MAX here, see the ACK note)
   * when synchronized, then CLOSED.
   */
  abort(nowMs: number): void {
    this.#enter(nowMs);
    if (this.state === TcpState.Closed) return;
    if (this.state !== TcpState.SynSent && this.state !== TcpState.TimeWait) {
      this.#out.push({
        seq: this.sndMax,
        ack: 0,
        flags: TcpFlags.RST,
        window: 0,
        payload: EMPTY,
      });
    }
    this.#toClosed();
  }

  /**
   * A smaller path MTU was reported (ICMP "fragmentation needed", RFC 1191 §6.2): shrink the
   * send MSS and resend what was in flight in smaller pieces.
   */
  onPathMtu(mtu: number, nowMs: number): void {
    this.#enter(nowMs);
    const mss = effectiveSendMss(
      Math.min(this.#peerMss, Math.max(DEFAULT_IPV4_MSS, mtu) - 40),
      this.config.mss,
      this.tsEnabled ? 12 : 0,
    );
    if (mss >= this.sendMss) return;
    this.sendMss = mss;
    if (this.#canTransmitState() && this.sndUna !== this.sndMax) {
      this.sndNxt = this.sndUna;
      this.#output(true);
    }
  }

  /** Takes the segments queued for sending. */
  takeOutput(): OutSegment[] {
    const out = this.#out;
    this.#out = [];
    return out;
  }

  /** The earliest pending deadline, or undefined. */
  nextDeadline(): number | undefined {
    // Called after every segment: a chain of comparisons, not an array of the candidates.
    let at = earlier(this.#rtoAt, this.#ptoAt);
    at = earlier(at, this.#delackAt);
    at = earlier(at, this.#persistAt);
    at = earlier(at, this.#timeWaitAt);
    at = earlier(at, this.#finWait2At);
    return this.config.keepAlive ? earlier(at, this.#keepAliveAt) : at;
  }

  /** What a TIME-WAIT entry keeps of this connection (`time_wait.ts`); call it in TIME-WAIT. */
  timeWaitSnapshot(): TimeWaitSnapshot {
    const windowBytes = Math.max(0, seqDiff(this.#rcvAdvEdge, this.rcvNxt));
    return {
      sndNxt: this.#ackSeq(),
      rcvNxt: this.rcvNxt,
      windowBytes,
      windowField: Math.min(0xffff, Math.floor(windowBytes / 2 ** this.rcvShift)),
      timestamps: this.tsEnabled
        ? { offset: this.#tsOffset, recent: this.#tsRecent, recentAt: this.#tsRecentAt }
        : undefined,
    };
  }

  // ---------------------------------------------------------------- timers

  /** Handles every deadline at or before `nowMs`. */
  onTimer(nowMs: number): void {
    this.#enter(nowMs);
    const now = this.#now;
    if (this.#timeWaitAt !== undefined && this.#timeWaitAt <= now) {
      this.#toClosed(); // RFC 9293 §3.10.8: TIME-WAIT timeout
      return;
    }
    if (this.#finWait2At !== undefined && this.#finWait2At <= now) {
      this.#toClosed();
      return;
    }
    if (this.#rtoAt !== undefined && this.#rtoAt <= now) {
      this.#rtoAt = undefined;
      this.#onRetransmitTimeout();
      if (this.closed) return;
    }
    if (this.#ptoAt !== undefined && this.#ptoAt <= now) {
      this.#ptoAt = undefined;
      this.#onProbeTimeout();
    }
    if (this.#persistAt !== undefined && this.#persistAt <= now) {
      this.#persistAt = undefined;
      this.#onPersist();
    }
    if (this.#delackAt !== undefined && this.#delackAt <= now) {
      this.#delackAt = undefined;
      if (this.#ackPending) this.#emitAck();
    }
    if (this.config.keepAlive && this.#keepAliveAt !== undefined && this.#keepAliveAt <= now) {
      this.#onKeepAlive();
    }
    if (!this.closed) this.#armProbe();
  }

  #onRetransmitTimeout(): void {
    const synState = this.state === TcpState.SynSent || this.state === TcpState.SynReceived;
    if (!synState && this.sndUna === this.sndMax) return;
    const limit = synState ? this.config.synRetries : this.config.maxRetries;
    if (this.#retries >= limit) {
      this.#fail("timeout");
      return;
    }
    this.#retries++;
    this.#counters.timeouts++;
    this.#ptoAt = undefined;
    this.rto.backoff();
    this.#rttSeq = undefined; // Karn: never time a retransmitted segment (RFC 6298 §3)
    this.#lastTimeoutTs = this.#tsNow();
    if (synState) {
      this.#counters.retransmissions++;
      this.#synRetransmitted = true;
      this.#sendSyn();
      return;
    }
    // RFC 5681 §3.1 eq. 4 and the loss window; RFC 6582 §4 and RFC 6675 §5.1 set the recovery
    // point, so no new recovery starts before it is acknowledged. The SACK scoreboard is kept
    // (RFC 6675 §5.1, as Linux does) so the resend below skips data the peer already holds;
    // our receiver never reneges, and a reneging peer only costs us another timeout.
    const flight = seqSub(this.sndMax, this.sndUna);
    this.cc.onTimeout(this.#now, flight);
    this.inRecovery = false;
    this.#dupAcks = 0;
    this.#recover = this.sndMax;
    this.#highRxt = this.sndUna;
    this.#rtxMark = undefined;
    this.#passDoneAt = undefined;
    // Go back to SND.UNA and resend from there as the window allows (RFC 6298 §5.4).
    this.sndNxt = this.sndUna;
    this.#zeroWindowRetransmit = this.sndWnd === 0;
    this.#output(true);
    this.#rtoAt = this.#now + this.rto.rtoMs;
  }

  /**
   * Tail loss probe (RFC 8985 §7): when the last segments of a flight (or their ACKs) are
   * lost, no duplicate ACKs arrive and only the RTO would notice. After about two RTTs without
   * progress, send one probe (new data if the window allows, else the last segment again) to
   * draw an ACK whose SACK blocks start normal loss recovery.
   */
  #onProbeTimeout(): void {
    if (!this.#probeAllowed()) return;
    const dataEnd = seqAdd(this.#sndBufSeq, this.#send.length);
    const unsent = this.#unsentBytes();
    const windowRoom = seqDiff(seqAdd(this.sndUna, this.sndWnd), this.sndNxt);
    if (unsent > 0 && windowRoom > 0 && this.sndNxt === this.sndMax) {
      this.#sendData(this.sndNxt, Math.min(unsent, this.sendMss, windowRoom));
    } else {
      const sentDataEnd = seqMin(dataEnd, this.sndMax);
      const start = seqMax(this.sndUna, seqAdd(sentDataEnd, -this.sendMss));
      if (seqLt(start, sentDataEnd)) {
        this.#sendData(start, seqSub(sentDataEnd, start));
      } else if (this.#finQueued && seqGt(this.sndMax, dataEnd)) {
        this.#counters.retransmissions++;
        this.#emit(TcpFlags.ACK | TcpFlags.FIN, dataEnd, EMPTY);
      } else {
        return;
      }
    }
    this.#tlpOutstanding = true;
    this.#counters.tailLossProbes++;
    this.#rtoAt = this.#now + this.rto.rtoMs; // RFC 8985 §7.3: re-arm the RTO after a probe
  }

  /**
   * Probes need SACK (RFC 8985 §7). Unlike RFC 8985 they are also sent during recovery and after
   * a timeout: a peer that compresses its ACKs (Linux) may answer a whole burst with one ACK,
   * and when that one is lost nothing else arrives; one probe per flight breaks that silence
   * long before the RTO.
   */
  #probeAllowed(): boolean {
    return this.config.tailLossProbe && this.sackEnabled && this.#canTransmitState() &&
      !this.#tlpOutstanding && this.sndUna !== this.sndMax;
  }

  /** RFC 8985 §7.2: PTO = 2*SRTT, plus a worst-case delayed ACK for a one-segment flight. */
  #armProbe(): void {
    if (this.#ptoAt !== undefined || !this.#probeAllowed() || this.#rtoAt === undefined) return;
    const srtt = this.rto.srttMs;
    let pto = srtt === undefined ? 1000 : 2 * srtt;
    if (seqSub(this.sndMax, this.sndUna) <= this.sendMss) pto += 200;
    pto = Math.max(pto, this.config.tlpMinMs);
    const at = this.#now + pto;
    if (at < this.#rtoAt) this.#ptoAt = at;
  }

  #onPersist(): void {
    // RFC 9293 §3.8.6.1: probe a zero (or too small) window, backing off exponentially. The probe
    // repeats the byte before SND.UNA (as Linux does), which any receiver answers with an ACK
    // carrying its current window (§3.10.7.4, unacceptable segment).
    const unsent = this.#unsentBytes();
    if (unsent === 0 || !this.#canTransmitState() || this.sndUna !== this.sndMax) return;
    const usable = Math.min(this.sndWnd, this.cc.cwnd);
    if (usable > 0) {
      // A small window the SWS rule would not fill: send what fits (§3.8.6.2.1 override).
      this.#sendData(this.sndNxt, Math.min(unsent, usable, this.sendMss));
    } else {
      this.#counters.windowProbes++;
      this.#emit(TcpFlags.ACK, seqAdd(this.sndUna, -1), EMPTY);
    }
    this.#persistBackoff++;
    this.#persistAt = this.#now +
      Math.min(this.config.maxRtoMs, this.rto.rtoMs * 2 ** this.#persistBackoff);
  }

  #onKeepAlive(): void {
    if (this.state !== TcpState.Established && this.state !== TcpState.CloseWait) {
      this.#keepAliveAt = undefined;
      return;
    }
    if (this.sndUna !== this.sndMax) {
      // Data in flight: the retransmission timer watches the peer.
      this.#keepAliveAt = this.#now + this.config.keepAliveIntervalMs;
      return;
    }
    if (this.#keepAliveSent >= this.config.keepAliveProbes) {
      this.#fail("timeout");
      return;
    }
    // RFC 9293 §3.8.4: a segment with SEG.SEQ = SND.NXT-1 and no data elicits an ACK.
    this.#keepAliveSent++;
    this.#counters.keepAliveProbes++;
    this.#emit(TcpFlags.ACK, seqAdd(this.sndNxt, -1), EMPTY);
    this.#keepAliveAt = this.#now + this.config.keepAliveIntervalMs;
  }

  // ---------------------------------------------------------------- segment arrival

  /**
   * Processes one incoming segment (RFC 9293 §3.10.7). `moreQueued` says more segments of this
   * connection are waiting in the same batch: an ACK due only by the every-second-segment rule
   * then waits for the batch's last segment, so a burst read at one wakeup is acknowledged once
   * (as Linux does for a GRO batch). ACKs for holes, window edges, FINs or bad segments go at once.
   */
  onSegment(input: InSegment, nowMs: number, moreQueued = false): void {
    this.#enter(nowMs);
    if (this.config.keepAlive && this.state === TcpState.Established) {
      this.#keepAliveSent = 0;
      this.#keepAliveAt = this.#now + this.config.keepAliveIdleMs;
    }
    switch (this.state) {
      case TcpState.Closed:
      case TcpState.Listen:
        return;
      case TcpState.SynSent:
        this.#onSegmentSynSent(input);
        break;
      default:
        this.#onSegmentSynchronized({
          seq: input.seq,
          ack: input.ack,
          flags: input.flags,
          window: input.window,
          options: input.options,
          payload: input.payload,
        });
    }
    if (this.closed) return;
    if (!moreQueued && this.#ackByCount) this.#ackNow = true;
    this.#output();
    this.#flushAck();
    this.#armProbe();
  }

  /** RFC 9293 §3.10.7.3: SYN-SENT. */
  #onSegmentSynSent(seg: InSegment): void {
    const ack = (seg.flags & TcpFlags.ACK) !== 0;
    // First: the ACK must acknowledge our SYN.
    if (ack && (seqLe(seg.ack, this.iss) || seqGt(seg.ack, this.sndMax))) {
      if (!(seg.flags & TcpFlags.RST)) {
        this.#out.push({ seq: seg.ack, ack: 0, flags: TcpFlags.RST, window: 0, payload: EMPTY });
      }
      return;
    }
    // Second: RST. Only believed with an acceptable ACK; it means "connection refused".
    if (seg.flags & TcpFlags.RST) {
      if (ack) this.#fail("refused");
      return;
    }
    // Fourth: SYN.
    if (!(seg.flags & TcpFlags.SYN)) return;
    const ws = this.#adoptPeerSyn(seg);
    const o = seg.options;
    this.#rcvAdvEdge = seqAdd(this.rcvNxt, Math.min(0xffff, this.config.recvBufferBytes));
    if (ack) {
      this.#ackAdvance(seg.ack, o);
      this.sndWnd = seg.window; // a SYN's window is never scaled (RFC 7323 §2.2)
      this.maxSndWnd = this.sndWnd;
      this.#sndWl1 = seg.seq;
      this.#sndWl2 = seg.ack;
      this.#established();
      this.#ackNow = true;
      this.#ackPending = true;
      if (seg.payload.length > 0 || seg.flags & TcpFlags.FIN) {
        this.#receiveText(seqAdd(seg.seq, 1), seg.payload, (seg.flags & TcpFlags.FIN) !== 0);
      }
    } else {
      // Simultaneous open (RFC 9293 §3.5 Figure 8): SYN-RECEIVED, send SYN,ACK with our ISS.
      this.state = TcpState.SynReceived;
      this.sndWnd = seg.window;
      this.maxSndWnd = seg.window;
      this.#sndWl1 = seg.seq;
      this.#synOptions = {
        mss: this.config.mss,
        windowScale: ws ? this.rcvShift : undefined,
        sackPermitted: this.sackEnabled || undefined,
      };
      this.#sendSyn();
    }
  }

  /** RFC 9293 §3.10.7.4: every state from SYN-RECEIVED on. */
  #onSegmentSynchronized(seg: MutableSegment): void {
    const isRst = (seg.flags & TcpFlags.RST) !== 0;
    // A repeated SYN in SYN-RECEIVED: answer a bare one with our SYN-ACK again; a SYN-ACK
    // (simultaneous open) counts as the ACK of our SYN (RFC 9293 §3.5 Figure 8).
    if (
      this.state === TcpState.SynReceived && seg.flags & TcpFlags.SYN && !isRst &&
      seg.seq === this.irs
    ) {
      if (!(seg.flags & TcpFlags.ACK)) {
        this.#sendSyn();
        return;
      }
      seg.flags &= ~TcpFlags.SYN;
      seg.seq = seqAdd(seg.seq, 1);
    }
    // PAWS (RFC 7323 §5.3): a timestamp older than TS.Recent marks an old duplicate.
    const ts = seg.options.timestamps;
    if (this.tsEnabled && ts && !isRst && seqLt(ts.value, this.#tsRecent)) {
      if (this.#now - this.#tsRecentAt <= PAWS_IDLE_MS) {
        this.#counters.pawsDrops++;
        this.#ackNow = this.#ackPending = true;
        return;
      }
    }
    // First: sequence acceptability.
    const segLen = sequenceLength(seg);
    const wnd = Math.max(0, seqDiff(this.#rcvAdvEdge, this.rcvNxt));
    if (!inReceiveWindow(this.rcvNxt, seg.seq, segLen, wnd)) {
      // With a zero window, still take the ACK of a segment at RCV.NXT (RFC 9293 §3.10.7.4).
      const zeroWindowAck = wnd === 0 && seg.seq === this.rcvNxt && !isRst &&
        (seg.flags & TcpFlags.ACK) !== 0 && !(seg.flags & TcpFlags.SYN);
      if (zeroWindowAck && this.state !== TcpState.SynReceived) this.#processAck(seg);
      if (isRst) return;
      this.#counters.outOfWindow++;
      if (seg.payload.length > 0 && seqLe(seqAdd(seg.seq, seg.payload.length), this.rcvNxt)) {
        this.#noteDuplicate(seg.seq, seqAdd(seg.seq, seg.payload.length));
      }
      if (this.state === TcpState.TimeWait && seg.flags & TcpFlags.FIN) {
        this.#timeWaitAt = this.#now + this.config.timeWaitMs;
      }
      // A pure ACK answered with an ACK can start an endless ACK war when both sides think the
      // other is out of window: rate-limit those answers (RFC 5961 §7; Linux's
      // tcp_invalid_ratelimit). Segments with data, SYN or FIN are always answered.
      if (segLen === 0) {
        if (this.#now - this.#lastInvalidAckAt < this.config.invalidAckIntervalMs) return;
        this.#lastInvalidAckAt = this.#now;
      }
      this.#ackNow = this.#ackPending = true;
      return;
    }
    // Second: RST (RFC 5961 §3.2): exact match resets, in-window gets a challenge ACK.
    if (isRst) {
      if (seg.seq !== this.rcvNxt) {
        this.#challengeAck();
        return;
      }
      switch (this.state) {
        case TcpState.SynReceived:
          // Passive: back to LISTEN, which for us means discarding the TCB (nobody accepted it
          // yet); active (simultaneous open): the connection is refused.
          this.#fail("refused");
          return;
        case TcpState.TimeWait:
          // RFC 1337 §4: ignore RSTs in TIME-WAIT, so a stray RST cannot cut it short.
          return;
        case TcpState.Closing:
        case TcpState.LastAck:
          this.#toClosed();
          return;
        default:
          this.#fail("reset");
          return;
      }
    }
    // Fourth: SYN in a synchronized state (RFC 5961 §4.2): challenge ACK, drop.
    if (seg.flags & TcpFlags.SYN) {
      this.#challengeAck();
      return;
    }
    // Fifth: ACK.
    if (!(seg.flags & TcpFlags.ACK)) return;
    if (this.state === TcpState.SynReceived) {
      if (seqLt(this.sndUna, seg.ack) && seqLe(seg.ack, this.sndMax)) {
        this.#established();
        this.sndWnd = seg.window * 2 ** this.sndShift;
        this.maxSndWnd = Math.max(this.maxSndWnd, this.sndWnd);
        this.#sndWl1 = seg.seq;
        this.#sndWl2 = seg.ack;
      } else {
        this.#out.push({ seq: seg.ack, ack: 0, flags: TcpFlags.RST, window: 0, payload: EMPTY });
        return;
      }
    }
    // RFC 7323 §4.3: record TS.Recent from a segment covering the last ACK we sent.
    if (this.tsEnabled && ts && seqLe(seg.seq, this.#lastAckSent)) {
      if (seqGe(ts.value, this.#tsRecent)) {
        this.#tsRecent = ts.value;
        this.#tsRecentAt = this.#now;
      }
    }
    if (!this.#processAck(seg)) return;
    const finAcked = this.#finAcked();
    switch (this.state) {
      case TcpState.FinWait1:
        if (finAcked) {
          this.state = TcpState.FinWait2;
          if (this.#userClosed) this.#finWait2At = this.#now + this.config.finWait2TimeoutMs;
        }
        break;
      case TcpState.Closing:
        if (finAcked) this.#enterTimeWait();
        break;
      case TcpState.LastAck:
        if (finAcked) {
          this.#toClosed();
          return;
        }
        break;
      case TcpState.TimeWait:
        return;
    }
    // Sixth: URG is not supported; urgent data is delivered inline as ordinary data.
    // Seventh and eighth: text and FIN.
    const fin = (seg.flags & TcpFlags.FIN) !== 0;
    if (seg.payload.length > 0 || fin) {
      if (!canReceiveData(this.state)) return; // the peer's FIN already came
      if (this.#userClosed && seg.payload.length > 0) {
        // RFC 1122 §4.2.2.13: new data after a full CLOSE resets the connection.
        this.abort(this.#now);
        return;
      }
      this.#receiveText(seg.seq, seg.payload, fin);
    }
  }

  #challengeAck(): void {
    // RFC 5961 §7: limit challenge ACKs per second.
    if (this.#now - this.#challengeWindowStart >= 1000) {
      this.#challengeWindowStart = this.#now;
      this.#challengeCount = 0;
    }
    if (this.#challengeCount >= this.config.challengeAckLimit) return;
    this.#challengeCount++;
    this.#counters.challengeAcks++;
    this.#emitAck();
  }

  /** Processes the ACK field; returns false when the segment must be dropped. */
  #processAck(seg: MutableSegment): boolean {
    const ack = seg.ack;
    // RFC 9293 §3.10.7.4 fifth / RFC 5961 §5.2: ACKs of unsent data or far too old are dropped
    // with an ACK.
    if (seqGt(ack, this.sndMax) || seqLt(ack, seqAdd(this.sndUna, -this.maxSndWnd))) {
      this.#ackNow = this.#ackPending = true;
      return false;
    }
    const window = seg.window * 2 ** this.sndShift;
    const sackedBefore = this.#sack.sackedBytes();
    const unaBefore = this.sndUna;
    if (this.sackEnabled && seg.options.sackBlocks) {
      this.#sack.update(seg.options.sackBlocks, this.sndUna, this.sndMax);
    }
    if (window === 0 && ack === this.sndUna) {
      // The peer is alive and answering with a closed window: retransmissions it refuses are
      // probes, which must not make us give up (RFC 9293 §3.8.6.1).
      this.#retries = 0;
    }
    if (seqGt(ack, this.sndUna)) {
      const acked = seqSub(ack, this.sndUna);
      this.#ackAdvance(ack, seg.options);
      if (this.inRecovery) {
        if (seqGe(ack, this.#recover)) {
          // RFC 6582 §3.2 step 3, full ACK: deflate and leave recovery.
          this.inRecovery = false;
          this.cc.onRecoveryEnd(this.#now);
          this.cc.cwnd = Math.min(
            this.cc.cwnd,
            Math.max(seqSub(this.sndMax, this.sndUna), this.sendMss) + this.sendMss,
          );
        } else if (!this.sackEnabled) {
          // RFC 6582 §3.2 step 3, partial ACK: retransmit the next hole, partially deflate.
          this.#retransmitFirst();
          this.cc.cwnd = Math.max(this.sendMss, this.cc.cwnd - acked);
          if (acked >= this.sendMss) this.cc.cwnd += this.sendMss;
          this.#rtoAt = this.#now + this.rto.rtoMs;
        }
      } else {
        this.cc.onAck(acked, this.#now, this.rto.srttMs);
      }
      this.#dupAcks = 0;
    } else if (
      ack === this.sndUna && seg.payload.length === 0 &&
      !(seg.flags & (TcpFlags.SYN | TcpFlags.FIN)) && window === this.sndWnd &&
      this.sndMax !== this.sndUna
    ) {
      // RFC 5681 §2 duplicate ACK.
      this.#counters.duplicateAcks++;
      this.#dupAcks++;
      if (this.inRecovery) {
        if (!this.sackEnabled) this.cc.cwnd += this.sendMss; // RFC 5681 §3.2 step 4
      } else if (
        (this.#dupAcks >= this.#dupThreshold() ||
          (this.sackEnabled && this.#sack.lossDetected(this.sndUna, DUP_THRESH, this.sendMss))) &&
        this.#pastRecoveryPoint()
      ) {
        this.#enterRecovery();
      }
    }
    if (
      this.sackEnabled && !this.inRecovery && this.#pastRecoveryPoint() &&
      this.#sack.lossDetected(this.sndUna, DUP_THRESH, this.sendMss)
    ) {
      // RFC 6675 §5 (IsLost): enough SACKed above SND.UNA means loss, even without 3 dupacks.
      this.#enterRecovery();
    }
    // Bytes newly delivered by this ACK, cumulatively or by SACK (used to age retransmissions).
    if (seqGe(ack, unaBefore)) {
      const delivered = seqSub(this.sndUna, unaBefore) + this.#sack.sackedBytes() - sackedBefore;
      this.#delivered += delivered;
      if (delivered > 0) this.#maybeRestartResend();
    }
    // RFC 9293 §3.10.7.4 fifth: window update from a newer segment.
    if (
      seqLt(this.#sndWl1, seg.seq) ||
      (this.#sndWl1 === seg.seq && seqLe(this.#sndWl2, ack))
    ) {
      this.sndWnd = window;
      this.#sndWl1 = seg.seq;
      this.#sndWl2 = ack;
      this.maxSndWnd = Math.max(this.maxSndWnd, window);
      if (window > 0 && this.#zeroWindowRetransmit) {
        // The last RTO resend went into a closed window and was most likely dropped: now that
        // the window opened, send from SND.UNA again rather than wait for another timeout.
        this.#zeroWindowRetransmit = false;
        this.sndNxt = this.sndUna;
      }
      if (window > 0 && this.#persistAt !== undefined) {
        this.#persistAt = undefined;
        this.#persistBackoff = 0;
      }
    }
    return true;
  }

  /** SND.UNA moves to `ack`: free buffer, sample RTT, manage the timer (RFC 6298 §5.2, §5.3). */
  #ackAdvance(ack: number, options: TcpOptions): void {
    const ts = options.timestamps;
    if (this.tsEnabled && ts && ts.echo !== 0) {
      // RFC 7323 §4.1: RTT from the echoed timestamp, on ACKs that advance SND.UNA. An echo
      // older than our last timeout retransmission may answer the original transmission while
      // the ACK covers the resend (the peer keeps TS.Recent from in-window segments only), so,
      // in the spirit of Karn's rule (RFC 6298 §3), such samples are skipped.
      const rtt = seqSub(this.#tsNow(), ts.echo);
      const stale = this.#lastTimeoutTs !== undefined && seqLt(ts.echo, this.#lastTimeoutTs);
      if (rtt < 0x8000_0000 && !stale) this.rto.sample(rtt);
      this.#rttSeq = undefined;
    } else if (this.#rttSeq !== undefined && seqGe(ack, this.#rttSeq)) {
      this.rto.sample(this.#now - this.#rttSentAt);
      this.#rttSeq = undefined;
    }
    const dataAcked = Math.min(Math.max(0, seqDiff(ack, this.#sndBufSeq)), this.#send.length);
    this.#send.consume(dataAcked);
    this.#sndBufSeq = seqAdd(this.#sndBufSeq, dataAcked);
    this.sndUna = ack;
    if (this.#rtxMark !== undefined && seqGe(ack, this.#rtxMark)) this.#rtxMark = undefined;
    this.#zeroWindowRetransmit = false;
    this.#tlpOutstanding = false;
    this.#ptoAt = undefined;
    if (seqLt(this.sndNxt, ack)) this.sndNxt = ack;
    if (seqLt(this.#highRxt, ack)) this.#highRxt = ack;
    this.#sack.advance(ack);
    this.#retries = 0;
    this.rto.resetBackoff();
    this.#rtoAt = this.sndUna === this.sndMax ? undefined : this.#now + this.rto.rtoMs;
  }

  /**
   * Whether the latest retransmissions are lost too: at least DupThresh segments' worth of data
   * sent after the latest retransmission (at or above SND.MAX as it was then) has been SACKed.
   * This is RACK's rule (RFC 8985 §6.2: a segment is lost once one sent after it is delivered),
   * with the DupThresh allowance for reordering in place of a time window.
   */
  #retransmissionsLost(): boolean {
    return this.#rtxMark !== undefined &&
      this.#sack.sackedAbove(this.#rtxMark) >= DUP_THRESH * this.sendMss;
  }

  /**
   * After a timeout no new recovery may start before the recovery point is acknowledged
   * (RFC 6675 §5.1), so a resent hole that is lost again would cost another timeout. When the
   * resend pass has reached new data and {@link #retransmissionsLost} holds, the holes left
   * below the highest SACK are resent again.
   */
  #maybeRestartResend(): void {
    if (!this.sackEnabled || this.inRecovery || !seqLe(this.sndUna, this.#recover)) return;
    if (this.#passDoneAt === undefined) return;
    const srtt = this.rto.srttMs ?? this.config.initialRtoMs;
    const late = this.#now - this.#passDoneAt > srtt * 1.25 + 2;
    if (!late && !this.#retransmissionsLost()) return;
    if (!this.#sack.nextHole(this.sndUna, this.sndUna, DUP_THRESH, this.sendMss, false)) return;
    this.#rtxMark = undefined;
    this.#passDoneAt = undefined;
    this.sndNxt = this.sndUna;
  }

  /**
   * The duplicate-ACK threshold: DupThresh (RFC 5681 §3.2), lowered by early retransmit
   * (RFC 5827 §3.1) to one less than the outstanding segments when fewer than four are out and
   * no new data can be sent to produce more duplicate ACKs.
   */
  #dupThreshold(): number {
    const segments = Math.ceil(seqSub(this.sndMax, this.sndUna) / this.sendMss);
    if (segments > DUP_THRESH) return DUP_THRESH;
    const windowRoom = seqDiff(seqAdd(this.sndUna, this.sndWnd), this.sndNxt);
    if (this.#unsentBytes() > 0 && windowRoom > 0) return DUP_THRESH;
    return Math.max(1, segments - 1);
  }

  /**
   * Whether a new recovery may start: SND.UNA is past `recover` (RFC 6582 §3.2 step 2: more than
   * it, since without SACK duplicate ACKs of retransmitted data look like new losses) or, with
   * SACK, has reached it (RFC 6675 §5.1: HighACK >= RecoveryPoint).
   */
  #pastRecoveryPoint(): boolean {
    return this.sackEnabled ? seqGe(this.sndUna, this.#recover) : seqGt(this.sndUna, this.#recover);
  }

  #enterRecovery(): void {
    // RFC 6582 §3.2 step 2 / RFC 5681 §3.2 steps 2-3 / RFC 6675 §5 step 4.
    const flight = seqSub(this.sndMax, this.sndUna);
    this.#counters.fastRetransmits++;
    this.#recover = this.sndMax;
    this.cc.onLoss(this.#now, flight);
    this.inRecovery = true;
    this.#rttSeq = undefined;
    if (this.sackEnabled) {
      this.cc.cwnd = this.cc.ssthresh;
      this.#highRxt = this.sndUna;
      this.#roundDelivered = this.#delivered;
      this.#roundFlight = flight;
    } else {
      this.cc.cwnd = this.cc.ssthresh + DUP_THRESH * this.sendMss;
    }
    this.#retransmitFirst();
    this.#rtoAt = this.#now + this.rto.rtoMs;
  }

  #retransmitFirst(): void {
    const dataEnd = seqAdd(this.#sndBufSeq, this.#send.length);
    // Only what was sent before: never new data (that would bypass the windows).
    const sentDataEnd = seqMin(dataEnd, this.sndMax);
    const len = Math.min(this.sendMss, Math.max(0, seqDiff(sentDataEnd, this.sndUna)));
    if (len > 0) {
      this.#sendData(this.sndUna, len);
    } else if (this.#finQueued && this.sndUna === dataEnd) {
      this.#counters.retransmissions++;
      this.#emit(TcpFlags.ACK | TcpFlags.FIN, this.sndUna, EMPTY);
    }
    if (seqLt(this.#highRxt, seqAdd(this.sndUna, len))) this.#highRxt = seqAdd(this.sndUna, len);
  }

  /** Sequence text and FIN (RFC 9293 §3.10.7.4 seventh and eighth). */
  #receiveText(segSeq: number, payload: Uint8Array, fin: boolean): void {
    let seq = segSeq;
    let data = payload;
    // Trim what we already have.
    if (seqLt(seq, this.rcvNxt)) {
      const skip = Math.min(seqSub(this.rcvNxt, seq), data.length);
      if (skip > 0) this.#noteDuplicate(seq, seqAdd(seq, skip));
      data = data.subarray(skip);
      seq = seqAdd(seq, skip);
    }
    // Trim beyond the window we advertised (a FIN there is dropped too).
    const room = seqDiff(this.#rcvAdvEdge, seq);
    if (data.length > room) {
      data = data.subarray(0, Math.max(0, room));
      fin = false;
      // Tell the sender at once where the window ends.
      this.#ackNow = this.#ackPending = true;
    }
    if (data.length > 0) {
      if (seq === this.rcvNxt) {
        this.#recv.pushReady(data);
        const after = seqAdd(this.rcvNxt, data.length);
        const hadHoles = this.#recv.heldBytes > 0;
        this.rcvNxt = this.#recv.advance(after);
        this.#ackPending = true;
        // A super-segment coalesced by the link (GRO/TSO from the kernel) counts as the full
        // segments it carries, so it is acknowledged at once like the segments would have been.
        this.#unackedSegments += Math.max(1, Math.round(data.length / this.config.mss));
        // RFC 5681 §4.2: ACK at once when filling a hole, and at least every second full segment.
        if (hadHoles || this.config.delayedAckMs === 0) {
          this.#ackNow = true;
        } else if (this.#unackedSegments >= 2) {
          this.#ackByCount = true;
        } else {
          this.#delackAt ??= this.#now + this.config.delayedAckMs;
        }
      } else {
        if (!this.#recv.hold(seq, data)) this.#counters.outOfOrderDrops++;
        // RFC 5681 §4.2: an out-of-order segment gets an immediate (duplicate) ACK.
        this.#ackNow = this.#ackPending = true;
      }
    }
    if (fin) this.#peerFinSeq = seqAdd(seq, data.length);
    if (this.#peerFinSeq !== undefined && this.rcvNxt === this.#peerFinSeq && !this.#eof) {
      // Eighth: FIN. RCV.NXT covers it; ACK at once.
      this.rcvNxt = seqAdd(this.rcvNxt, 1);
      this.#eof = true;
      this.#ackNow = this.#ackPending = true;
      switch (this.state) {
        case TcpState.SynReceived:
        case TcpState.Established:
          this.state = TcpState.CloseWait;
          this.#keepAliveAt = undefined;
          break;
        case TcpState.FinWait1:
          if (this.#finAcked()) this.#enterTimeWait();
          else this.state = TcpState.Closing;
          break;
        case TcpState.FinWait2:
          this.#enterTimeWait();
          break;
      }
    }
  }

  // ---------------------------------------------------------------- sending

  #canTransmitState(): boolean {
    switch (this.state) {
      case TcpState.Established:
      case TcpState.CloseWait:
      case TcpState.FinWait1:
      case TcpState.Closing:
      case TcpState.LastAck:
        return true;
      default:
        return false;
    }
  }

  #unsentBytes(): number {
    const dataEnd = seqAdd(this.#sndBufSeq, this.#send.length);
    return seqGt(dataEnd, this.sndNxt) ? seqSub(dataEnd, this.sndNxt) : 0;
  }

  /**
   * Sends what the windows, Nagle and SWS avoidance allow (RFC 9293 §3.7.4, §3.8.6.2.1;
   * RFC 1122 §4.2.3.4); in SACK recovery, holes first (RFC 6675 §5). `force` sends one segment
   * regardless (the RTO retransmission).
   */
  #output(force = false): void {
    this.#corked = false;
    if (!this.#canTransmitState()) return;
    if (this.inRecovery && this.sackEnabled) this.#sackRecoverySend();
    for (;;) {
      const dataEnd = seqAdd(this.#sndBufSeq, this.#send.length);
      const unsent = this.#unsentBytes();
      if (this.sackEnabled && !this.inRecovery && seqLt(this.sndNxt, this.sndMax)) {
        // Resending after a timeout: skip what the peer SACKed (RFC 6675 §5.1).
        const next = this.#sack.skipSacked(this.sndNxt);
        if (next !== this.sndNxt) {
          this.sndNxt = next;
          continue;
        }
      }
      const inFlight = this.inRecovery && this.sackEnabled
        ? this.#pipe()
        : seqSub(this.sndNxt, this.sndUna) - this.#sack.sackedBetween(this.sndUna, this.sndNxt);
      // RFC 3042 limited transmit: each of the first two duplicate ACKs lets one more new
      // segment out beyond cwnd (a segment has left the network), so small windows still
      // produce the third duplicate ACK.
      const limited = this.inRecovery ? 0 : Math.min(this.#dupAcks, 2) * this.sendMss;
      const usable = Math.min(this.sndWnd, this.cc.cwnd + limited) - inFlight;
      if (unsent > 0) {
        const retransmission = seqLt(this.sndNxt, this.sndMax);
        if (
          !retransmission && this.#passDoneAt === undefined && seqLe(this.sndUna, this.#recover) &&
          seqLt(this.sndUna, this.sndMax)
        ) {
          this.#passDoneAt = this.#now; // the resend pass after a timeout reached new data
        }
        // New data may leave in TSO super-segments (whole MSS multiples the link cuts up);
        // retransmissions stay one MSS, so loss recovery works segment by segment.
        let len = Math.min(unsent, retransmission ? this.sendMss : this.#burstBytes());
        if (retransmission && this.sackEnabled) {
          const sackedAt = this.#sack.nextSackedStart(this.sndNxt);
          if (sackedAt !== undefined) len = Math.min(len, seqSub(sackedAt, this.sndNxt));
        }
        if (force) {
          // The RTO resend goes out whatever the windows say, but no larger than the peer's
          // window (at least one byte, which then works as a window probe).
          len = Math.min(len, Math.max(1, this.sndWnd));
        } else {
          // The peer's window limits new data; cwnd limits everything.
          const windowRoom = seqDiff(seqAdd(this.sndUna, this.sndWnd), this.sndNxt);
          len = Math.min(len, usable, windowRoom);
          if (len <= 0) break;
          if (!retransmission && !this.#sendAllowed(len, unsent)) break;
        }
        this.#sendData(this.sndNxt, len);
        force = false;
        continue;
      }
      if (this.#finQueued && this.sndNxt === dataEnd) {
        if (seqLt(dataEnd, this.sndMax)) this.#counters.retransmissions++;
        this.#emit(TcpFlags.ACK | TcpFlags.FIN, dataEnd, EMPTY);
        this.sndNxt = seqAdd(dataEnd, 1);
        this.sndMax = seqMax(this.sndMax, this.sndNxt);
        this.#rtoAt ??= this.#now + this.rto.rtoMs;
      }
      break;
    }
    // RFC 9293 §3.8.6.1: data waiting, nothing in flight, window closed: start probing.
    if (
      this.#unsentBytes() > 0 && this.sndUna === this.sndMax && this.#rtoAt === undefined &&
      this.#persistAt === undefined
    ) {
      this.#persistAt = this.#now + this.rto.rtoMs;
    }
  }

  /** The most new data one segment may carry: one MSS, or a TSO super-segment. */
  #burstBytes(): number {
    const tso = this.config.tsoBytes;
    if (tso <= this.sendMss) return this.sendMss;
    return Math.floor(tso / this.sendMss) * this.sendMss;
  }

  /** Nagle (RFC 1122 §4.2.3.4) and sender SWS avoidance (RFC 9293 §3.8.6.2.1). */
  #sendAllowed(len: number, unsent: number): boolean {
    if (len >= this.sendMss) return true;
    const idle = this.sndUna === this.sndMax;
    const mayPartial = this.config.noDelay || idle || this.#finQueued;
    if (len === unsent) return mayPartial;
    return mayPartial && len >= this.maxSndWnd / 2;
  }

  /** Emits `len` bytes from the send buffer starting at `seq`, with FIN if they end the stream. */
  #sendData(seq: number, len: number): void {
    const dataEnd = seqAdd(this.#sndBufSeq, this.#send.length);
    const payload = this.#send.peek(seqSub(seq, this.#sndBufSeq), len);
    const end = seqAdd(seq, len);
    const fin = this.#finQueued && end === dataEnd;
    const flags = TcpFlags.ACK | (end === dataEnd ? TcpFlags.PSH : 0) | (fin ? TcpFlags.FIN : 0);
    this.#emit(flags, seq, payload);
    const retransmission = seqLt(seq, this.sndMax);
    if (retransmission) {
      this.#counters.retransmissions++;
      this.#rtxMark = this.sndMax;
      // Karn: a retransmission overlapping the timed segment spoils the sample.
      if (this.#rttSeq !== undefined && seqLt(seq, this.#rttSeq)) this.#rttSeq = undefined;
    } else {
      this.#ptoAt = undefined; // RFC 8985 §7.2: re-arm on new data
      if (this.#rttSeq === undefined && !this.tsEnabled) {
        this.#rttSeq = end;
        this.#rttSentAt = this.#now;
      }
    }
    const next = fin ? seqAdd(end, 1) : end;
    if (seq === this.sndNxt) this.sndNxt = next;
    this.sndMax = seqMax(this.sndMax, next);
    this.#rtoAt ??= this.#now + this.rto.rtoMs;
  }

  /** RFC 6675 §4 SetPipe, simplified: bytes in flight not SACKed, plus retransmissions. */
  #pipe(): number {
    const outstanding = seqSub(this.sndMax, this.sndUna);
    const sacked = this.#sack.sackedBytes();
    const lost = this.#sack.lostBytes(this.sndUna, DUP_THRESH, this.sendMss);
    const rexmitLost = Math.min(lost, Math.max(0, seqDiff(this.#highRxt, this.sndUna)));
    return Math.max(0, outstanding - sacked - lost + rexmitLost);
  }

  /**
   * RFC 6675 §5 step (C): while the pipe allows, retransmit lost holes (NextSeg rule 1); when
   * no new data can go out either, holes not yet deemed lost (rule 3).
   */
  #sackRecoverySend(): void {
    for (;;) {
      if (this.cc.cwnd - this.#pipe() < this.sendMss) return;
      let from = seqMax(this.#highRxt, this.sndUna);
      let hole = this.#sack.nextHole(from, this.sndUna, DUP_THRESH, this.sendMss);
      if (
        !hole && seqGt(from, this.sndUna) &&
        (this.#retransmissionsLost() ||
          this.#delivered - this.#roundDelivered > this.#roundFlight)
      ) {
        // Data sent after our latest retransmission arrived, or more than a whole flight was
        // delivered since this round began, yet holes remain below the highest SACK: those
        // retransmissions were lost too. Start another round from SND.UNA instead of waiting
        // for the retransmission timer.
        this.#rtxMark = undefined;
        this.#highRxt = this.sndUna;
        this.#roundDelivered = this.#delivered;
        this.#roundFlight = seqSub(this.sndMax, this.sndUna) - this.#sack.sackedBytes();
        from = this.sndUna;
        hole = this.#sack.nextHole(from, this.sndUna, DUP_THRESH, this.sendMss);
      }
      if (!hole) {
        const windowRoom = seqDiff(seqAdd(this.sndUna, this.sndWnd), this.sndNxt);
        if (this.#unsentBytes() > 0 && windowRoom > 0) return; // rule 2: new data goes next
        hole = this.#sack.nextHole(from, this.sndUna, DUP_THRESH, this.sendMss, false);
      }
      if (!hole) return;
      const dataEnd = seqAdd(this.#sndBufSeq, this.#send.length);
      const len = Math.min(this.sendMss, seqSub(hole.end, hole.start), seqSub(dataEnd, hole.start));
      if (len <= 0) return;
      this.#sendData(hole.start, len);
      this.#highRxt = seqAdd(hole.start, len);
    }
  }

  #flushAck(): void {
    if (this.#ackPending && this.#ackNow) this.#emitAck();
    else if (this.#ackPending) this.#delackAt ??= this.#now + this.config.delayedAckMs;
    this.#ackNow = false;
  }

  /**
   * Data we already had arrived again: report it in the next ACK as a D-SACK block (RFC 2883),
   * so the sender can tell a spurious retransmission (a tail loss probe sent while our ACK was
   * on its way, say) from a loss, and need not cut its window for it. The latest duplicate wins.
   */
  #noteDuplicate(start: number, end: number): void {
    if (!this.sackEnabled) return;
    this.#dsack = { start, end };
    this.#ackNow = this.#ackPending = true;
  }

  #emitAck(): void {
    this.#emit(TcpFlags.ACK, this.#ackSeq(), EMPTY);
  }

  /**
   * The sequence number of a segment without data. SND.NXT per RFC 9293, but after an RTO
   * rewinds SND.NXT the peer may already hold bytes beyond it, and a number below its RCV.NXT
   * would be unacceptable there (the ACK field ignored). So SND.MAX (Linux's snd_nxt), capped
   * at the right edge of the peer's window as Linux's tcp_acceptable_seq does.
   */
  #ackSeq(): number {
    const edge = seqAdd(this.sndUna, this.sndWnd);
    return this.sndWnd > 0 && seqGt(this.sndMax, edge) ? edge : this.sndMax;
  }

  /** Queues a segment with the current ACK, window and per-segment options. */
  #emit(flags: number, seq: number, payload: Uint8Array): void {
    const options: TcpOptions = {};
    if (this.tsEnabled) options.timestamps = { value: this.#tsNow(), echo: this.#tsRecent };
    const maxBlocks = this.tsEnabled ? 3 : 4;
    if (this.sackEnabled && flags & TcpFlags.ACK && this.#dsack) {
      // RFC 2883 §4: the duplicate first, then the usual blocks.
      options.sackBlocks = [this.#dsack];
      if (this.#recv.heldBytes > 0) {
        options.sackBlocks.push(...this.#recv.sackBlocks(maxBlocks - 1));
      }
      this.#dsack = undefined;
    } else if (this.sackEnabled && this.#recv.heldBytes > 0) {
      options.sackBlocks = this.#recv.sackBlocks(maxBlocks);
    }
    const seg: OutSegment = {
      seq,
      ack: flags & TcpFlags.ACK ? this.rcvNxt : 0,
      flags,
      window: flags & TcpFlags.ACK ? this.#advertise() : 0,
      payload,
    };
    if (options.timestamps || options.sackBlocks) seg.options = options;
    this.#out.push(seg);
    if (flags & TcpFlags.ACK) {
      this.#lastAckSent = this.rcvNxt;
      this.#ackPending = false;
      this.#ackNow = false;
      this.#ackByCount = false;
      this.#unackedSegments = 0;
      this.#delackAt = undefined;
    }
  }

  /** Free receive space, the basis of the window. */
  #windowRoom(): number {
    return Math.max(0, this.config.recvBufferBytes - this.#recv.readyBytes);
  }

  /**
   * The window field to send. Receiver SWS avoidance (RFC 9293 §3.8.6.2.2): the right edge moves
   * only by at least min(half the buffer, one MSS); it never moves left (RFC 7323 §2.4).
   */
  #advertise(): number {
    const room = this.#windowRoom();
    const current = Math.max(0, seqDiff(this.#rcvAdvEdge, this.rcvNxt));
    const step = Math.min(this.config.recvBufferBytes / 2, this.config.mss);
    const wnd = room - current >= step ? room : current;
    const scale = 2 ** this.rcvShift;
    const field = Math.min(0xffff, Math.floor(wnd / scale));
    const edge = seqAdd(this.rcvNxt, field * scale);
    if (seqGt(edge, this.#rcvAdvEdge)) this.#rcvAdvEdge = edge;
    return field;
  }

  // ---------------------------------------------------------------- helpers

  #setSendMss(): void {
    this.sendMss = effectiveSendMss(this.#peerMss, this.config.mss, this.tsEnabled ? 12 : 0);
    // RFC 5681 counts windows in SMSS, the largest segment we actually send.
    this.cc = this.#newCongestionControl(this.sendMss);
  }

  #newCongestionControl(mss: number): CongestionControl {
    return this.config.congestion === "newreno" ? new NewReno(mss) : new Cubic(mss);
  }

  #established(): void {
    this.state = TcpState.Established;
    this.#retries = 0;
    this.rto.resetBackoff();
    // RFC 6298 §5.7: after a SYN timeout without an RTT sample, data starts with RTO = 3 s.
    if (this.#synRetransmitted) this.rto.afterSynTimeout();
    this.#rtoAt = this.sndUna === this.sndMax ? undefined : this.#rtoAt;
    if (this.config.keepAlive) this.#keepAliveAt = this.#now + this.config.keepAliveIdleMs;
  }

  #finAcked(): boolean {
    return this.#finQueued &&
      seqGt(this.sndUna, seqAdd(this.#sndBufSeq, this.#send.length));
  }

  #enterTimeWait(): void {
    this.state = TcpState.TimeWait;
    this.#rtoAt = undefined;
    this.#ptoAt = undefined;
    this.#persistAt = undefined;
    this.#finWait2At = undefined;
    this.#keepAliveAt = undefined;
    this.#timeWaitAt = this.#now + this.config.timeWaitMs;
  }

  #fail(error: TcpError): void {
    this.error = error;
    this.#toClosed();
  }

  #toClosed(): void {
    this.state = TcpState.Closed;
    this.#rtoAt = undefined;
    this.#ptoAt = undefined;
    this.#delackAt = undefined;
    this.#persistAt = undefined;
    this.#timeWaitAt = undefined;
    this.#finWait2At = undefined;
    this.#keepAliveAt = undefined;
    this.#ackPending = false;
  }

  #tsNow(): number {
    return timestampValue(this.#now, this.#tsOffset);
  }

  #enter(nowMs: number): void {
    if (nowMs > this.#now) this.#now = nowMs;
  }
}

interface MutableSegment {
  seq: number;
  ack: number;
  flags: number;
  window: number;
  options: TcpOptions;
  payload: Uint8Array;
}

/** The earlier of two optional deadlines. */
function earlier(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || (b !== undefined && b < a) ? b : a;
}
