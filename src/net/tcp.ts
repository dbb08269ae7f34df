// One TCP connection, the client's side (RFC 793 / 9293 states, RFC 6298 retransmission timer,
// RFC 5681 fast retransmit). This is what makes a failover invisible to a client (paper 2.2,
// 3.4): packets the old primary's Output Rule never released are retransmitted after a timeout,
// packets the new primary sends again are discarded as duplicates, out-of-order segments are
// held until the gap is filled. Pure: time is passed in (`now`, ms), segments go out through
// `out`, nothing is scheduled — the owner calls tick(now).

import { ACK, FIN, PSH, RST, SYN, seqAdd, seqDiff, seqLe, seqLt, type Segment } from "./tcp-segment.ts";
import { RtoEstimator } from "./tcp-rto.ts";
import { ReceiveBuffer } from "./tcp-receive.ts";
import { emptyTcpStats, TCP_DEFAULTS, type CloseReason, type TcpEvents, type TcpOptions, type TcpState, type TcpStats } from "./tcp-types.ts";

export type { CloseReason, TcpEvents, TcpOptions, TcpState, TcpStats };
export { TCP_DEFAULTS };

const DUP_ACK_THRESHOLD = 3;

export class TcpConnection {
  state: TcpState = "closed";
  closeReason: CloseReason | null = null;
  readonly stats: TcpStats = emptyTcpStats();
  private readonly o: TcpOptions;
  // send side
  private sndUna: number;
  private sndNxt: number;
  private sndMax: number;
  private sndWnd = 0;
  private cwnd: number;
  private peerMss = 536;
  /** Unacknowledged and unsent data, starting at sndUna. */
  private buf = new Uint8Array(0);
  private closeRequested = false;
  private finSeq: number | null = null;
  private finAcked = false;
  // timers
  private readonly timer: RtoEstimator;
  private rtoDeadline: number | null = null;
  private retries = 0;
  private rttSample: { seq: number; sentAt: number } | null = null;
  private dupAcks = 0;
  private timeWaitUntil: number | null = null;
  private synSentAt: number | null = null;
  // receive side
  private irs = 0;
  private readonly rcv: ReceiveBuffer;

  constructor(
    private readonly iss: number,
    private readonly out: (s: Omit<Segment, "srcPort" | "dstPort">) => void,
    opts: Partial<TcpOptions> = {},
    private readonly ev: TcpEvents = {},
  ) {
    this.o = { ...TCP_DEFAULTS, ...opts };
    this.sndUna = this.sndNxt = this.sndMax = iss >>> 0;
    this.timer = new RtoEstimator(this.o.rtoInitialMs, this.o.rtoMinMs, this.o.rtoMaxMs);
    this.cwnd = 10 * this.o.mss;
    this.rcv = new ReceiveBuffer(this.o.recvBuffer, this.stats, (b) => this.ev.data?.(b));
  }

  /** Active open: sends the SYN. */
  connect(now: number): void {
    if (this.state !== "closed" || this.closeReason) throw new Error("connect: connection already used");
    this.state = "syn-sent";
    this.sndNxt = this.sndMax = seqAdd(this.iss, 1);
    this.emit(SYN, this.iss, new Uint8Array(0), now, this.o.mss);
    this.arm(now);
  }

  write(bytes: Uint8Array, now: number): void {
    if (this.closeRequested || this.closeReason) throw new Error(`write: connection is ${this.closeReason ?? "closing"}`);
    const b = new Uint8Array(this.buf.length + bytes.length);
    b.set(this.buf);
    b.set(bytes, this.buf.length);
    this.buf = b;
    this.trySend(now);
  }

  /** Our side is done: FIN once every byte written has been sent. */
  close(now: number): void {
    this.closeRequested = true;
    this.trySend(now);
  }

  /** RST and forget. */
  abort(now: number): void {
    if (this.state !== "closed") this.emit(RST | ACK, this.sndNxt, new Uint8Array(0), now);
    this.finish("aborted");
  }

  /** Stop taking data from the window (the advertised window shrinks); resume() hands it over. */
  pause(): void {
    this.rcv.pause();
  }

  resume(now: number): void {
    this.rcv.resume();
    this.sendAck(now); // window update
  }

  /** The window this side advertises now. */
  get window(): number {
    return this.rcv.window;
  }

  /** The next byte this side expects (what its ACKs say it has). */
  get rcvNxt(): number {
    return this.rcv.rcvNxt;
  }

  /** Bytes sent and not yet acknowledged. */
  get inFlight(): number {
    return Math.max(0, seqDiff(this.sndNxt, this.sndUna));
  }

  /** The peer's advertised window, as last seen. */
  get peerWindow(): number {
    return this.sndWnd;
  }

  get currentRtoMs(): number {
    return this.timer.rto;
  }

  /** When the next timer is due (ms), for an owner that sleeps until then; null: none. */
  get nextTimer(): number | null {
    return this.rtoDeadline ?? this.timeWaitUntil;
  }

