import { LockStoreCore } from "../ft/protocol/lock-store.ts";
import type { HostDisk, HostStorage } from "../host/ports.ts";
import { StaleEpochError, StorageUnavailableError, type DiskBlock } from "../storage/index.ts";
import type { Rng } from "./rng.ts";
import type { Scenario } from "./scenario.ts";
import type { SimNode } from "./sim-node.ts";
import { blockValue } from "./toy-vm.ts";

/** What the storage reports to the world: writes that land (effects, fencing) and its trace. */
export interface StorageWatch {
  landed(node: SimNode, block: number, data: Uint8Array, epoch: number, stale: boolean): void;
  trace(line: () => string): void;
}

/** Block size of the toy disk: a block holds one 32-bit value. */
export const TOY_BLOCK_BYTES = 4;

/**
 * Simulated storage: the lock record and the shared disk (one LockStoreCore, the reference
 * semantics of fencing and the test-and-set), reached with latency, jitter, slow disks and
 * outages; and, with a non-shared disk, each host incarnation's own copy (never unavailable,
 * never fenced). An operation reaches the store after one delay, is applied atomically there,
 * and its reply takes another: a write can land long after its issuer died or was deposed.
 */
export class SimStorage {
  readonly store = new LockStoreCore({ owner: "A#1", epoch: 1 }, TOY_BLOCK_BYTES);

  constructor(
    private readonly sc: Scenario,
    private readonly rng: Rng,
    private readonly unsafe: { noFencing?: boolean; noTestAndSet?: boolean },
    private readonly watch: StorageWatch,
    private readonly markAsync: () => void,
  ) {}

  /** The storage ports of one host incarnation. */
  portsFor(node: SimNode): { storage: HostStorage; disk: HostDisk } {
    const store = this.store;
    const storage: HostStorage = {
      lock: {
        readLock: () => this.op(node, true, () => ({ ...store.lock })),
        // The "no test-and-set" switch sets the record whatever it holds (the split-brain hazard).
        testAndSet: (expectEpoch, owner) =>
          this.op(node, true, () => {
            const r = store.testAndSet(expectEpoch, owner, !!this.unsafe.noTestAndSet);
            this.watch.trace(() => `store: test-and-set by ${owner} expect ${expectEpoch}: ${r.ok ? "WON" : "lost"} -> epoch ${store.lock.epoch}`);
            return r;
          }),
      },
    };
    if (this.sc.diskMode === "non-shared") return { storage, disk: this.ownDisk(node) };
    const disk: HostDisk = {
      sizeBytes: 64 * TOY_BLOCK_BYTES,
      read: (offset) =>
        this.op(node, true, () => {
          const r = store.readBlock(offset);
          return r.ok ? r.data : new StorageUnavailableError("disk unreachable");
        }),
      write: (offset, data, epoch) =>
        this.op<void>(node, true, () => {
          const stale = epoch < store.lock.epoch;
          const r = store.writeBlock(offset, data, epoch, !this.unsafe.noFencing);
          this.watch.trace(() => `store: write block ${offset}=${blockValue(data)} by ${node.id} epoch ${epoch}: ${r.ok ? "ok" : r.reason}`);
          if (!r.ok) return new StaleEpochError(epoch, store.lock.epoch);
          this.watch.landed(node, offset, data, epoch, stale);
          return undefined;
        }),
      exportBlocks: () => this.op(node, true, () => blocksOf(store.blocks)),
      importBlocks: () => Promise.reject(new Error("the shared disk is never imported")),
      blockCount: () => this.op(node, true, () => store.blocks.size),
    };
    return { storage, disk };
  }

  /** Paper 4.1: this incarnation's own copy, internal state of its VM. */
  private ownDisk(node: SimNode): HostDisk {
    return {
      sizeBytes: 64 * TOY_BLOCK_BYTES,
      read: (offset) => this.op(node, false, () => (node.ownDisk.get(offset) ?? new Uint8Array(TOY_BLOCK_BYTES)).slice()),
      write: (offset, data) =>
        this.op<void>(node, false, () => {
          node.ownDisk.set(offset, data.slice());
          return undefined;
        }),
      exportBlocks: () => this.op(node, false, () => blocksOf(node.ownDisk)),
      importBlocks: (blocks) =>
        this.op<void>(node, false, () => {
          node.ownDisk = new Map(blocks.map((b) => [b.index, b.data.slice()]));
          return undefined;
        }),
      blockCount: () => this.op(node, false, () => node.ownDisk.size),
    };
  }

  private down(t: number): boolean {
    for (const o of this.sc.storage.outages) if (t >= o.from && t < o.to) return true;
    return false;
  }

  /** Storage latency from `now`. Faults stop at healAt: an operation slowed before then lands soon after. */
  private delay(node: SimNode, now: number): number {
    const healed = now >= this.sc.healAt;
    let d = this.sc.storage.latency + this.rng.next() * (healed ? 0.2 : this.sc.storage.jitter);
    const slow = this.sc.slowDisk[node.name] ?? 0;
    if (!healed && slow > 0 && this.rng.chance(0.3)) d += this.rng.next() * slow;
    return Math.min(d, Math.max(0, this.sc.healAt - now) + this.sc.storage.latency + 0.2);
  }

  /**
   * One operation of `node`, leaving at its thread's time. `shared`: on the shared storage, which
   * has outages. `apply` runs at the store and returns the result, or the Error to reject with.
   * A dead issuer's operation still lands; its reply goes nowhere.
   */
  private op<T>(node: SimNode, shared: boolean, apply: () => T | Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (!node.alive) return;
      const q = node.q;
      const sent = node.thread.now();
      q.at(sent + this.delay(node, sent), () => {
        const res = shared && this.down(q.now) ? new StorageUnavailableError("storage unreachable") : apply();
        q.after(this.delay(node, q.now) / 2, () =>
          node.thread.run(() => {
            this.markAsync();
            if (res instanceof Error) reject(res);
            else resolve(res);
          }),
        );
      });
    });
  }
}

function blocksOf(m: Map<number, Uint8Array>): DiskBlock[] {
  return [...m].sort((a, b) => a[0] - b[0]).map(([index, data]) => ({ index, data: data.slice() }));
}
