/**
 * Where the cluster's shared storage lives in etcd's one flat key space. Everything of one
 * cluster sits under its prefix, so clusters of several classrooms can share an etcd.
 *
 *   <p>lock/record                 {"owner": "A#1", "epoch": 3}   the go-live lock record
 *   <p>lock/epoch                  "3"                            the same epoch: the fence
 *   <p>disk/<disk>/<index>         4 KiB                          a shared-disk block over the base
 *   <p>own-disk/<disk>/<host>/<i>  4 KiB                          a host's own copy (non-shared, §4.1)
 *
 * The epoch is kept twice because etcd's `txn` compares a value as whole bytes: a fenced write
 * compares `lock/epoch` with its own epoch and nothing else, while the record (with its owner)
 * is what people and the test-and-set read. Both are only ever written together, in one txn.
 * Block indices are 8 hex digits, so key order is index order and a range is a byte range.
 */
export class EtcdKeys {
  constructor(readonly prefix: string) {}

  static forCluster(cluster: string): EtcdKeys {
    return new EtcdKeys(`/lockstep/${cluster}/`);
  }

  get lockDir(): string {
    return `${this.prefix}lock/`;
  }
  get lockRecord(): string {
    return `${this.prefix}lock/record`;
  }
  get lockEpoch(): string {
    return `${this.prefix}lock/epoch`;
  }

  sharedDisk(diskId: string): string {
    return `${this.prefix}disk/${diskId}/`;
  }

  ownDiskRoot(): string {
    return `${this.prefix}own-disk/`;
  }

  ownDisk(diskId: string, hostId: string): string {
    return `${this.prefix}own-disk/${diskId}/${hostId}/`;
  }
}

export function blockKey(diskPrefix: string, index: number): string {
  return diskPrefix + index.toString(16).padStart(8, "0");
}

/** The index of a block key, or null for a key that is not one. */
export function blockIndexOf(diskPrefix: string, key: string): number | null {
  const tail = key.slice(diskPrefix.length);
  return key.startsWith(diskPrefix) && /^[0-9a-f]{8}$/.test(tail) ? parseInt(tail, 16) : null;
}
