/**
 * A toy deterministic VM standing in for v86 in the simulator. It has the properties the
 * protocol cares about: it consumes client input, produces console output, issues disk
 * reads and writes with asynchronous completions, and draws non-deterministic values
 * (like RDRAND) that the primary must log. Everything it does is a pure function of its
 * state and the events applied at frame boundaries, exactly like the real engine.
 *
 * It also carries the facts the checker needs: its full console history (so the client's
 * stream can be checked as a prefix of it), its view of the disk (every write whose
 * completion it saw), and counters of anomalies it observed (input out of order, a read
 * returning data that contradicts its completed writes).
 */
import type { Position } from '../ft/protocol/types.ts';

export const NBLOCKS = 6;
export const GUEST_MS_PER_FRAME = 2;

export type StartEvent =
  | { k: 'input'; seq: number; bytes: Uint8Array }
  | { k: 'io'; ioId: number; data?: Uint8Array }
  /** A packet from the network (the client's `q<n>`): the guest answers it with one packet. */
  | { k: 'packet'; bytes: Uint8Array };

export interface VmEffects {
  inputApplied(pos: Position, seq: number, bytes: Uint8Array): void;
  ioCompleted(pos: Position, ioId: number, kind: 'read' | 'write', data: Uint8Array | undefined): void;
  /** Non-deterministic value: the recorder draws and logs it, the replayer reads the log. */
  nd(pos: Position): number;
  console(pos: Position, bytes: Uint8Array): void;
  diskWrite(pos: Position, ioId: number, block: number, data: Uint8Array): void;
  diskRead(pos: Position, ioId: number, block: number): void;
  /** A packet the guest transmits (an output, like console bytes). */
  packet(pos: Position, bytes: Uint8Array): void;
}

interface PendingOp {
  kind: 'read' | 'write';
  block: number;
  value: number;
}

const enc = new TextEncoder();

function mix(h: number, v: number): number {
  h ^= v >>> 0;
  h = Math.imul(h, 0x01000193);
  h ^= h >>> 15;
  return h >>> 0;
}

export function blockValue(data: Uint8Array | undefined): number {
  if (!data || data.length < 4) return 0;
  return (data[0]! | (data[1]! << 8) | (data[2]! << 16) | (data[3]! << 24)) >>> 0;
}

export function blockData(v: number): Uint8Array {
  return new Uint8Array([v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255]);
}

/** The toy guest's output is ASCII: encoded by hand (TextEncoder costs more on strings this short). */
function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 127) return enc.encode(s);
    out[i] = c;
  }
  return out;
}

export class ToyVm {
  frame = 0;
  icount = 0;
  h = 0x12345678;
  console = '';
  nextInputSeq = 0;
  nextIoId = 1;
  view = new Map<number, number>();
  pending = new Map<number, PendingOp>();
  inputViolations = 0;
  readMismatches = 0;
  strayCompletions = 0;
  /** Every packet this VM's history transmitted, in order: the checker's view of its network output. */
  sent: string[] = [];

  get guestTime(): number {
    return this.frame * GUEST_MS_PER_FRAME;
  }

  get position(): Position {
    return { frame: this.frame, icount: BigInt(this.icount) };
  }

  digest(): number {
    return mix(mix(mix(this.h, this.icount), this.console.length), this.pending.size);
  }

  busy(block: number): boolean {
    for (const p of this.pending.values()) if (p.block === block) return true;
    return false;
  }

  runFrame(events: readonly StartEvent[], fx: VmEffects): void {
    const f = this.frame + 1;
    const start: Position = { frame: f, icount: BigInt(this.icount) };
    let echo = '';
    const replies: string[] = [];
    for (const ev of events) {
      if (ev.k === 'packet') {
        for (const b of ev.bytes) this.h = mix(this.h, b);
        // The reply carries the guest's state: one sent by a history the backup never saw differs.
        replies.push(`r${String.fromCharCode(...ev.bytes).slice(1)}#${this.sent.length + replies.length}:${(this.h & 0xffff).toString(16)}`);
      } else if (ev.k === 'input') {
        if (ev.seq !== this.nextInputSeq) this.inputViolations++;
        this.nextInputSeq = ev.seq + 1;
        for (const b of ev.bytes) this.h = mix(this.h, b);
        echo += String.fromCharCode(...ev.bytes);
        fx.inputApplied(start, ev.seq, ev.bytes);
      } else {
        const op = this.pending.get(ev.ioId);
        if (!op) {
          this.strayCompletions++;
          continue;
        }
        this.pending.delete(ev.ioId);
        if (op.kind === 'read') {
          const v = blockValue(ev.data);
          if (v !== (this.view.get(op.block) ?? 0)) this.readMismatches++;
          this.h = mix(this.h, v);
        } else {
          this.view.set(op.block, op.value);
          this.h = mix(this.h, op.block);
        }
        fx.ioCompleted(start, ev.ioId, op.kind, ev.data);
      }
    }
    const n = 200 + (this.h % 64);
    this.icount += n >> 1;
    if (this.h % 3 === 0) this.h = mix(this.h, fx.nd({ frame: f, icount: BigInt(this.icount) }));
    this.icount += n - (n >> 1);
    const pos: Position = { frame: f, icount: BigInt(this.icount) };
    if (echo) this.out(fx, pos, `>${echo}\n`);
    if (f % 4 === 0) this.out(fx, pos, `t${f}:${(this.h & 0xfff).toString(16)}\n`);
    for (const r of replies) {
      this.sent.push(r);
      this.h = mix(this.h, r.length);
      fx.packet(pos, ascii(r));
    }
    if (this.h % 4 === 1) {
      const block = (this.h >>> 4) % NBLOCKS;
      if (!this.busy(block)) {
        const ioId = this.nextIoId++;
        if ((this.h >>> 8) & 1) {
          const value = (mix(this.h, f) | 1) >>> 0;
          this.pending.set(ioId, { kind: 'write', block, value });
          fx.diskWrite(pos, ioId, block, blockData(value));
        } else {
          this.pending.set(ioId, { kind: 'read', block, value: 0 });
          fx.diskRead(pos, ioId, block);
        }
      }
    }
    this.h = mix(this.h, f);
    this.frame = f;
  }

  private out(fx: VmEffects, pos: Position, s: string): void {
    this.console += s;
    this.h = mix(this.h, s.length);
    fx.console(pos, ascii(s));
  }

  snapshot(): Uint8Array {
    return enc.encode(
      JSON.stringify({
        frame: this.frame,
        icount: this.icount,
        h: this.h,
        console: this.console,
        nextInputSeq: this.nextInputSeq,
        nextIoId: this.nextIoId,
        view: [...this.view],
        pending: [...this.pending],
        inputViolations: this.inputViolations,
        readMismatches: this.readMismatches,
        strayCompletions: this.strayCompletions,
        // Left out when empty: a run without packets keeps its snapshots, so its seed replays as before.
        ...(this.sent.length > 0 ? { sent: this.sent } : {}),
      }),
    );
  }

  static restore(bytes: Uint8Array): ToyVm {
    const s = JSON.parse(new TextDecoder().decode(bytes));
    const vm = new ToyVm();
    Object.assign(vm, s, { view: new Map(s.view), pending: new Map(s.pending) });
    return vm;
  }
}
