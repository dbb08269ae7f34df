import { openDB, type DBSchema, type IDBPDatabase } from "idb";
import type { LockRecord } from "../ft/protocol/index.ts";

/**
 * One IndexedDB database is the cluster's shared storage: the virtual disk's blocks and the
 * lock record that decides go-live. Keeping both in one database lets a single transaction
 * check the writer's epoch and write the block, which is what makes fencing atomic.
 */
export const BLOCK_SIZE = 4096;

export interface StoredBlock {
  disk: string;
  index: number;
  data: Uint8Array;
  /** Epoch of the primary that wrote it: shown in the UI, and lets tests prove fencing. */
  epoch: number;
}

export interface LockstepDb extends DBSchema {
  blocks: { key: [string, number]; value: StoredBlock };
  lock: { key: string; value: LockRecord };
}

export const LOCK_KEY = "vm";

export function openLockstepDb(name: string): Promise<IDBPDatabase<LockstepDb>> {
  return openDB<LockstepDb>(name, 1, {
    upgrade(db) {
      db.createObjectStore("blocks", { keyPath: ["disk", "index"] });
      db.createObjectStore("lock");
    },
  });
}
