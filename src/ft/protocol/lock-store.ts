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
 * The IndexedDB lock record (src/storage) implements `LockStore`; `LockStoreCore` is the
 * reference semantics, used by the simulator, that every backend must match: one conformance
 * suite (`describeLockStore` in tests/unit/storage/lock-store.conformance.ts) runs the same
 * cases against both.
 */
import type { Epoch, HostId } from './types';

export interface LockRecord {
  /** The host allowed to be live in this epoch; null before anyone went live. */
  owner: HostId | null;
  epoch: Epoch;
}

/** The record of a store nobody has written: every cluster's first go-live moves it to epoch 1. */
export const FRESH_LOCK: Readonly<LockRecord> = Object.freeze({ owner: null, epoch: 0 });

export type TasResult =
  | { ok: true; record: LockRecord }
  | { ok: false; reason: 'conflict'; record: LockRecord }
  | { ok: false; reason: 'unavailable' };

export type WriteResult = { ok: true } | { ok: false; reason: 'stale-epoch' | 'unavailable' };
export type ReadResult = { ok: true; data: Uint8Array } | { ok: false; reason: 'unavailable' };

/**
 * The lock record on shared storage, as the host adapter's storage must provide it. Both
 * methods are atomic. A backend may reject a call it cannot reach storage for instead of
 * answering 'unavailable'; the host adapter reports either as 'unavailable' to the protocol.
 */
export interface LockStore {
  /** The current record; a store nobody has written reads as `FRESH_LOCK`. */
  readLock(): Promise<LockRecord>;
  /**
   * If the record's epoch is `expectEpoch`, set it to {owner, expectEpoch + 1}. Retrying
   * after a lost reply is safe: a record already equal to the requested one is a success.
   * A conflict returns the record as it is, so the loser learns the winner and its epoch.
   */
  testAndSet(expectEpoch: Epoch, owner: HostId): Promise<TasResult>;
}

/** The shared disk beside the lock record: writes are fenced by the lock record's epoch. */
export interface FencedBlockStore {
  /** Fenced: applied only if `epoch` equals the record's current epoch. */
  writeBlock(block: number, data: Uint8Array, epoch: Epoch): Promise<WriteResult>;
  readBlock(block: number): Promise<ReadResult>;
}

/** Reference semantics of the lock record and fenced writes, synchronous and pure. */
export class LockStoreCore {
  lock: LockRecord;
  readonly blocks = new Map<number, Uint8Array>();

  constructor(initial: LockRecord = FRESH_LOCK, private readonly blockSize = 0) {
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
