import { describe, expect, it } from "vitest";
import type { LockStore } from "../../../src/ft/protocol/index.ts";
import type { HostDisk } from "../../../src/host/ports.ts";
import { BLOCK_SIZE, StaleEpochError, StorageUnavailableError, type Availability } from "../../../src/storage/index.ts";

/**
 * The shared disk's contract (the host's `HostDisk`, fenced by the lock record beside it) and
 * a host's own copy (non-shared, §4.1), written once and run against every backend.
 */
export interface DiskSubject {
  lock: LockStore;
  availability: Availability;
  /** The shared disk, writes fenced by `lock`'s epoch. */
  disk(sizeBytes: number, base?: Uint8Array): HostDisk | Promise<HostDisk>;
  /** Host `host`'s own copy: not fenced. */
  ownDisk(host: string, sizeBytes: number, base?: Uint8Array): HostDisk | Promise<HostDisk>;
}

/** -1 when equal; else where they first differ (a deep toEqual on 800 KiB takes seconds). */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

export function describeDisk(name: string, open: () => DiskSubject | Promise<DiskSubject>): void {
  describe(`disk conformance: ${name}`, () => {
    it("reads the base image through, then its own writes, across block boundaries", async () => {
      const s = await open();
      const base = new Uint8Array(3 * BLOCK_SIZE).map((_, i) => i & 0xff);
      const disk = await s.disk(8 * BLOCK_SIZE, base);
      expect(Array.from(await disk.read(10, 4))).toEqual([10, 11, 12, 13]);
      expect(Array.from(await disk.read(5 * BLOCK_SIZE, 2))).toEqual([0, 0]);
      await s.lock.testAndSet(0, "p");
      await disk.write(BLOCK_SIZE - 50, new Uint8Array(BLOCK_SIZE + 100).fill(0xab), 1);
      const r = await disk.read(BLOCK_SIZE - 52, BLOCK_SIZE + 104);
      expect([r[0], r[1], r[2], r[BLOCK_SIZE + 101], r[BLOCK_SIZE + 102]]).toEqual([(BLOCK_SIZE - 52) & 0xff, (BLOCK_SIZE - 51) & 0xff, 0xab, 0xab, (2 * BLOCK_SIZE + 50) & 0xff]);
      expect(await disk.blockCount()).toBe(3);
    });

    it("a write of many blocks lands whole (etcd: more than one txn's worth)", async () => {
      const s = await open();
      await s.lock.testAndSet(0, "p");
      const disk = await s.disk(256 * BLOCK_SIZE);
      const data = new Uint8Array(200 * BLOCK_SIZE).map((_, i) => (i * 7) >> 3);
      await disk.write(BLOCK_SIZE / 2, data, 1);
      expect(firstDifference(await disk.read(BLOCK_SIZE / 2, data.length), data)).toBe(-1);
      expect(await disk.blockCount()).toBe(201);
    });

    it("overlapping partial writes of one host to one block, issued together, both land", async () => {
      const s = await open();
      await s.lock.testAndSet(0, "p");
      const disk = await s.disk(4 * BLOCK_SIZE);
      await Promise.all(Array.from({ length: 8 }, (_, i) => disk.write(i * 100, new Uint8Array(10).fill(i + 1), 1)));
      const r = await disk.read(0, 800);
      expect(Array.from({ length: 8 }, (_, i) => r[i * 100 + 5])).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    });

    it("fences writes from a stale epoch and leaves the data untouched", async () => {
      const s = await open();
      const disk = await s.disk(4 * BLOCK_SIZE);
      expect((await s.lock.testAndSet(0, "primary")).ok).toBe(true);
      await disk.write(0, new Uint8Array([1, 2, 3]), 1);
      expect((await s.lock.testAndSet(1, "backup")).ok).toBe(true);
      const refused = await disk.write(0, new Uint8Array([9, 9, 9]), 1).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(StaleEpochError);
      expect([(refused as StaleEpochError).writerEpoch, (refused as StaleEpochError).currentEpoch]).toEqual([1, 2]);
      expect(Array.from(await disk.read(0, 3))).toEqual([1, 2, 3]);
      await disk.write(0, new Uint8Array([4]), 2);
      expect(Array.from(await disk.read(0, 3))).toEqual([4, 2, 3]);
    });

    it("refuses every shared operation while the storage is unreachable, and works again after", async () => {
      const s = await open();
      const disk = await s.disk(BLOCK_SIZE);
      s.availability.set(false);
      await expect(s.lock.testAndSet(0, "a")).rejects.toBeInstanceOf(StorageUnavailableError);
      await expect(disk.read(0, 1)).rejects.toBeInstanceOf(StorageUnavailableError);
      await expect(disk.write(0, new Uint8Array(1), 0)).rejects.toBeInstanceOf(StorageUnavailableError);
      s.availability.set(true);
      expect((await s.lock.testAndSet(0, "a")).ok).toBe(true);
    });

    it("own copies: one per host, unfenced, export/import makes one exactly another", async () => {
      const s = await open();
      const base = new Uint8Array(2 * BLOCK_SIZE).fill(5);
      const a = await s.ownDisk("A#1", 16 * BLOCK_SIZE, base);
      const b = await s.ownDisk("B#1", 16 * BLOCK_SIZE, base);
      await s.lock.testAndSet(0, "A#1");
      await s.lock.testAndSet(1, "B#1");
      // Epoch 1 is stale for the lock, but nobody else writes a host's own copy.
      await a.write(BLOCK_SIZE + 1, new Uint8Array(BLOCK_SIZE).fill(7), 1);
      await a.write(9 * BLOCK_SIZE, new Uint8Array([8]), 1);
      await b.write(12 * BLOCK_SIZE, new Uint8Array([9]), 2);
      expect(await b.read(9 * BLOCK_SIZE, 1)).toEqual(new Uint8Array([0]));
      const exported = await a.exportBlocks();
      expect(exported.map((x) => x.index)).toEqual([1, 2, 9]);
      await b.importBlocks(exported, 2);
      expect(firstDifference(await b.read(0, 16 * BLOCK_SIZE), await a.read(0, 16 * BLOCK_SIZE))).toBe(-1);
      expect(await b.blockCount()).toBe(3);
    });
  });
}
