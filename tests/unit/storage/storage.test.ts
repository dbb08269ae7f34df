import "fake-indexeddb/auto";
import { describe, expect, it } from "vitest";
import { BLOCK_SIZE, SharedStorage, StaleEpochError, StorageUnavailableError } from "../../../src/storage/index.ts";

let n = 0;
const fresh = () => SharedStorage.open(`test-${n++}`);

describe("IndexedDB shared disk", () => {
  it("reads the base image through, then its own writes, across block boundaries", async () => {
    const s = await fresh();
    const base = new Uint8Array(3 * BLOCK_SIZE).map((_, i) => i & 0xff);
    const disk = s.disk("d", 8 * BLOCK_SIZE, base);
    expect(Array.from(await disk.read(10, 4))).toEqual([10, 11, 12, 13]);
    expect(Array.from(await disk.read(5 * BLOCK_SIZE, 2))).toEqual([0, 0]);
    await s.lock.testAndSet(0, "p");
    const data = new Uint8Array(BLOCK_SIZE + 100).fill(0xab);
    await disk.write(BLOCK_SIZE - 50, data, 1);
    const r = await disk.read(BLOCK_SIZE - 52, BLOCK_SIZE + 104);
    expect(r[0]).toBe((BLOCK_SIZE - 52) & 0xff);
    expect(r[2]).toBe(0xab);
    expect(r[BLOCK_SIZE + 101]).toBe(0xab);
    expect(r[BLOCK_SIZE + 102]).toBe((2 * BLOCK_SIZE + 50) & 0xff);
  });

  it("fences writes from a stale epoch and leaves the data untouched", async () => {
    const s = await fresh();
    const disk = s.disk("d", 4 * BLOCK_SIZE);
    expect((await s.lock.testAndSet(0, "primary")).ok).toBe(true);
    await disk.write(0, new Uint8Array([1, 2, 3]), 1);
    expect((await s.lock.testAndSet(1, "backup")).ok).toBe(true);
    await expect(disk.write(0, new Uint8Array([9, 9, 9]), 1)).rejects.toBeInstanceOf(StaleEpochError);
    expect(Array.from(await disk.read(0, 3))).toEqual([1, 2, 3]);
    await disk.write(0, new Uint8Array([4]), 2);
    expect(await disk.writerEpochs(0, 1)).toEqual([2]);
  });

  it("test-and-set has exactly one winner when two hosts race from the same epoch", async () => {
    for (let round = 0; round < 20; round++) {
      const s = await fresh();
      const results = await Promise.all([s.lock.testAndSet(0, "a"), s.lock.testAndSet(0, "b")]);
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      const rec = await s.lock.readLock();
      expect(rec?.epoch).toBe(1);
      expect(rec?.owner).toBe(results.find((r) => r.ok)!.record.owner);
    }
  });

  it("a retried test-and-set recognises its own earlier win", async () => {
    const s = await fresh();
    expect((await s.lock.testAndSet(0, "a")).ok).toBe(true);
    expect((await s.lock.testAndSet(0, "a")).ok).toBe(true);
    expect((await s.lock.testAndSet(0, "b")).ok).toBe(false);
  });

  it("refuses every operation while storage is unavailable", async () => {
    const s = await fresh();
    s.availability.set(false);
    await expect(s.lock.testAndSet(0, "a")).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(s.disk("d", BLOCK_SIZE).read(0, 1)).rejects.toBeInstanceOf(StorageUnavailableError);
    s.availability.set(true);
    expect((await s.lock.testAndSet(0, "a")).ok).toBe(true);
  });

  it("the page's view of the lock record (peek) sees past a host's availability switch; readLock does not", async () => {
    const s = await fresh();
    expect(await s.lock.peek()).toBeNull();
    expect(await s.lock.readLock()).toEqual({ owner: null, epoch: 0 });
    await s.lock.testAndSet(0, "a");
    s.availability.set(false);
    expect(await s.lock.peek()).toEqual({ owner: "a", epoch: 1 });
    await expect(s.lock.readLock()).rejects.toBeInstanceOf(StorageUnavailableError);
  });
});
