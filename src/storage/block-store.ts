import type { IDBPDatabase } from "idb";
import type { Availability } from "./availability.ts";
import { StaleEpochError } from "./errors.ts";
import { baseBlock, blockSpan, copyOverlap, readOverBase } from "./blocks.ts";
import { BLOCK_SIZE, LOCK_KEY, type LockstepDb } from "./schema.ts";

/** One block written over the base image. */
export interface DiskBlock {
  index: number;
  data: Uint8Array;
}

/**
 * A virtual disk in IndexedDB: 4 KiB blocks copy-on-write over a read-only base image
 * (absent blocks read from the base, or as zeros past its end).
 *
 * Writes to the shared disk are fenced: each runs in one transaction over the lock record and
 * the blocks, and is refused unless the writer's epoch is the current one. A primary that lost
 * go-live while it was frozen therefore cannot overwrite what the new primary wrote.
 * A host's own copy (non-shared disk, paper 4.1) has no other writer, so it is not fenced
 * (`fenced: false`): the epoch is only recorded with each block, for the UI.
 */
export class IdbBlockStore {
  constructor(
    private readonly db: IDBPDatabase<LockstepDb>,
    private readonly availability: Availability,
    readonly diskId: string,
    readonly sizeBytes: number,
    private readonly base: Uint8Array = new Uint8Array(0),
    readonly fenced = true,
  ) {}

  read(offset: number, length: number): Promise<Uint8Array> {
    return readOverBase(this.availability, this.base, this.sizeBytes, offset, length, async (first, last) => {
      const tx = this.db.transaction("blocks", "readonly");
      const blocks = await Promise.all(Array.from({ length: last - first + 1 }, (_, i) => tx.store.get([this.diskId, first + i])));
      await tx.done;
      return (index) => blocks[index - first]?.data;
    });
  }

  /** Writes data at offset as the primary of `epoch`; throws StaleEpochError if fenced. */
  async write(offset: number, data: Uint8Array, epoch: number): Promise<void> {
    this.availability.check("disk write");
    const { first, last } = blockSpan(offset, data.length, this.sizeBytes);
    const tx = this.db.transaction(["lock", "blocks"], "readwrite");
    if (this.fenced) {
      const lock = await tx.objectStore("lock").get(LOCK_KEY);
      const current = lock?.epoch ?? 0;
      if (current !== epoch) {
        tx.abort();
        await tx.done.catch(() => undefined);
        throw new StaleEpochError(epoch, current);
      }
    }
    const blocks = tx.objectStore("blocks");
    const existing = await Promise.all(
      Array.from({ length: last - first + 1 }, (_, i) => blocks.get([this.diskId, first + i])),
    );
    for (let i = 0; i <= last - first; i++) {
      const index = first + i;
      const block = (existing[i]?.data ?? baseBlock(this.base, index)).slice();
      copyOverlap(data, offset, block, index * BLOCK_SIZE);
      void blocks.put({ disk: this.diskId, index, data: block, epoch });
    }
    await tx.done;
  }

  /** Epoch that last wrote each stored block in [offset, offset+length): for the UI and tests. */
  async writerEpochs(offset: number, length: number): Promise<number[]> {
    const first = Math.floor(offset / BLOCK_SIZE);
    const last = Math.floor((offset + length - 1) / BLOCK_SIZE);
    const tx = this.db.transaction("blocks", "readonly");
    const found = await Promise.all(
      Array.from({ length: last - first + 1 }, (_, i) => tx.store.get([this.diskId, first + i])),
    );
    await tx.done;
    return found.filter((b) => b !== undefined).map((b) => b.epoch);
  }

  /**
   * Every block written over the base image, in index order: with the base, the whole disk.
   * The transaction is created synchronously, so the result is the disk as of this call even if
   * writes issued after it are awaited first (IndexedDB runs overlapping transactions in order).
   */
  exportBlocks(): Promise<DiskBlock[]> {
    const rows = this.db.transaction("blocks", "readonly").store.getAll(this.range());
    return rows.then((r) => r.map((b) => ({ index: b.index, data: b.data })));
  }

  /** Makes this disk exactly base + `blocks`: earlier writes are dropped, in one transaction. */
  async importBlocks(blocks: DiskBlock[], epoch: number): Promise<void> {
    this.availability.check("disk import");
    const tx = this.db.transaction("blocks", "readwrite");
    void tx.store.delete(this.range());
    for (const b of blocks) void tx.store.put({ disk: this.diskId, index: b.index, data: b.data, epoch });
    await tx.done;
  }

  /** Blocks written over the base image (for the UI). */
  blockCount(): Promise<number> {
    return this.db.count("blocks", this.range());
  }

  private range(): IDBKeyRange {
    return IDBKeyRange.bound([this.diskId, 0], [this.diskId, Number.MAX_SAFE_INTEGER]);
  }


}
