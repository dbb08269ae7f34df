/**
 * Paper 3.2 / Figure 3: the primary's log buffer is flushed to the channel as soon as
 * possible, the backup reads records into its own buffer and acknowledges what it has
 * read. Our channel may lose, duplicate and reorder messages (WebRTC data channels can be
 * configured unreliable, and reconnects lose in-flight data), so records carry sequence
 * numbers, the backup acknowledges the longest received prefix, and the primary resends
 * what stays unacknowledged.
 */
import type { Millis, Position } from './types';
import { recordBytes, type LogRecord } from './messages';

type NewRecord = LogRecord extends infer R ? (R extends LogRecord ? Omit<R, 'seq'> : never) : never;

/** Primary side: the log buffer of records not yet acknowledged. */
export class LogSender {
  nextSeq: number;
  ackedSeq: number;
  /** Position of the newest acknowledged frame-end: what the Output Rule compares against. */
  ackedThrough: Position | null = null;
  unackedBytes = 0;
  private unacked: LogRecord[] = [];
  private sentAt: number[] = [];
  private unsentFrom = 0;
  private lastRetransmitAt = -Infinity;

  constructor(firstSeq: number) {
    this.nextSeq = firstSeq;
    this.ackedSeq = firstSeq - 1;
  }

  append(r: NewRecord): LogRecord {
    const rec = { ...r, seq: this.nextSeq++ } as LogRecord;
    this.unacked.push(rec);
    this.unackedBytes += recordBytes(rec);
    return rec;
  }

  /** Records never sent yet, to flush now. */
  takeUnsent(now: Millis): LogRecord[] {
    const out = this.unacked.slice(this.unsentFrom);
    for (let i = this.unsentFrom; i < this.unacked.length; i++) this.sentAt.push(now);
    this.unsentFrom = this.unacked.length;
    return out;
  }

  /**
   * The oldest unacknowledged records, once the oldest has waited `afterMs` for its ack.
   * Keyed on the oldest record (not on the last send) because a steady stream of new
   * records must not hide one lost record forever.
   */
  retransmit(now: Millis, afterMs: Millis, max: number): LogRecord[] {
    if (this.sentAt.length === 0) return [];
    if (now - Math.max(this.sentAt[0]!, this.lastRetransmitAt) < afterMs) return [];
    this.lastRetransmitAt = now;
    return this.unacked.slice(0, Math.min(max, this.sentAt.length));
  }

  /** Returns true when the acknowledged frame-end position advanced. */
  ack(ackSeq: number): boolean {
    if (ackSeq <= this.ackedSeq) return false;
    if (ackSeq >= this.nextSeq) ackSeq = this.nextSeq - 1; // never trust an ack beyond what we sent
    let advanced = false;
    let n = 0;
    for (const r of this.unacked) {
      if (r.seq > ackSeq) break;
      n++;
      this.unackedBytes -= recordBytes(r);
      if (r.kind === 'frame-end') {
        this.ackedThrough = r.position;
        advanced = true;
      }
    }
    this.unacked.splice(0, n);
    this.sentAt.splice(0, Math.min(n, this.sentAt.length));
    this.unsentFrom = Math.max(0, this.unsentFrom - n);
    this.ackedSeq = ackSeq;
    return advanced;
  }

  get unackedCount(): number {
    return this.unacked.length;
  }
}

/** Backup side: reassembles the in-order record stream from whatever arrives. */
export class LogReceiver {
  /** Highest seq such that every record up to it has been received. */
  contiguousSeq: number;
  private early = new Map<number, LogRecord>();

  constructor(firstSeq: number) {
    this.contiguousSeq = firstSeq - 1;
  }

  /** Returns newly in-order records; duplicates and already-seen records are dropped. */
  accept(records: readonly LogRecord[]): LogRecord[] {
    const out: LogRecord[] = [];
    for (const r of records) {
      if (r.seq <= this.contiguousSeq || this.early.has(r.seq)) continue;
      if (r.seq === this.contiguousSeq + 1) {
        out.push(r);
        this.contiguousSeq++;
        for (let n = this.early.get(this.contiguousSeq + 1); n; n = this.early.get(this.contiguousSeq + 1)) {
          this.early.delete(n.seq);
          out.push(n);
          this.contiguousSeq++;
        }
      } else {
        this.early.set(r.seq, r);
      }
    }
    return out;
  }
}
