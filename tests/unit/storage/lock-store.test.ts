import "fake-indexeddb/auto";
import { LockStoreCore, type WriteResult } from "../../../src/ft/protocol/index.ts";
import { BLOCK_SIZE, SharedStorage, StaleEpochError } from "../../../src/storage/index.ts";
import { describeLockStore } from "./lock-store.conformance.ts";

// The reference semantics, wrapped async: what the simulator proves the protocol against.
describeLockStore("LockStoreCore", () => {
  const core = new LockStoreCore(undefined, 4);
  return {
    store: { readLock: async () => ({ ...core.lock }), testAndSet: async (expectEpoch, owner) => core.testAndSet(expectEpoch, owner) },
    fencedWrite: async (epoch) => core.writeBlock(0, new Uint8Array([epoch]), epoch),
  };
});

// The browser's shared storage: the lock record and the shared disk in one IndexedDB database.
let n = 0;
describeLockStore("IndexedDB (IdbLockRecord)", async () => {
  const shared = await SharedStorage.open(`lock-store-${n++}`);
  const disk = shared.disk("d", BLOCK_SIZE);
  return {
    store: shared.lock,
    fencedWrite: (epoch) =>
      disk.write(0, new Uint8Array([epoch]), epoch).then(
        (): WriteResult => ({ ok: true }),
        (e: unknown): WriteResult => {
          if (e instanceof StaleEpochError) return { ok: false, reason: "stale-epoch" };
          throw e;
        },
      ),
    close: () => shared.close(),
  };
});
