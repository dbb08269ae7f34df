import { openDB, type DBSchema, type IDBPDatabase } from "idb";

/**
 * A side door for the logging channel's one bulky message, the FT VMotion snapshot: tabs of
 * one origin share IndexedDB, and writing 13 MiB there and reading it back is faster and
 * steadier than pushing it through a cross-tab WebRTC data channel, which stalls for seconds
 * after its first megabyte (SCTP retransmission timeouts, measured by `npm run bench:ft`).
 * Only the payload moves this way; a small reference still travels on the logging channel, in
 * order with the log, so the protocol sees one ordered channel either way.
 *
 * A database of its own: nothing here is shared state of the VM, and its schema must not
 * move with the disk's.
 */
interface BulkDb extends DBSchema {
  payloads: { key: string; value: { bytes: Uint8Array; at: number } };
}

/** A payload nobody took by then was meant for a host that died: reclaim it. */
const ABANDONED_MS = 5 * 60_000;

export class IdbBulkStore {
  private constructor(private readonly db: IDBPDatabase<BulkDb>) {}

  static async open(dbName: string): Promise<IdbBulkStore> {
    const db = await openDB<BulkDb>(`${dbName}-bulk`, 1, {
      upgrade(d) {
        d.createObjectStore("payloads");
      },
    });
    return new IdbBulkStore(db);
  }

  async put(key: string, bytes: Uint8Array, now = Date.now()): Promise<void> {
    const tx = this.db.transaction("payloads", "readwrite");
    for await (const c of tx.store.iterate()) if (now - c.value.at > ABANDONED_MS) await c.delete();
    await tx.store.put({ bytes, at: now }, key);
    await tx.done;
  }

  /** Reads and deletes: each payload has exactly one reader. */
  async take(key: string): Promise<Uint8Array> {
    const tx = this.db.transaction("payloads", "readwrite");
    const v = await tx.store.get(key);
    if (!v) throw new Error(`bulk payload ${key} is missing`);
    await tx.store.delete(key);
    await tx.done;
    return v.bytes;
  }

  close(): void {
    this.db.close();
  }
}
