import { openDB, type IDBPDatabase } from "idb";
import { blockHash } from "../ft/protocol/index.ts";
import { Availability } from "./availability.ts";
import { IdbBlockStore, type DiskBlock } from "./block-store.ts";
import type { LockstepDb } from "./schema.ts";

/**
 * Non-shared disk (paper 4.1): each host keeps its own copy of the virtual disk, "part of the
 * internal state of each VM". Each copy is a database of its own rather than a key range of the
 * shared one, so nothing (no transaction, no availability switch) can touch two hosts' copies at
 * once: all the hosts still share is the lock record, the tiebreaker of 4.1.
 */
export function ownDiskDbName(sharedDbName: string, diskId: string, hostId: string): string {
  return `${ownDiskPrefix(sharedDbName)}${diskId}/${hostId}`;
}

function ownDiskPrefix(sharedDbName: string): string {
  return `${sharedDbName}/own-disk/`;
}

export class OwnDisk {
  private constructor(
    private readonly db: IDBPDatabase<LockstepDb>,
    readonly name: string,
    readonly store: IdbBlockStore,
  ) {}

  static async open(name: string, diskId: string, sizeBytes: number, base?: Uint8Array): Promise<OwnDisk> {
    const db: IDBPDatabase<LockstepDb> = await openDB<LockstepDb>(name, 1, {
      upgrade(d) {
        // Same schema as the shared database; the lock store stays empty (the lock is shared).
        d.createObjectStore("blocks", { keyPath: ["disk", "index"] });
        d.createObjectStore("lock");
      },
      // The cluster service deletes the copy of a host that failed or halted: let it.
      blocking: () => db.close(),
    });
    // A local disk is not behind the shared-storage network, so it has its own (always up) switch.
    return new OwnDisk(db, name, new IdbBlockStore(db, new Availability(), diskId, sizeBytes, base, false));
  }

  close(): void {
    this.db.close();
  }
}

/**
 * Garbage collection of a copy nobody will use again (a failed or halted host's). Deletion
 * waits until the owner's connection closes, so this resolves only once it is gone.
 */
export function deleteOwnDisk(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.deleteDatabase(name);
    req.onsuccess = () => resolve();
    req.onerror = () => reject(req.error ?? new Error(`deleting ${name} failed`));
  });
}

/** Names of the own-disk copies in this origin that belong to the cluster of `sharedDbName`. */
export async function listOwnDisks(sharedDbName: string): Promise<string[]> {
  const all = await indexedDB.databases();
  const prefix = ownDiskPrefix(sharedDbName);
  return all.map((d) => d.name ?? "").filter((n) => n.startsWith(prefix));
}

/**
 * The state of a disk as one number, to prove two copies equal after FT VMotion: FNV-1a over
 * each written block's index and hash, in index order (both copies share the base image).
 */
export function diskImageHash(blocks: DiskBlock[]): number {
  const sorted = [...blocks].sort((a, b) => a.index - b.index);
  const words = new Uint32Array(sorted.length * 2);
  sorted.forEach((b, i) => {
    words[2 * i] = b.index;
    words[2 * i + 1] = blockHash(b.data);
  });
  return blockHash(new Uint8Array(words.buffer));
}
