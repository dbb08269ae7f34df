import "fake-indexeddb/auto";
import { afterAll, beforeAll } from "vitest";
import { LockStoreCore, type WriteResult } from "../../../src/ft/protocol/index.ts";
import { BLOCK_SIZE, SharedStorage, StaleEpochError } from "../../../src/storage/index.ts";
import { EtcdStorage } from "../../../src/storage/etcd/index.ts";
import { startEtcd, type EtcdServer } from "../../helpers/etcd-server.ts";
import { describeLockStore } from "./lock-store.conformance.ts";

/** A stale-epoch rejection as the protocol's WriteResult; anything else is no answer of the contract. */
const asWriteResult = (p: Promise<void>): Promise<WriteResult> =>
  p.then(
    (): WriteResult => ({ ok: true }),
    (e: unknown): WriteResult => {
      if (e instanceof StaleEpochError) return { ok: false, reason: "stale-epoch" };
      throw e;
    },
  );

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
    fencedWrite: (epoch) => asWriteResult(disk.write(0, new Uint8Array([epoch]), epoch)),
    close: () => shared.close(),
  };
});

// The two-computer mode's shared storage: a real etcd on loopback, a fresh cluster prefix per case.
let etcd: EtcdServer;
beforeAll(async () => {
  etcd = await startEtcd();
});
afterAll(() => etcd?.stop());
describeLockStore("etcd (EtcdLockRecord)", () => {
  const shared = EtcdStorage.open(etcd.endpoint, `conformance-${n++}`);
  const disk = shared.disk("d", BLOCK_SIZE);
  return { store: shared.lock, fencedWrite: (epoch) => asWriteResult(disk.write(0, new Uint8Array([epoch]), epoch)) };
});
