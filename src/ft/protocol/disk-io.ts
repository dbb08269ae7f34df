/**
 * Disk I/O the guest has issued but not yet seen complete (paper 3.4).
 *
 * Both sides track it: the primary to complete each I/O exactly once even when a storage
 * reply is duplicated or an I/O is retried, the backup because "there is no way for the
 * newly-promoted primary VM to be sure if the disk IOs were issued to the disk or
 * completed successfully", so it re-issues every pending one when it goes live. That is
 * safe because the engine serialises racing I/Os, which makes each one idempotent.
 */
import type { StorageResult } from './api';
import type { Epoch, Millis } from './types';
import type { PendingIo } from './messages';

/** What a primary does with a disk reply: complete the I/O, retry it later, redo it now, or halt. */
export type DiskReply = { do: 'complete'; data?: Uint8Array } | { do: 'retry' } | { do: 'redo' } | { do: 'halt'; reason: string };

/**
 * `deciding`: our own test-and-set is in flight (going live, powering off), and may already have
 * moved the epoch with its reply still on its way: only its outcome tells whether we were deposed.
 */
export function diskReply(r: Extract<StorageResult, { op: 'write' | 'read' }>, epoch: Epoch, deciding: boolean): DiskReply {
  if (r.ok) return r.op === 'read' ? { do: 'complete', data: r.data } : { do: 'complete' };
  if (r.op === 'read' || r.reason === 'unavailable') return { do: 'retry' };
  // Issued before we moved to a newer epoch ourselves (went alone): just redo it.
  if (r.epoch < epoch) return { do: 'redo' };
  if (deciding) return { do: 'retry' };
  return { do: 'halt', reason: `fenced: disk write of epoch ${r.epoch} rejected, a newer primary exists` };
}

export class DiskIo {
  private pending = new Map<number, PendingIo>();
  /** Completion handed to the engine, not yet observed by the guest. */
  private completing = new Set<number>();
  private retries = new Map<number, Millis>();

  issued(io: PendingIo): void {
    this.pending.set(io.ioId, io);
  }

  /** The guest observed the completion: the I/O is done for good. */
  completed(ioId: number): void {
    this.pending.delete(ioId);
    this.completing.delete(ioId);
    this.retries.delete(ioId);
  }

  get(ioId: number): PendingIo | undefined {
    return this.pending.get(ioId);
  }

  /** First storage success for this I/O? Later ones (duplicates, re-issues) are dropped. */
  beginCompletion(ioId: number): boolean {
    if (!this.pending.has(ioId) || this.completing.has(ioId)) return false;
    this.completing.add(ioId);
    this.retries.delete(ioId);
    return true;
  }

  scheduleRetry(ioId: number, at: Millis): void {
    if (this.pending.has(ioId) && !this.completing.has(ioId)) this.retries.set(ioId, at);
  }

  dueRetries(now: Millis): PendingIo[] {
    const out: PendingIo[] = [];
    for (const [id, at] of this.retries) {
      if (at <= now) {
        this.retries.delete(id);
        const io = this.pending.get(id);
        if (io) out.push(io);
      }
    }
    return out;
  }

  /** In issue order (Map preserves insertion order), which is the order to re-issue in. */
  list(): PendingIo[] {
    return [...this.pending.values()];
  }

  /** Forget what was handed to the old engine instance; a new primary starts over. */
  resetCompletions(): void {
    this.completing.clear();
    this.retries.clear();
  }

  get size(): number {
    return this.pending.size;
  }
}

/** FNV-1a; the backup-reads mode compares it with the hash the primary logged. */
export function blockHash(data: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < data.length; i++) {
    h ^= data[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
