import { Availability } from "../availability.ts";
import { EtcdBlockStore } from "./block-store.ts";
import { EtcdClient, type EtcdClientOptions } from "./client.ts";
import { EtcdKeys } from "./keys.ts";
import { EtcdLockRecord } from "./lock-record.ts";
import type { EtcdCredentials } from "./auth.ts";

export { EtcdClient, prefixEnd, type EtcdClientOptions, type KeyValue, type WatchEvent, type Compare, type TxnOp } from "./client.ts";
export { AuthSession, authProblem, AUTH_MESSAGES, type AuthProblem, type EtcdCredentials } from "./auth.ts";
export { EtcdError, describeEtcdFailure, type EtcdFailure } from "./errors.ts";
export { EtcdKeys } from "./keys.ts";
export { toBase64, fromBase64 } from "./base64.ts";
export { EtcdLockRecord } from "./lock-record.ts";
export { EtcdBlockStore } from "./block-store.ts";

/**
 * A client's options for an etcd location: its credentials when authentication is on, copied
 * as a plain object (they are posted to the host worker, and a page's reactive proxy of them
 * cannot be cloned).
 */
export function etcdClientOptions(at: { credentials?: EtcdCredentials | undefined }): { credentials?: EtcdCredentials } {
  return at.credentials ? { credentials: { user: at.credentials.user, password: at.credentials.password } } : {};
}

/**
 * The cluster's shared storage on etcd, as one host sees it: the same surface as
 * `SharedStorage` (IndexedDB) — the lock record, the shared disk, an availability switch for
 * the "storage reachable" control — plus each host's own disk copy for the non-shared mode,
 * which in IndexedDB is a database per host and here a key prefix per host.
 */
export class EtcdStorage {
  readonly availability = new Availability();
  readonly lock: EtcdLockRecord;
  readonly keys: EtcdKeys;

  constructor(
    readonly client: EtcdClient,
    readonly cluster: string,
  ) {
    this.keys = EtcdKeys.forCluster(cluster);
    this.lock = new EtcdLockRecord(client, this.keys, this.availability);
  }

  static open(endpoint: string, cluster = "lockstep", opts: EtcdClientOptions = {}): EtcdStorage {
    return new EtcdStorage(new EtcdClient(endpoint, opts), cluster);
  }

  disk(diskId: string, sizeBytes: number, base?: Uint8Array): EtcdBlockStore {
    return new EtcdBlockStore(this.client, this.keys, this.availability, this.keys.sharedDisk(diskId), sizeBytes, base);
  }

  /**
   * Non-shared disk (paper §4.1): host `hostId`'s own copy, unfenced. Its own availability
   * switch: "the shared storage is unreachable" is the lock's network, not the host's disk.
   */
  ownDisk(diskId: string, hostId: string, sizeBytes: number, base?: Uint8Array): EtcdBlockStore {
    return new EtcdBlockStore(this.client, this.keys, new Availability(), this.keys.ownDisk(diskId, hostId), sizeBytes, base, false);
  }

  /** Garbage collection of a copy nobody will use again (a failed or halted host's). */
  async deleteOwnDisk(diskId: string, hostId: string): Promise<void> {
    await this.client.deleteRange(this.keys.ownDisk(diskId, hostId), "prefix");
  }

  /** A fresh VM: every copy earlier VMs of this cluster left. */
  async clearOwnDisks(): Promise<void> {
    await this.client.deleteRange(this.keys.ownDiskRoot(), "prefix");
  }

  /**
   * A new VM: every shared disk of earlier VMs goes (it runs on a new disk id, so nothing would
   * read them; without this, etcd would keep every earlier VM's blocks for the whole session).
   */
  async clearSharedDisks(): Promise<void> {
    await this.client.deleteRange(`${this.keys.prefix}disk/`, "prefix");
  }

  /** etcd's current revision (the storage panel shows it). */
  async revision(): Promise<number> {
    return (await this.client.range(this.keys.lockDir, { end: "prefix", countOnly: true })).revision;
  }

  close(): void {
    /* fetch keeps no connection of ours open */
  }
}
