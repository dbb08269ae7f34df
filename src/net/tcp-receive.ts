// The receive side of the client's TCP connection (tcp.ts): in-order delivery, segments held
// ahead of a gap, duplicates discarded, the advertised window, and the counters that make a
// failover visible from the client (paper 2.2, 3.4): what the peer sent again (a new primary
// retransmitting what the old one's Output Rule never released, or what it did release) and,
// of that, what this side already had and threw away.

import { seqAdd, seqDiff, seqLe, seqLt } from "./tcp-segment.ts";
import type { TcpStats } from "./tcp-types.ts";

export type Arrival = "duplicate" | "held" | "accepted" | "fin";

export class ReceiveBuffer {
  /** The next byte expected (everything below it was delivered or is held while paused). */
  rcvNxt = 0;
  /** One past the highest sequence number any segment carried: below it, a segment is a resend. */
  private high = 0;
  private readonly ooo = new Map<number, Uint8Array>();
  private oooFin: number | null = null;
  private paused = false;
  private inbox: Uint8Array[] = [];

  constructor(
    private readonly recvBuffer: number,
    private readonly stats: TcpStats,
    private readonly deliver: (bytes: Uint8Array) => void,
  ) {}

  /** The peer's SYN: sequence numbers start after it. */
  start(irs: number): void {
    this.rcvNxt = this.high = seqAdd(irs, 1);
  }

  /** The window this side advertises now. */
  get window(): number {
    let used = 0;
    for (const b of this.inbox) used += b.length;
    for (const b of this.ooo.values()) used += b.length;
    return Math.max(0, Math.min(0xffff, this.recvBuffer - used));
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    const held = this.inbox;
    this.inbox = [];
    for (const b of held) this.deliver(b);
  }

  /**
   * A data segment (payload and/or FIN) in a state that takes data. "fin": the FIN is now in
   * order (the caller moves the state); the caller acknowledges whatever the answer.
   */
  segment(seq: number, payload: Uint8Array, fin: boolean): Arrival {
    const len = payload.length + (fin ? 1 : 0);
    const end = seqAdd(seq, len);
    // Sent again: it starts below what the peer already sent (the switch never reorders).
    if (seqLt(seq, this.high)) this.stats.retransmitsIn++;
    if (seqLt(this.high, end)) this.high = end;
    if (seqLe(end, this.rcvNxt)) {
      this.stats.duplicates++;
      return "duplicate";
    }
    if (seqLt(this.rcvNxt, seq)) {
      // Ahead of a gap: hold it (inside the window); the caller sends a duplicate ACK for the gap.
      if (seqDiff(seq, this.rcvNxt) + payload.length <= this.window) {
        const had = this.ooo.get(seq);
        if (!had || had.length < payload.length) this.ooo.set(seq, payload.slice());
        if (fin) this.oooFin = seqAdd(seq, payload.length);
        this.stats.outOfOrder++;
      }
      return "held";
    }
    const acceptedAll = this.accept(payload.subarray(seqDiff(this.rcvNxt, seq)));
    if (acceptedAll && fin) return this.takeFin();
    return this.drain() ? this.takeFin() : "accepted";
  }

  /** A segment that arrived after the peer's FIN: counted as the duplicate it is. */
  afterFin(): void {
    this.stats.retransmitsIn++;
    this.stats.duplicates++;
  }

  /** In-order bytes: deliver (or hold while paused) what fits the buffer; false if some did not. */
  private accept(bytes: Uint8Array): boolean {
    const room = this.paused ? this.window : bytes.length;
    const take = bytes.subarray(0, Math.min(room, bytes.length));
    if (take.length > 0) {
      this.rcvNxt = seqAdd(this.rcvNxt, take.length);
      this.stats.bytesIn += take.length;
      if (this.paused) this.inbox.push(take.slice());
      else this.deliver(take);
    }
    return take.length === bytes.length;
  }

  /** Held segments now in order are delivered; true when the held FIN is next. */
  private drain(): boolean {
    for (let progress = true; progress; ) {
      progress = false;
      for (const [seq, data] of this.ooo) {
        const end = seqAdd(seq, data.length);
        if (seqLe(end, this.rcvNxt)) {
          this.ooo.delete(seq);
          continue;
        }
        if (seqLe(seq, this.rcvNxt)) {
          this.ooo.delete(seq);
          if (!this.accept(data.subarray(seqDiff(this.rcvNxt, seq)))) return false;
          progress = true;
        }
      }
    }
    return this.oooFin !== null && this.oooFin === this.rcvNxt;
  }

  private takeFin(): "fin" {
    this.rcvNxt = seqAdd(this.rcvNxt, 1);
    this.ooo.clear();
    this.oooFin = null;
    return "fin";
  }
}
