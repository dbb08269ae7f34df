import type { IDBPDatabase } from "idb";
import { Availability } from "./availability.ts";
import { IdbBlockStore } from "./block-store.ts";
import { IdbLockRecord } from "./lock-record.ts";
import { openLockstepDb, type LockstepDb } from "./schema.ts";

export { BLOCK_SIZE } from "./schema.ts";
export type { LockRecord, TasResult } from "../ft/protocol/index.ts";
export { StaleEpochError, StorageUnavailableError, StorageRefusedError, storageRefusal, type StorageRefusal } from "./errors.ts";
export { IdbBlockStore, type DiskBlock } from "./block-store.ts";
export { OwnDisk, ownDiskDbName, deleteOwnDisk, listOwnDisks, diskImageHash } from "./own-disk.ts";
export { IdbBulkStore } from "./bulk-store.ts";
export { IdbLockRecord } from "./lock-record.ts";
export { Availability } from "./availability.ts";

/** The shared storage as one host sees it: the same database, its own availability switch. */
export class SharedStorage {
  readonly availability = new Availability();
  readonly lock: IdbLockRecord;

  private constructor(readonly db: IDBPDatabase<LockstepDb>) {
    this.lock = new IdbLockRecord(db, this.availability);
  }

  static async open(name = "lockstep"): Promise<SharedStorage> {
    return new SharedStorage(await openLockstepDb(name));
  }

  disk(diskId: string, sizeBytes: number, base?: Uint8Array): IdbBlockStore {
    return new IdbBlockStore(this.db, this.availability, diskId, sizeBytes, base);
  }

  close(): void {
    this.db.close();
  }
}
