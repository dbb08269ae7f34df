import { OwnDisk, ownDiskDbName, SharedStorage, StorageRefusedError, storageRefusal, type Availability } from "../storage/index.ts";
import { EtcdStorage, etcdClientOptions } from "../storage/etcd/index.ts";
import type { FtHostConfig } from "./ft-api.ts";
import type { HostDisk, HostStorage } from "./ports.ts";

/** What a host worker opens: the lock record, its disk, the storage switch, and how to let go. */
export interface OpenedStorage {
  storage: HostStorage;
  /** The "storage reachable" switch of this host (the failure controls). */
  availability: Availability;
  disk: HostDisk;
  /** What the UI calls the disk (the shared disk's id, or the own copy's name). */
  diskName: string;
  close(): void;
}

/**
 * The shared storage a host runs on: IndexedDB of this browser (one machine), or etcd (several
 * computers, issue 14). Either way the disk is the shared one or, non-shared (§4.1), the host's
 * own copy. Opening IndexedDB is where a browser that refuses it says so; etcd opens nothing
 * (its failures come with each call, as EtcdError).
 */
export async function openHostStorage(config: FtHostConfig, sizeBytes: number, base: Uint8Array | undefined): Promise<OpenedStorage> {
  if (config.etcd) {
    const s = EtcdStorage.open(config.etcd.endpoint, config.etcd.cluster, etcdClientOptions(config.etcd));
    const own = config.diskMode === "non-shared";
    return {
      storage: s,
      availability: s.availability,
      disk: own ? s.ownDisk(config.diskId, config.hostId, sizeBytes, base) : s.disk(config.diskId, sizeBytes, base),
      diskName: own ? `etcd ${s.keys.ownDisk(config.diskId, config.hostId)}` : config.diskId,
      close: () => s.close(),
    };
  }
  const refused = (e: unknown): never => {
    throw new StorageRefusedError(storageRefusal(e) ?? { cause: "refused", error: String(e) });
  };
  const shared = await SharedStorage.open(config.dbName).catch(refused);
  // Non-shared disk (paper 4.1): this host's own copy, a database named after the host.
  const own =
    config.diskMode === "non-shared"
      ? await OwnDisk.open(ownDiskDbName(config.dbName, config.diskId, config.hostId), config.diskId, sizeBytes, base).catch(refused)
      : null;
  return {
    storage: shared,
    availability: shared.availability,
    disk: own?.store ?? shared.disk(config.diskId, sizeBytes, base),
    diskName: own?.name ?? config.diskId,
    close: () => {
      shared.close();
      own?.close();
    },
  };
}
