import { FRESH_LOCK, type Epoch, type HostId, type LockRecord, type LockStore, type TasResult } from "../../ft/protocol/index.ts";
import type { Availability } from "../availability.ts";
import { fromUtf8, utf8 } from "./base64.ts";
import type { EtcdClient, KeyValue } from "./client.ts";
import { EtcdError } from "./errors.ts";
import type { EtcdKeys } from "./keys.ts";

/** The record as etcd holds it, with the revisions a txn compares to replace it. */
export interface StoredLock {
  record: LockRecord;
  /** mod_revision of `lock/record` and `lock/epoch`; 0 when absent (a fresh cluster). */
  recordRev: number;
  epochRev: number;
  /** The store's revision when read (the storage panel shows it). */
  revision: number;
}

/**
 * The go-live lock record (paper §2.3) on etcd, held to `LockStoreCore` by the conformance
 * suite. Test-and-set is one `txn`: it compares both keys' mod_revision with what was just
 * read and writes the next {owner, epoch} only if neither moved, so of two hosts racing from
 * one epoch exactly one txn succeeds; the loser's txn returns the record as it now is. A
 * record that is not one we wrote rejects with `malformed`: no host can go live on it.
 */
export class EtcdLockRecord implements LockStore {
  constructor(
    private readonly client: EtcdClient,
    private readonly keys: EtcdKeys,
    private readonly availability: Availability,
  ) {}

  async readLock(): Promise<LockRecord> {
    this.availability.check("read lock record");
    return (await this.read()).record;
  }

  /** Past this host's availability switch, null if never written: for display, never a decision. */
  async peek(): Promise<(LockRecord & { revision: number }) | null> {
    const s = await this.read();
    return s.recordRev === 0 ? null : { ...s.record, revision: s.revision };
  }

  /** Never answers 'unavailable': an etcd that cannot be reached or read rejects (EtcdError). */
  async testAndSet(expectEpoch: Epoch, owner: HostId): Promise<Exclude<TasResult, { reason: "unavailable" }>> {
    this.availability.check("test-and-set");
    let current = await this.read();
    // Each lost txn means the record moved; it only moves forward (or back to 0 on a new VM),
    // so a second pass almost always settles. The bound turns a pathological churn into an error.
    for (let attempt = 0; attempt < 8; attempt++) {
      const { record } = current;
      // A retry after a lost reply finds its own earlier win: that is a win, not a conflict.
      if (record.epoch === expectEpoch + 1 && record.owner === owner) return { ok: true, record: { ...record } };
      if (record.epoch !== expectEpoch) return { ok: false, reason: "conflict", record: { ...record } };
      const next: LockRecord = { owner, epoch: expectEpoch + 1 };
      const r = await this.client.txn(
        [
          { key: this.keys.lockRecord, target: "mod", op: "=", revision: current.recordRev },
          { key: this.keys.lockEpoch, target: "mod", op: "=", revision: current.epochRev },
        ],
        [{ put: { key: this.keys.lockRecord, value: utf8(JSON.stringify(next)) } }, { put: { key: this.keys.lockEpoch, value: utf8(String(next.epoch)) } }],
        [{ range: { key: this.keys.lockDir, end: "prefix" } }],
      );
      if (r.succeeded) return { ok: true, record: next };
      const seen = r.responses[0];
      if (!seen || !("range" in seen)) throw new EtcdError({ kind: "malformed", endpoint: this.client.endpoint, what: "a failed test-and-set without the record" });
      current = this.decode(seen.range.kvs, seen.range.revision);
    }
    throw new EtcdError({ kind: "malformed", endpoint: this.client.endpoint, what: "the lock record kept changing under 8 test-and-sets" });
  }

  /** A fresh cluster: epoch 0, nobody live (both keys gone). Only the new-VM path calls this. */
  async reset(): Promise<void> {
    this.availability.check("reset lock record");
    await this.client.deleteRange(this.keys.lockDir, "prefix");
  }

  async read(): Promise<StoredLock> {
    const r = await this.client.range(this.keys.lockDir, { end: "prefix" });
    return this.decode(r.kvs, r.revision);
  }

  /** Both keys or neither, agreeing on the epoch; anything else is somebody else's data. */
  decode(kvs: KeyValue[], revision: number): StoredLock {
    const rec = kvs.find((k) => k.key === this.keys.lockRecord);
    const ep = kvs.find((k) => k.key === this.keys.lockEpoch);
    if (!rec && !ep) return { record: { ...FRESH_LOCK }, recordRev: 0, epochRev: 0, revision };
    const bad = (what: string) => new EtcdError({ kind: "malformed", endpoint: this.client.endpoint, what: `lock record ${this.keys.lockDir}: ${what}` });
    if (!rec || !ep) throw bad(`${rec ? "epoch" : "record"} key missing`);
    const record = parseRecord(fromUtf8(rec.value));
    if (!record) throw bad(`record ${JSON.stringify(fromUtf8(rec.value).slice(0, 80))} is not {owner, epoch}`);
    const fence = fromUtf8(ep.value);
    if (fence !== String(record.epoch)) throw bad(`epoch key says ${JSON.stringify(fence.slice(0, 20))}, record says ${record.epoch}`);
    return { record, recordRev: rec.modRevision, epochRev: ep.modRevision, revision };
  }
}

export function parseRecord(text: string): LockRecord | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== "object" || v === null) return null;
  const { owner, epoch } = v as { owner?: unknown; epoch?: unknown };
  if (!Number.isSafeInteger(epoch) || (epoch as number) < 1) return null;
  if (typeof owner !== "string" || owner === "") return null;
  return { owner, epoch: epoch as number };
}
