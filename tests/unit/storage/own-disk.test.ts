import "fake-indexeddb/auto";
import { describe, expect, it } from "vitest";
import {
  BLOCK_SIZE,
  deleteOwnDisk,
  diskImageHash,
  listOwnDisks,
  OwnDisk,
  ownDiskDbName,
  SharedStorage,
} from "../../../src/storage/index.ts";

let n = 0;
const cluster = () => `own-test-${n++}`;

describe("non-shared disk: a host's own copy", () => {
  it("is a database of its own, named after the host, not fenced by the shared lock record", async () => {
    const db = cluster();
    const shared = await SharedStorage.open(db);
    await shared.lock.testAndSet(0, "A#1");
    await shared.lock.testAndSet(1, "B#1"); // epoch 2: a write at epoch 1 to the shared disk is fenced
    const a = await OwnDisk.open(ownDiskDbName(db, "d", "A#1"), "d", 4 * BLOCK_SIZE);
    const b = await OwnDisk.open(ownDiskDbName(db, "d", "B#1"), "d", 4 * BLOCK_SIZE);
    await a.store.write(10, new Uint8Array([1, 2, 3]), 1);
    expect(Array.from(await a.store.read(10, 3))).toEqual([1, 2, 3]);
    expect(Array.from(await b.store.read(10, 3))).toEqual([0, 0, 0]);
    expect(await a.store.blockCount()).toBe(1);
    expect(await b.store.blockCount()).toBe(0);
    expect((await listOwnDisks(db)).sort()).toEqual([ownDiskDbName(db, "d", "A#1"), ownDiskDbName(db, "d", "B#1")]);
    a.close();
    b.close();
    shared.close();
  });

  it("FT VMotion sync: export at a point, import makes the copy identical (hash-checked), later writes excluded", async () => {
    const db = cluster();
    const base = new Uint8Array(2 * BLOCK_SIZE).fill(7);
    const src = await OwnDisk.open(ownDiskDbName(db, "d", "A#1"), "d", 8 * BLOCK_SIZE, base);
    const dst = await OwnDisk.open(ownDiskDbName(db, "d", "C#1"), "d", 8 * BLOCK_SIZE, base);
    await src.store.write(BLOCK_SIZE - 2, new Uint8Array([9, 9, 9, 9]), 1);
    // Stale content the new backup must lose.
    await dst.store.write(5 * BLOCK_SIZE, new Uint8Array([5]), 1);
    const exported = src.store.exportBlocks();
    // Issued after the export point but not awaited before it: must not be in the image.
    const later = src.store.write(3 * BLOCK_SIZE, new Uint8Array([4]), 1);
    const blocks = await exported;
    await later;
    expect(blocks.map((b) => b.index)).toEqual([0, 1]);
    await dst.store.importBlocks(blocks, 1);
    expect(diskImageHash(await dst.store.exportBlocks())).toBe(diskImageHash(blocks));
    expect(Array.from(await dst.store.read(BLOCK_SIZE - 3, 6))).toEqual([7, 9, 9, 9, 9, 7]);
    expect(Array.from(await dst.store.read(5 * BLOCK_SIZE, 1))).toEqual([0]);
    expect(Array.from(await dst.store.read(3 * BLOCK_SIZE, 1))).toEqual([0]);
    // The hash sees a one-byte difference and ignores block order.
    const other = blocks.map((b) => ({ index: b.index, data: b.data.slice() }));
    expect(diskImageHash([...other].reverse())).toBe(diskImageHash(blocks));
    other[1]!.data[0]! ^= 1;
    expect(diskImageHash(other)).not.toBe(diskImageHash(blocks));
    src.close();
    dst.close();
  });

  it("a copy is deleted even while its (halted) owner still holds it open", async () => {
    const db = cluster();
    const name = ownDiskDbName(db, "d", "A#1");
    const disk = await OwnDisk.open(name, "d", 4 * BLOCK_SIZE);
    await disk.store.write(0, new Uint8Array([1]), 1);
    await deleteOwnDisk(name);
    expect(await listOwnDisks(db)).toEqual([]);
    const again = await OwnDisk.open(name, "d", 4 * BLOCK_SIZE);
    expect(await again.store.blockCount()).toBe(0);
    again.close();
  });
});
