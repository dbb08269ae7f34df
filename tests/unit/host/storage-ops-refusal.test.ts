import { describe, expect, it } from "vitest";
import type { StorageResult } from "../../../src/ft/protocol/index.ts";
import { FRESH_LOCK } from "../../../src/ft/protocol/index.ts";
import { StorageUnavailableError, storageRefusal, type StorageRefusal } from "../../../src/storage/index.ts";
import { StorageOps } from "../../../src/host/storage-ops.ts";
import type { HostDisk, HostStorage } from "../../../src/host/ports.ts";

/** A disk whose writes fail as the test says (reads always work, as with a full quota). */
function fakeDisk(writeError: () => unknown): HostDisk {
  return {
    sizeBytes: 1 << 20,
    read: async (_o, length) => new Uint8Array(length),
    write: async () => {
      const e = writeError();
      if (e) throw e;
    },
    exportBlocks: async () => [],
    importBlocks: async () => undefined,
    blockCount: async () => 0,
  };
}
const storage: HostStorage = { lock: { readLock: async () => FRESH_LOCK, testAndSet: async () => ({ ok: true, record: FRESH_LOCK }) } as unknown as HostStorage["lock"] };
const quota = () => new DOMException("The quota has been exceeded.", "QuotaExceededError");

describe("StorageOps tells when the browser refuses the storage", () => {
  it("reports a refusal once when it starts and once when a write succeeds again; reads meanwhile do not end it", async () => {
    let fail: unknown = quota();
    const results: StorageResult[] = [];
    const health: (StorageRefusal | null)[] = [];
    const ops = new StorageOps(storage, fakeDisk(() => fail), (r) => results.push(r), (r) => health.push(r));
    ops.noteRange(9, 0, 512);
    for (let i = 0; i < 3; i++) {
      ops.perform({ type: "writeBlock", ioId: i, block: 0, data: new Uint8Array(512), epoch: 1 });
      ops.perform({ type: "readBlock", ioId: 9, block: 0 });
    }
    await expect.poll(() => results.length).toBe(6);
    // The protocol sees unreachable storage (it waits and retries); the page hears one refusal.
    expect(results.filter((r) => r.op === "write").map((r) => r.ok)).toEqual([false, false, false]);
    expect(health).toEqual([{ cause: "quota", error: "QuotaExceededError: The quota has been exceeded." }]);
    fail = null;
    ops.perform({ type: "writeBlock", ioId: 3, block: 0, data: new Uint8Array(512), epoch: 1 });
    await expect.poll(() => health.length).toBe(2);
    expect(health[1]).toBeNull();
  });

  it("a simulated outage (the Storage reachable switch) is not the browser refusing", async () => {
    const health: (StorageRefusal | null)[] = [];
    const results: StorageResult[] = [];
    const ops = new StorageOps(storage, fakeDisk(() => new StorageUnavailableError("shared storage unreachable")), (r) => results.push(r), (r) => health.push(r));
    ops.perform({ type: "writeBlock", ioId: 1, block: 0, data: new Uint8Array(1), epoch: 1 });
    await expect.poll(() => results.length).toBe(1);
    expect(results[0]).toMatchObject({ ok: false, reason: "unavailable" });
    expect(health).toEqual([]);
  });

  it("names what the browser said: a closed database is a refusal, not a quota", () => {
    expect(storageRefusal(new DOMException("The database connection is closing.", "InvalidStateError"))).toEqual({
      cause: "refused",
      error: "InvalidStateError: The database connection is closing.",
    });
    expect(storageRefusal(quota())?.cause).toBe("quota");
    expect(storageRefusal(new StorageUnavailableError("x"))).toBeNull();
  });
});
