import type { EtcdLocation } from "../../host/ft-api.ts";
import { EtcdStorage, etcdClientOptions } from "../../storage/etcd/index.ts";
import type { ClusterStorage, DiskCopies } from "../ports.ts";

/**
 * The cluster's shared storage on etcd (several computers, issue 14), as the service uses it:
 * the lock record (shown, and reset for a new VM) and the hosts' own disk copies it collects.
 * One `EtcdStorage` for both: fetch keeps nothing open, so "opening" costs nothing.
 */
export function etcdClusterStorage(at: EtcdLocation): { storage: EtcdStorage; openStorage: () => Promise<ClusterStorage>; disks: DiskCopies } {
  const storage = EtcdStorage.open(at.endpoint, at.cluster, etcdClientOptions(at));
  return {
    storage,
    // A new VM resets the lock record (epoch 0: every earlier writer is fenced from then on),
    // then drops the earlier VMs' shared disks, which only their zombies could still address.
    openStorage: async () => ({
      lock: {
        peek: () => storage.lock.peek(),
        testAndSet: (expectEpoch, owner) => storage.lock.testAndSet(expectEpoch, owner),
        reset: async () => {
          await storage.lock.reset();
          await storage.clearSharedDisks();
        },
      },
      close: () => storage.close(),
    }),
    disks: {
      delete: (diskId, hostId) => storage.deleteOwnDisk(diskId, hostId),
      clearAll: () => storage.clearOwnDisks(),
    },
  };
}
