import { deleteOwnDisk, listOwnDisks, ownDiskDbName, SharedStorage } from "../../storage/index.ts";
import type { ClusterStorage, DiskCopies } from "../ports.ts";

/** The cluster's shared storage in IndexedDB (the page's own connection, for the lock record). */
export const openIdbStorage = (dbName: string): Promise<ClusterStorage> => SharedStorage.open(dbName);

/** The hosts' own disk copies (non-shared mode): one IndexedDB database each. */
export function idbDiskCopies(dbName: string): DiskCopies {
  return {
    delete: (diskId, hostId) => deleteOwnDisk(ownDiskDbName(dbName, diskId, hostId)),
    async clearAll() {
      for (const name of await listOwnDisks(dbName).catch(() => [])) await deleteOwnDisk(name).catch(() => undefined);
    },
  };
}
