import "fake-indexeddb/auto";
import { afterAll, beforeAll } from "vitest";
import { OwnDisk, ownDiskDbName, SharedStorage } from "../../../src/storage/index.ts";
import { EtcdStorage } from "../../../src/storage/etcd/index.ts";
import { startEtcd, type EtcdServer } from "../../helpers/etcd-server.ts";
import { describeDisk } from "./disk.conformance.ts";

let n = 0;

// The one-browser mode: the shared disk beside the lock in one IndexedDB database, a database per own copy.
describeDisk("IndexedDB", async () => {
  const name = `disk-conf-${n++}`;
  const shared = await SharedStorage.open(name);
  return {
    lock: shared.lock,
    availability: shared.availability,
    disk: (size, base) => shared.disk("d", size, base),
    ownDisk: async (host, size, base) => (await OwnDisk.open(ownDiskDbName(name, "d", host), "d", size, base)).store,
  };
});

// The two-computer mode: the same on a real etcd on loopback, a fresh cluster prefix per case.
let etcd: EtcdServer;
beforeAll(async () => {
  etcd = await startEtcd();
});
afterAll(() => etcd?.stop());
describeDisk("etcd", () => {
  const shared = EtcdStorage.open(etcd.endpoint, `disk-conf-${n++}`);
  return {
    lock: shared.lock,
    availability: shared.availability,
    disk: (size, base) => shared.disk("d", size, base),
    ownDisk: (host, size, base) => shared.ownDisk("d", host, size, base),
  };
});
