/**
 * The shared-storage tiebreaker (paper 2.3) and fencing (beyond the paper).
 *
 * Paper: "When either a primary or backup VM wants to go live, it executes an atomic
 * test-and-set operation on the shared storage." We store {owner, epoch}: going live means
 * moving the epoch from the value the contender last knew to the next one. Exactly one
 * contender can do that for a given epoch, so exactly one goes live per epoch.
 *
 * Fencing closes the gap the paper leaves open: a deposed primary may still have disk
 * writes in flight. Every block write carries the writer's epoch and the store applies it
 * in the same transaction as a check that the epoch is still current, so a zombie's late
 * write is rejected instead of overwriting the new primary's data.
 *
 * The IndexedDB implementation (elsewhere) implements `LockStore`; `LockStoreCore` is the
 * reference semantics, used by the simulator and the unit tests, that it must match.
 */
import type { Epoch, HostId } from './types';

export interface LockRecord {
  owner: HostId | null;
  epoch: Epoch;
}

export type TasResult =
  | { ok: true; record: LockRecord }
  | { ok: false; reason: 'conflict'; record: LockRecord }
  | { ok: false; reason: 'unavailable' };

export type WriteResult = { ok: true } | { ok: false; reason: 'stale-epoch' | 'unavailable' };
export type ReadResult = { ok: true; data: Uint8Array } | { ok: false; reason: 'unavailable' };

/** What the host adapter's storage must provide. All methods are atomic. */
export interface LockStore {
  readLock(): Promise<LockRecord | null>;
  /**
   * If the record's epoch is `expectEpoch`, set it to {owner, expectEpoch + 1}. Retrying
   * after a lost reply is safe: a record already equal to the requested one is a success.
   */
  testAndSet(expectEpoch: Epoch, owner: HostId): Promise<TasResult>;
  /** Fenced: applied only if `epoch` equals the record's current epoch. */
  writeBlock(block: number, data: Uint8Array, epoch: Epoch): Promise<WriteResult>;
  readBlock(block: number): Promise<ReadResult>;
}

/** Reference semantics of the lock record and fenced writes, synchronous and pure. */
export class LockStoreCore {
  lock: LockRecord;
  readonly blocks = new Map<number, Uint8Array>();

  constructor(initial: LockRecord, private readonly blockSize = 0) {
    this.lock = { ...initial };
  }

  /**
   * `force` is the test-only "no test-and-set" switch: the set happens whatever the record
   * holds, which is exactly the split-brain hazard the real operation exists to prevent.
   */
  testAndSet(expectEpoch: Epoch, owner: HostId, force = false): TasResult {
    const target: LockRecord = { owner, epoch: expectEpoch + 1 };
    if (force) {
      this.lock = target;
      return { ok: true, record: { ...target } };
    }
    if (this.lock.epoch === target.epoch && this.lock.owner === owner) {
      return { ok: true, record: { ...this.lock } };
    }
    if (this.lock.epoch !== expectEpoch) {
      return { ok: false, reason: 'conflict', record: { ...this.lock } };
    }
    this.lock = target;
    return { ok: true, record: { ...target } };
  }

  /** `fencing = false` is the test-only "no fencing" switch. */
  writeBlock(block: number, data: Uint8Array, epoch: Epoch, fencing = true): WriteResult {
    if (fencing && epoch !== this.lock.epoch) return { ok: false, reason: 'stale-epoch' };
    this.blocks.set(block, data.slice());
    return { ok: true };
  }

  readBlock(block: number): ReadResult {
    const b = this.blocks.get(block);
    return { ok: true, data: b ? b.slice() : new Uint8Array(this.blockSize) };
  }
}
