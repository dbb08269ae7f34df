import type { IDBPDatabase } from "idb";
import type { Availability } from "./availability.ts";
import { LOCK_KEY, type LockRecord, type LockstepDb } from "./schema.ts";

export type TestAndSetResult = { won: true; record: LockRecord } | { won: false; record: LockRecord };

/**
 * The go-live lock record on shared storage (paper §2.3). Test-and-set is one readwrite
 * transaction: IndexedDB serialises overlapping readwrite transactions on a store, so of two
 * hosts racing from the same epoch exactly one sees its expectation hold.
 */
export class IdbLockRecord {
  constructor(
    private readonly db: IDBPDatabase<LockstepDb>,
    private readonly availability: Availability,
  ) {}

  async read(): Promise<LockRecord | undefined> {
    this.availability.check("read lock record");
    return this.db.get("lock", LOCK_KEY);
  }

  /** Claims epoch expectedEpoch+1 for owner iff the record still says expectedEpoch. */
  async testAndSet(owner: string, expectedEpoch: number, now = Date.now()): Promise<TestAndSetResult> {
    this.availability.check("test-and-set");
    const tx = this.db.transaction("lock", "readwrite");
    const current = (await tx.store.get(LOCK_KEY)) ?? { owner: "", epoch: 0, since: 0 };
    // A retry after a lost reply finds its own earlier win: that is a win, not a conflict.
    if (current.epoch === expectedEpoch + 1 && current.owner === owner) {
      await tx.done;
      return { won: true, record: current };
    }
    if (current.epoch !== expectedEpoch) {
      await tx.done;
      return { won: false, record: current };
    }
    const record: LockRecord = { owner, epoch: expectedEpoch + 1, since: now };
    await tx.store.put(record, LOCK_KEY);
    await tx.done;
    return { won: true, record };
  }

  /** A fresh cluster: epoch 0, nobody live. Only the app's "new VM" path calls this. */
  async reset(): Promise<void> {
    this.availability.check("reset lock record");
    await this.db.put("lock", { owner: "", epoch: 0, since: Date.now() }, LOCK_KEY);
  }
}
