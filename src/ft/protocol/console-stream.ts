/**
 * Exactly-once console across failover (beyond the paper, which leans on TCP for this:
 * "the network infrastructure ... is designed to deal with lost packets and identical
 * (duplicate) packets").
 *
 * Output: console bytes are a stream with byte offsets. Offsets are a function of the
 * guest's history, so primary and backup number every byte identically. The client keeps
 * only bytes at the offset it expects next, so resends are harmless and a new primary can
 * resend everything past the last offset the client is known to hold.
 *
 * Input: client input carries sequence numbers. The VM consumes them strictly in order, the
 * acknowledgement of a consumed input is itself an output (it waits for the Output Rule,
 * otherwise a failover could lose an input the client was told had arrived), and the client
 * retransmits anything unacknowledged to whoever is live. Duplicates are dropped by seq.
 */
import type { ClientMsg, ConsoleState, ToClientMsg } from './messages';
import type { Millis } from './types';

interface Chunk {
  offset: number;
  bytes: Uint8Array;
}

/** Host side, on primary and backup alike. */
export class ConsoleServer {
  produced = 0;
  /** Bytes below this have been released to the client (primary only). */
  released = 0;
  clientAcked = 0;
  nextInputSeq = 0;
  /** Inputs handed to the engine but not yet applied (primary only; not replicated). */
  private nextInjectSeq = 0;
  private retained: Chunk[] = [];

  static from(s: ConsoleState): ConsoleServer {
    const c = new ConsoleServer();
    c.produced = s.produced;
    c.clientAcked = s.clientAcked;
    c.released = s.produced;
    c.nextInputSeq = s.nextInputSeq;
    c.nextInjectSeq = s.nextInputSeq;
    if (s.retained.length > 0) c.retained.push({ offset: s.clientAcked, bytes: s.retained.slice() });
    return c;
  }

  state(): ConsoleState {
    return {
      produced: this.produced,
      clientAcked: this.clientAcked,
      retained: this.bytesFrom(this.clientAcked, this.produced),
      nextInputSeq: this.nextInputSeq,
    };
  }

  /** The VM wrote console bytes; returns their offset. */
  produce(bytes: Uint8Array): number {
    const offset = this.produced;
    if (bytes.length > 0) {
      this.retained.push({ offset, bytes });
      this.produced += bytes.length;
    }
    return offset;
  }

  markReleased(end: number): void {
    if (end > this.released) this.released = end;
  }

  /** The client holds everything below `offset`; it will never need those bytes again. */
  onClientAck(offset: number): void {
    const o = Math.min(offset, this.produced);
    if (o <= this.clientAcked) return;
    this.clientAcked = o;
    while (this.retained.length > 0) {
      const c = this.retained[0]!;
      if (c.offset + c.bytes.length <= o) this.retained.shift();
      else break;
    }
  }

  /** Released bytes past `offset`, in chunks, for a resend. */
  releasedChunksFrom(offset: number, maxBytes: number): Chunk[] {
    const from = Math.max(offset, this.clientAcked);
    if (from >= this.released) return [];
    const end = Math.min(this.released, from + maxBytes);
    return [{ offset: from, bytes: this.bytesFrom(from, end) }];
  }

  private bytesFrom(from: number, end: number): Uint8Array {
    const out = new Uint8Array(Math.max(0, end - from));
    for (const c of this.retained) {
      const cEnd = c.offset + c.bytes.length;
      if (cEnd <= from || c.offset >= end) continue;
      const s = Math.max(from, c.offset);
      const e = Math.min(end, cEnd);
      out.set(c.bytes.subarray(s - c.offset, e - c.offset), s - from);
    }
    return out;
  }

  /** Should this client input be handed to the engine? Exactly the next one, once. */
  acceptInput(seq: number): boolean {
    if (seq !== this.nextInjectSeq) return false;
    this.nextInjectSeq++;
    return true;
  }