  tick(now: number): void {
    if (this.timeWaitUntil !== null && now >= this.timeWaitUntil) return this.finish("fin");
    if (this.rtoDeadline === null || now < this.rtoDeadline) return;
    if (this.retries >= this.o.maxRetransmits) {
      this.emit(RST | ACK, this.sndNxt, new Uint8Array(0), now);
      return this.finish("timeout");
    }
    this.retries++;
    this.timer.backoff();
    this.rttSample = null; // Karn: never time a retransmitted segment
    this.rtoDeadline = null;
    if (this.state === "syn-sent") {
      this.stats.timeouts++;
      this.emit(SYN, this.iss, new Uint8Array(0), now, this.o.mss);
      return this.arm(now);
    }
    const unsent = this.buf.length - Math.max(0, seqDiff(this.sndNxt, this.sndUna));
    if (this.sndWnd === 0 && this.inFlight === 0 && unsent > 0) {
      // Persist timer: probe a zero window with one byte (the peer acks it or not).
      this.sendFrom(this.sndNxt, 1, now);
      this.sndNxt = seqAdd(this.sndNxt, 1);
      this.sndMax = seqLt(this.sndMax, this.sndNxt) ? this.sndNxt : this.sndMax;
      return this.arm(now);
    }
    // Timeout: go back to the oldest unacknowledged byte, one segment at a time (RFC 5681).
    this.stats.timeouts++;
    this.cwnd = this.o.mss;
    this.sndNxt = this.sndUna;
    this.trySend(now, true);
  }

  onSegment(s: Segment, now: number): void {
    this.stats.segmentsIn++;
    if (this.state === "closed") return;
    if (this.state === "syn-sent") return this.onSynSentSegment(s, now);
    if (s.flags & RST) {
      // Only a reset inside the window is believed (RFC 5961 spirit): a stale one is ignored.
      if (seqLe(this.rcv.rcvNxt, s.seq) && seqLt(s.seq, seqAdd(this.rcv.rcvNxt, Math.max(1, this.window)))) this.finish("reset");
      return;
    }
    if (s.flags & SYN) {
      // Our ACK of the SYN-ACK was lost and the peer sent it again: acknowledge again.
      if (s.seq === this.irs) this.rcv.afterFin(); // counted as a resend and a duplicate, as any
      return this.sendAck(now);
    }
    if (s.flags & ACK && !this.onAck(s, now)) return;
    this.onData(s, now);
    this.trySend(now);
  }

  private onSynSentSegment(s: Segment, now: number): void {
    const ackOk = (s.flags & ACK) !== 0 && s.ack === seqAdd(this.iss, 1);
    if (s.flags & RST) {
      if (ackOk) this.finish("reset");
      return;
    }
    if (!(s.flags & SYN) || !ackOk) return;
    this.irs = s.seq;
    this.rcv.start(s.seq);
    this.sndUna = s.ack;
    this.sndWnd = s.window;
    this.peerMss = Math.min(this.o.mss, s.mss ?? 536);
    if (this.retries === 0) this.sampleRtt(now - (this.synSentAt ?? now));
    this.retries = 0;
    this.rtoDeadline = null;
    this.state = "established";
    this.sendAck(now);
    this.ev.connected?.();
    this.trySend(now);
  }

  /** Returns false if the segment must be dropped (it acknowledges data never sent). */
  private onAck(s: Segment, now: number): boolean {
    const ack = s.ack;
    if (seqLt(this.sndMax, ack)) {
      this.sendAck(now);
      return false;
    }
    if (seqLt(this.sndUna, ack)) {
      const acked = seqDiff(ack, this.sndUna);
      this.buf = this.buf.subarray(Math.min(acked, this.buf.length));
      this.sndUna = ack;
      if (seqLt(this.sndNxt, ack)) this.sndNxt = ack;
      if (this.finSeq !== null && ack === seqAdd(this.finSeq, 1)) this.finAcked = true;
      if (this.rttSample && seqLt(this.rttSample.seq, ack)) {
        this.sampleRtt(now - this.rttSample.sentAt);
        this.rttSample = null;
      }
      this.sndWnd = s.window;
      this.dupAcks = 0;
      this.retries = 0;
      this.cwnd = Math.min(this.cwnd + this.peerMss, 1 << 20);
      this.rtoDeadline = null;
      if (this.inFlight > 0) this.arm(now);
      this.afterFinAcked(now);
    } else if (ack === this.sndUna) {
      const pure = s.payload.length === 0 && !(s.flags & (SYN | FIN));
      if (pure && s.window === this.sndWnd && this.inFlight > 0) {
        this.stats.dupAcks++;
        if (++this.dupAcks === DUP_ACK_THRESHOLD) {
          this.stats.fastRetransmits++;
          this.rttSample = null;
          this.retransmitOne(now);
        }
      } else this.sndWnd = s.window;
    }
    return true;
  }

