import type { Availability } from "../availability.ts";
import type { DiskBlock } from "../block-store.ts";
import { StaleEpochError } from "../errors.ts";
import { baseBlock, blockSpan, copyOverlap, readOverBase } from "../blocks.ts";
import { BLOCK_SIZE } from "../schema.ts";
import { fromUtf8, utf8 } from "./base64.ts";
import { prefixEnd, type Compare, type EtcdClient, type KeyValue, type TxnOp } from "./client.ts";
import { EtcdError } from "./errors.ts";
import { blockIndexOf, blockKey, type EtcdKeys } from "./keys.ts";

/**
 * etcd's default `--max-txn-ops` is 128: a write of more blocks goes as several txns, each
 * fenced on its own. A zombie can then land the chunks it sent before the new primary's
 * test-and-set, exactly as a single write in flight at that moment could; never one after.
 */
const BLOCKS_PER_TXN = 64;
/** Blocks per range answer when exporting a whole disk (a 4 KiB block is ~5.5 KB of JSON). */
const EXPORT_PAGE = 128;

/**
 * A virtual disk in etcd, the same contract as `IdbBlockStore` (the host's `HostDisk`): 4 KiB
 * blocks copy-on-write over a read-only base image. Shared-disk writes are fenced: the txn that
 * puts the blocks also compares the lock's epoch key with the writer's epoch, so a deposed
 * primary's late write is refused (StaleEpochError) in the same atomic step. A write that
 * covers part of a block reads it first and compares its mod_revision, so two overlapping
 * writes of one host cannot lose each other's bytes. A host's own copy (non-shared disk) has
 * no other writer and is not fenced.
 */
export class EtcdBlockStore {
  constructor(
    private readonly client: EtcdClient,
    private readonly keys: EtcdKeys,
    private readonly availability: Availability,
    /** The key prefix of this disk's blocks (`keys.sharedDisk(id)` or `keys.ownDisk(id, host)`). */
    private readonly dir: string,
    readonly sizeBytes: number,
    private readonly base: Uint8Array = new Uint8Array(0),
    readonly fenced = true,
  ) {}

  read(offset: number, length: number): Promise<Uint8Array> {
    return readOverBase(this.availability, this.base, this.sizeBytes, offset, length, async (first, last) => {
      const stored = await this.blocks(first, last);
      return (index) => stored.get(index)?.value;
    });
  }

  /** Writes data at offset as the primary of `epoch`; throws StaleEpochError if fenced. */
  async write(offset: number, data: Uint8Array, epoch: number): Promise<void> {
    this.availability.check("disk write");
    const { first, last } = blockSpan(offset, data.length, this.sizeBytes);
    for (let c = first; c <= last; c += BLOCKS_PER_TXN) await this.writeChunk(offset, data, epoch, c, Math.min(last, c + BLOCKS_PER_TXN - 1));
  }

  private async writeChunk(offset: number, data: Uint8Array, epoch: number, first: number, last: number): Promise<void> {
    const end = offset + data.length;
    const partial = (i: number) => i * BLOCK_SIZE < offset || (i + 1) * BLOCK_SIZE > end;
    for (let attempt = 0; attempt < 8; attempt++) {
      // Only a block the write covers in part needs what is there now.
      const needs = [first, last].filter((i, k) => (k === 0 || last !== first) && partial(i));
      const existing = new Map<number, KeyValue>();
      for (const i of needs) for (const [j, kv] of await this.blocks(i, i)) existing.set(j, kv);
      const compare: Compare[] = this.fenced ? [this.fence(epoch)] : [];
      for (const i of needs) compare.push({ key: blockKey(this.dir, i), target: "mod", op: "=", revision: existing.get(i)?.modRevision ?? 0 });
      const puts: TxnOp[] = [];
      for (let i = first; i <= last; i++) {
        const block = partial(i) ? (existing.get(i)?.value ?? baseBlock(this.base, i)).slice() : new Uint8Array(BLOCK_SIZE);
        copyOverlap(data, offset, block, i * BLOCK_SIZE);
        puts.push({ put: { key: blockKey(this.dir, i), value: block } });
      }
      const r = await this.client.txn(compare, puts, this.fenced ? [{ range: { key: this.keys.lockEpoch } }] : []);
      if (r.succeeded) return;
      if (this.fenced) {
        const seen = r.responses[0];
        const current = seen && "range" in seen ? this.epochOf(seen.range.kvs[0]) : null;
        if (current !== epoch) throw new StaleEpochError(epoch, current ?? 0);
      }
      // The fence held: a block we read moved under us (another write of ours). Read again.
    }
    throw new EtcdError({ kind: "malformed", endpoint: this.client.endpoint, what: `blocks ${first}–${last} of ${this.dir} kept changing under 8 writes` });
  }

