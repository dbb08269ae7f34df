import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { etcdClusterStorage } from "../../../src/cluster/adapters/etcd-storage.ts";
import { BLOCK_SIZE } from "../../../src/storage/index.ts";
import { startEtcd, type EtcdServer } from "../../helpers/etcd-server.ts";

/** The cluster service's storage ports on etcd: what a new VM and disk-copy collection do there. */
let etcd: EtcdServer;
beforeAll(async () => {
  etcd = await startEtcd();
});
afterAll(() => etcd?.stop());

describe("etcd cluster storage", () => {
  it("a new VM: the lock record goes back to nobody and earlier VMs' shared disks go", async () => {
    const { storage, openStorage } = etcdClusterStorage({ endpoint: etcd.endpoint, cluster: "new-vm" });
    const cluster = await openStorage();
    expect(await cluster.lock.peek()).toBeNull();
    expect(await cluster.lock.testAndSet(0, "A#1")).toEqual({ ok: true, record: { owner: "A#1", epoch: 1 } });
    await storage.disk("disk-1", 4 * BLOCK_SIZE).write(0, new Uint8Array([1]), 1);
    expect(await cluster.lock.peek()).toMatchObject({ owner: "A#1", epoch: 1 });
    await cluster.lock.reset();
    expect(await cluster.lock.peek()).toBeNull();
    expect(await storage.disk("disk-1", 4 * BLOCK_SIZE).blockCount()).toBe(0);
    // The old VM's primary is fenced from the reset on (epoch 0 now).
    await expect(storage.disk("disk-1", 4 * BLOCK_SIZE).write(0, new Uint8Array([1]), 1)).rejects.toMatchObject({ name: "StaleEpochError" });
  });

  it("disk-copy collection deletes one host's own copy, or every copy", async () => {
    const { storage, disks } = etcdClusterStorage({ endpoint: etcd.endpoint, cluster: "copies" });
    for (const h of ["A#1", "B#1", "C#1"]) await storage.ownDisk("d", h, 4 * BLOCK_SIZE).write(0, new Uint8Array([1]), 1);
    await disks.delete("d", "B#1");
    const count = (h: string) => storage.ownDisk("d", h, 4 * BLOCK_SIZE).blockCount();
    expect([await count("A#1"), await count("B#1"), await count("C#1")]).toEqual([1, 0, 1]);
    await disks.clearAll();
    expect([await count("A#1"), await count("C#1")]).toEqual([0, 0]);
  });
});
