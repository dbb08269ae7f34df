import "fake-indexeddb/auto";
import { describe, expect, it } from "vitest";
import type { StorageResult } from "../../../src/ft/protocol/index.ts";
import { BLOCK_SIZE, OwnDisk, ownDiskDbName, SharedStorage } from "../../../src/storage/index.ts";
import { StorageOps } from "../../../src/host/storage-ops.ts";

describe("StorageOps on a new backup's own disk copy", () => {
  it("holds disk writes until the copy is synchronised, so the import cannot wipe them", async () => {
    const shared = await SharedStorage.open("gate-test");
    const own = await OwnDisk.open(ownDiskDbName("gate-test", "d", "C#1"), "d", 4 * BLOCK_SIZE);
    const results: StorageResult[] = [];
    const ops = new StorageOps(shared, own.store, (r) => results.push(r));
    let release!: () => void;
    const restoring = new Promise<void>((r) => (release = r));
    ops.holdUntil(restoring.then(() => own.store.importBlocks([{ index: 0, data: new Uint8Array(BLOCK_SIZE).fill(5) }], 1)));
    // A pending write the clone carried (adoptPendingIo), issued while the snapshot is restored.
    ops.perform({ type: "writeBlock", ioId: 1, block: 2, data: new Uint8Array([9]), epoch: 1 });
    await new Promise((r) => setTimeout(r, 20));
    expect(results).toEqual([]);
    release();
    await expect.poll(() => results.length).toBe(1);
    expect(results[0]).toMatchObject({ op: "write", ioId: 1, ok: true });
    // Both the imported block and the held write are there: the write landed after the import.
    expect(Array.from(await own.store.read(0, 1))).toEqual([5]);
    expect(Array.from(await own.store.read(2, 1))).toEqual([9]);
    own.close();
    shared.close();
  });
});
