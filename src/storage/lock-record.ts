import type { IDBPDatabase } from "idb";
import { FRESH_LOCK, type Epoch, type HostId, type LockRecord, type LockStore, type TasResult } from "../ft/protocol/index.ts";
import type { Availability } from "./availability.ts";
import { LOCK_KEY, type LockstepDb } from "./schema.ts";

/**
 * The go-live lock record on shared storage (paper §2.3), held to `LockStoreCore`'s semantics
 * by the conformance suite. Test-and-set is one readwrite transaction: IndexedDB serialises
 * overlapping readwrite transactions on a store, so of two hosts racing from the same epoch
 * exactly one sees its expectation hold. Unreachable storage rejects with
 * StorageUnavailableError, like every other storage call.
 */
export class IdbLockRecord implements LockStore {
  constructor(
    private readonly db: IDBPDatabase<LockstepDb>,
    private readonly availability: Availability,
  ) {}

  async readLock(): Promise<LockRecord> {
    this.availability.check("read lock record");
    return asRecord(await this.db.get("lock", LOCK_KEY));
  }

  /**
   * The record as stored, past this host's availability switch, or null if none was ever
   * written: for a page that shows the storage, never for a decision.
   */
  async peek(): Promise<LockRecord | null> {
    const stored = await this.db.get("lock", LOCK_KEY);
    return stored ? asRecord(stored) : null;
  }

  /** Never answers 'unavailable' (unreachable storage rejects), so every answer has a record. */
  async testAndSet(expectEpoch: Epoch, owner: HostId): Promise<Exclude<TasResult, { reason: "unavailable" }>> {
    this.availability.check("test-and-set");
    const tx = this.db.transaction("lock", "readwrite");
    const current = asRecord(await tx.store.get(LOCK_KEY));
    // A retry after a lost reply finds its own earlier win: that is a win, not a conflict.
    if (current.epoch === expectEpoch + 1 && current.owner === owner) {
      await tx.done;
      return { ok: true, record: current };
    }
    if (current.epoch !== expectEpoch) {
      await tx.done;
      return { ok: false, reason: "conflict", record: current };
    }
    const record: LockRecord = { owner, epoch: expectEpoch + 1 };
    await tx.store.put(record, LOCK_KEY);
    await tx.done;
    return { ok: true, record: { ...record } };
  }

  /** A fresh cluster: epoch 0, nobody live. Only the app's "new VM" path calls this. */
  async reset(): Promise<void> {
    this.availability.check("reset lock record");
    await this.db.put("lock", { ...FRESH_LOCK }, LOCK_KEY);
  }
}

/** Records written before the one vocabulary said "" for nobody and carried a display time. */
function asRecord(stored: LockRecord | undefined): LockRecord {
  return stored ? { owner: stored.owner || null, epoch: stored.epoch } : { ...FRESH_LOCK };
}