  /** The txn condition "the lock's epoch is still `epoch`" (a fresh cluster is epoch 0: no key). */
  private fence(epoch: number): Compare {
    return epoch === 0
      ? { key: this.keys.lockEpoch, target: "version", op: "=", revision: 0 }
      : { key: this.keys.lockEpoch, target: "value", op: "=", value: utf8(String(epoch)) };
  }

  private epochOf(kv: KeyValue | undefined): number {
    if (!kv) return 0;
    const text = fromUtf8(kv.value);
    if (!/^[1-9]\d{0,15}$/.test(text)) throw new EtcdError({ kind: "malformed", endpoint: this.client.endpoint, what: `epoch key ${this.keys.lockEpoch} holds ${JSON.stringify(text.slice(0, 20))}` });
    return Number(text);
  }

  /** Every block written over the base image, in index order (paged: a disk can be large). */
  async exportBlocks(): Promise<DiskBlock[]> {
    this.availability.check("disk export");
    const out: DiskBlock[] = [];
    const end = prefixEnd(this.dir);
    let from = this.dir;
    for (;;) {
      const r = await this.client.range(from, { end, limit: EXPORT_PAGE });
      for (const kv of r.kvs) out.push({ index: this.indexOf(kv), data: this.checked(kv) });
      if (r.kvs.length < EXPORT_PAGE) return out;
      from = r.kvs[r.kvs.length - 1]!.key + "\0";
    }
  }

  /** Makes this disk exactly base + `blocks` (used on own copies: nobody else writes them). */
  async importBlocks(blocks: DiskBlock[], _epoch: number): Promise<void> {
    this.availability.check("disk import");
    await this.client.deleteRange(this.dir, "prefix");
    for (let i = 0; i < blocks.length; i += BLOCKS_PER_TXN) {
      await this.client.txn([], blocks.slice(i, i + BLOCKS_PER_TXN).map((b) => ({ put: { key: blockKey(this.dir, b.index), value: b.data } })));
    }
  }

  async blockCount(): Promise<number> {
    return (await this.client.range(this.dir, { end: "prefix", countOnly: true })).count;
  }

  /** Stored blocks first..last, by index; a stored block that is not 4 KiB is malformed. */
  private async blocks(first: number, last: number): Promise<Map<number, KeyValue>> {
    const r = await this.client.range(blockKey(this.dir, first), { end: blockKey(this.dir, last + 1) });
    const out = new Map<number, KeyValue>();
    for (const kv of r.kvs) {
      this.checked(kv);
      out.set(this.indexOf(kv), kv);
    }
    return out;
  }

  private indexOf(kv: KeyValue): number {
    const i = blockIndexOf(this.dir, kv.key);
    if (i === null) throw new EtcdError({ kind: "malformed", endpoint: this.client.endpoint, what: `key ${kv.key} under a disk is no block` });
    return i;
  }

  private checked(kv: KeyValue): Uint8Array {
    if (kv.value.length !== BLOCK_SIZE) throw new EtcdError({ kind: "malformed", endpoint: this.client.endpoint, what: `block ${kv.key} holds ${kv.value.length} bytes, not ${BLOCK_SIZE}` });
    return kv.value;
  }


}
