import type { EtcdLocation } from "../../host/ft-api.ts";
import { EtcdStorage } from "../../storage/etcd/index.ts";
import type { ClusterStorage, DiskCopies } from "../ports.ts";

/**
 * The cluster's shared storage on etcd (several computers, issue 14), as the service uses it:
 * the lock record (shown, and reset for a new VM) and the hosts' own disk copies it collects.
 * One `EtcdStorage` for both: fetch keeps nothing open, so "opening" costs nothing.
 */
export function etcdClusterStorage(at: EtcdLocation): { storage: EtcdStorage; openStorage: () => Promise<ClusterStorage>; disks: DiskCopies } {
  const storage = EtcdStorage.open(at.endpoint, at.cluster);
  return {
    storage,
    openStorage: async () => storage,
    disks: {
      delete: (diskId, hostId) => storage.deleteOwnDisk(diskId, hostId),
      clearAll: () => storage.clearOwnDisks(),
    },
  };
}