  inputApplied(seq: number): void {
    if (seq >= this.nextInputSeq) this.nextInputSeq = seq + 1;
    if (this.nextInjectSeq < this.nextInputSeq) this.nextInjectSeq = this.nextInputSeq;
  }

  /** A new engine instance (promotion) has no queued injections. */
  resetInjection(): void {
    this.nextInjectSeq = this.nextInputSeq;
  }
}

/** Client side (the terminal panel): dedupes output by offset, retransmits input by seq. */
export class ConsoleClient {
  /** Contiguous bytes received. */
  length = 0;
  /** Overlapping resends whose bytes differed from what we had (must stay 0). */
  conflicts = 0;
  /** Next input seq the live primary has acknowledged consuming. */
  inputAcked = 0;
  private nextSeq = 0;
  private unackedInput = new Map<number, Uint8Array>();
  private history: Uint8Array[] = [];
  private flat: Uint8Array | null = null;
  private lastSend = -Infinity;
  /** Highest epoch a live primary acknowledged input in (0: none yet). */
  private ackEpoch = 0;

  constructor(
    private readonly resendMs: Millis,
    private readonly keepHistory = true,
  ) {}

  /** Returns bytes to display (new, in order), or null. */
  onMessage(msg: ToClientMsg): Uint8Array | null {
    if (msg.t === 'input-ack') {
      for (let s = this.inputAcked; s < msg.nextSeq; s++) this.unackedInput.delete(s);
      if (msg.nextSeq > this.inputAcked) this.inputAcked = msg.nextSeq;
      // A new primary announced itself (a failover): input the dead one never consumed goes to it
      // at the next tick, not a resend period later (bench:ft measured 100-250 ms of the failover
      // between go-live and the first new output waiting for this resend).
      if (msg.epoch > this.ackEpoch) {
        if (this.ackEpoch > 0 && this.unackedInput.size > 0) this.lastSend = -Infinity;
        this.ackEpoch = msg.epoch;
      }
      return null;
    }
    const { offset, bytes } = msg;
    const end = offset + bytes.length;
    if (offset > this.length) return null; // gap: wait for the resend
    if (this.keepHistory && offset < this.length) this.checkOverlap(offset, bytes);
    if (end <= this.length) return null; // duplicate
    const fresh = bytes.subarray(this.length - offset);
    this.length = end;
    if (this.keepHistory) {
      this.history.push(fresh.slice());
      this.flat = null;
    }
    return fresh;
  }

  private checkOverlap(offset: number, bytes: Uint8Array): void {
    const all = this.stream();
    const n = Math.min(bytes.length, this.length - offset);
    for (let i = 0; i < n; i++) {
      if (all[offset + i] !== bytes[i]) {
        this.conflicts++;
        return;
      }
    }
  }

  stream(): Uint8Array {
    if (!this.flat) {
      const out = new Uint8Array(this.length);
      let o = 0;
      for (const h of this.history) {
        out.set(h, o);
        o += h.length;
      }
      this.history = [out];
      this.flat = out;
    }
    return this.flat;
  }

  /** The user typed: returns the message to send (to every host). */
  type(bytes: Uint8Array): ClientMsg {
    const seq = this.nextSeq++;
    this.unackedInput.set(seq, bytes);
    return { t: 'client-input', seq, bytes };
  }

  /** Periodic: acknowledge what we hold and retransmit unacknowledged input. */
  tick(now: Millis): ClientMsg[] {
    if (now - this.lastSend < this.resendMs) return [];
    this.lastSend = now;
    const out: ClientMsg[] = [{ t: 'client-ack', consoleOffset: this.length }];
    for (const [seq, bytes] of this.unackedInput) out.push({ t: 'client-input', seq, bytes });
    return out;
  }

  get unackedInputs(): number {
    return this.unackedInput.size;
  }

  get sentInputs(): number {
    return this.nextSeq;
  }
}