  private afterFinAcked(now: number): void {
    if (!this.finAcked) return;
    if (this.state === "fin-wait-1") this.state = "fin-wait-2";
    else if (this.state === "closing") this.enterTimeWait(now);
    else if (this.state === "last-ack") this.finish("fin");
  }

  private onData(s: Segment, now: number): void {
    const fin = (s.flags & FIN) !== 0;
    if (s.payload.length === 0 && !fin) return;
    if (!(this.state === "established" || this.state === "fin-wait-1" || this.state === "fin-wait-2")) {
      // The peer's FIN is already in: anything more is a resend; re-acknowledge it.
      this.rcv.afterFin();
      return this.sendAck(now);
    }
    if (this.rcv.segment(s.seq, s.payload, fin) === "fin") this.receiveFin(now);
    this.sendAck(now);
  }

  private receiveFin(now: number): void {
    if (this.state === "established") this.state = "close-wait";
    else if (this.state === "fin-wait-1") {
      if (this.finAcked) this.enterTimeWait(now);
      else this.state = "closing";
    } else if (this.state === "fin-wait-2") this.enterTimeWait(now);
    this.ev.end?.();
  }

  private enterTimeWait(now: number): void {
    this.state = "time-wait";
    this.rtoDeadline = null;
    this.timeWaitUntil = now + this.o.timeWaitMs;
  }

  /** Sends what the windows allow: data from sndNxt, then the FIN once everything is out. */
  private trySend(now: number, oneSegment = false): void {
    if (this.state !== "established" && this.state !== "close-wait" && this.state !== "fin-wait-1" && this.state !== "closing" && this.state !== "last-ack") return;
    for (;;) {
      const offset = seqDiff(this.sndNxt, this.sndUna);
      const room = Math.min(this.sndWnd, this.cwnd) - offset;
      const unsent = this.buf.length - offset;
      if (unsent > 0 && room > 0) {
        const n = Math.min(unsent, room, this.peerMss);
        this.sendFrom(this.sndNxt, n, now);
        this.sndNxt = seqAdd(this.sndNxt, n);
        if (seqLt(this.sndMax, this.sndNxt)) this.sndMax = this.sndNxt;
        if (oneSegment) break;
        continue;
      }
      if (unsent <= 0 && this.closeRequested && !this.finAcked && (this.finSeq === null || this.sndNxt === this.finSeq)) {
        this.finSeq = this.sndNxt;
        this.emit(FIN | ACK, this.sndNxt, new Uint8Array(0), now);
        this.sndNxt = seqAdd(this.sndNxt, 1);
        if (seqLt(this.sndMax, this.sndNxt)) this.sndMax = this.sndNxt;
        if (this.state === "established") this.state = "fin-wait-1";
        else if (this.state === "close-wait") this.state = "last-ack";
      }
      break;
    }
    if (this.inFlight > 0 && this.rtoDeadline === null) this.arm(now);
    // A zero window with data waiting: the persist timer probes it.
    if (this.inFlight === 0 && this.sndWnd === 0 && this.buf.length > 0 && this.rtoDeadline === null) this.arm(now);
  }

  private retransmitOne(now: number): void {
    const n = Math.min(this.buf.length, this.peerMss);
    if (n > 0) this.sendFrom(this.sndUna, n, now);
    else if (this.finSeq !== null && !this.finAcked) this.emit(FIN | ACK, this.finSeq, new Uint8Array(0), now);
  }

  private sendFrom(seq: number, n: number, now: number): void {
    const off = seqDiff(seq, this.sndUna);
    const payload = this.buf.subarray(off, off + n);
    if (!this.rttSample && seq === this.sndMax) this.rttSample = { seq, sentAt: now };
    this.stats.bytesOut += payload.length;
    this.emit(ACK | PSH, seq, payload, now);
  }

  private sendAck(now: number): void {
    this.emit(ACK, this.sndNxt, new Uint8Array(0), now);
    if (this.state === "time-wait") this.timeWaitUntil = now + this.o.timeWaitMs;
  }

  private emit(flags: number, seq: number, payload: Uint8Array, now: number, mss?: number): void {
    if (flags & SYN) this.synSentAt = now;
    const ack = flags & ACK ? this.rcv.rcvNxt : 0;
    this.stats.segmentsOut++;
    this.out({ seq, ack, flags, window: this.window, payload, ...(mss !== undefined ? { mss } : {}) });
  }

  private arm(now: number): void {
    this.rtoDeadline = now + this.timer.rto;
  }

  private sampleRtt(r: number): void {
    this.timer.sample(r);
    this.stats.srttMs = this.timer.srtt;
  }

  private finish(reason: CloseReason): void {
    if (this.closeReason) return;
    this.state = "closed";
    this.closeReason = reason;
    this.rtoDeadline = null;
    this.timeWaitUntil = null;
    this.ev.closed?.(reason);
  }
}
