import type { ClusterStorage } from "../cluster/ports.ts";
import { FRESH_LOCK, LockStoreCore, type LockRecord } from "../ft/protocol/lock-store.ts";
import type { HostDisk, HostStorage } from "../host/ports.ts";
import { StaleEpochError, StorageUnavailableError, type DiskBlock } from "../storage/index.ts";
import type { EventQueue } from "./event-queue.ts";
import type { Rng } from "./rng.ts";
import type { Scenario } from "./scenario.ts";
import type { SimNode } from "./sim-node.ts";
import { blockValue } from "./toy-vm.ts";

/** What the storage reports to the world: writes that land (effects, fencing) and its trace. */
export interface StorageWatch {
  landed(node: SimNode, block: number, data: Uint8Array, epoch: number, stale: boolean): void;
  trace(line: () => string): void;
}

/**
 * Who issues a storage operation: a host (its thread: busy threads send late, replies queue)
 * or a machine's page (the cluster service: never busy). A dead issuer gets no reply.
 */
export interface StorageClient {
  /** The machine: slow disks are per machine. */
  readonly name: string;
  readonly alive: boolean;
  /** When an operation issued now leaves. */
  now(): number;
  /** A reply arrives. */
  receive(fn: () => void): void;
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
  /** One error for every operation an outage fails (an Error's stack trace is costly, and nobody reads it). */
  private readonly unreachable = new StorageUnavailableError("storage unreachable");
  /** Fresh: the cluster service's new-VM sequence gives the first primary epoch 1. */
  readonly store = new LockStoreCore(FRESH_LOCK, TOY_BLOCK_BYTES);

  constructor(
    private readonly sc: Scenario,
    private readonly rng: Rng,
    private readonly unsafe: { noFencing?: boolean; noTestAndSet?: boolean },
    private readonly watch: StorageWatch,
    private readonly q: EventQueue,
  ) {}

  /** The storage ports of one host incarnation. */
  portsFor(node: SimNode): { storage: HostStorage; disk: HostDisk } {
    const store = this.store;
    const storage: HostStorage = {
      lock: {
        readLock: () => this.op(node, true, () => ({ ...store.lock })),
        // The "no test-and-set" switch sets the record whatever it holds (the split-brain hazard).
        testAndSet: (expectEpoch, owner) => this.op(node, true, () => this.testAndSet(expectEpoch, owner)),
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

  /**
   * The lock record as the cluster service of a machine's page reaches it (src/cluster's
   * ClusterStorage): the new-VM sequence resets it and test-and-sets it like any host, with the
   * same latency and outages. A peek is for display only, so it is answered at once.
   */
  clusterStorage(page: StorageClient): ClusterStorage {
    const store = this.store;
    return {
      lock: {
        peek: () => (this.down(this.q.now) ? Promise.reject(this.unreachable) : this.peeked()),
        reset: () =>
          this.op<void>(page, true, () => {
            store.lock = { ...FRESH_LOCK };
            this.watch.trace(() => `store: lock record reset by ${page.name}'s cluster service`);
            return undefined;
          }),
        testAndSet: (expectEpoch, owner) =>
          this.op(page, true, () => {
            const r = this.testAndSet(expectEpoch, owner);
            return r.ok || r.reason === "conflict" ? r : this.unreachable;
          }),
      },
      close: () => undefined,
    };
  }

  /** The record as a peek answers it: one settled promise per version of it (every tab polls it, every 2 ms). */
  private peeked(): Promise<LockRecord> {
    if (this.peek?.of !== this.store.lock) this.peek = { of: this.store.lock, answer: Promise.resolve({ ...this.store.lock }) };
    return this.peek.answer;
  }

  private peek: { of: LockRecord; answer: Promise<LockRecord> } | null = null;

  /**
   * Deletes an own disk copy (non-shared disk). As with IndexedDB, whose owner closes its
   * connection when asked to let a deletion through: once it lands the copy is empty, and every
   * operation its owner still tries fails.
   */
  deleteCopy(page: StorageClient, owner: SimNode | undefined): Promise<void> {
    return this.op<void>(page, false, () => {
      if (!owner) return undefined;
      owner.ownDisk.clear();
      owner.ownDiskDeleted = true;
      this.watch.trace(() => `store: ${owner.id}'s own disk copy deleted`);
      return undefined;
    });
  }

  // The "no test-and-set" switch sets the record whatever it holds (the split-brain hazard).
  private testAndSet(expectEpoch: number, owner: string) {
    const r = this.store.testAndSet(expectEpoch, owner, !!this.unsafe.noTestAndSet);
    this.watch.trace(() => `store: test-and-set by ${owner} expect ${expectEpoch}: ${r.ok ? "WON" : "lost"} -> epoch ${this.store.lock.epoch}`);
    return r;
  }

  /** Paper 4.1: this host's own copy, internal state of its VM (until the cluster service deletes it). */
  private ownDisk(node: SimNode): HostDisk {
    const copy = <T>(apply: () => T): Promise<T> => this.op(node, false, () => (node.ownDiskDeleted ? new Error(`${node.id}'s own disk copy was deleted`) : apply()));
    return {
      sizeBytes: 64 * TOY_BLOCK_BYTES,
      read: (offset) => copy(() => (node.ownDisk.get(offset) ?? new Uint8Array(TOY_BLOCK_BYTES)).slice()),
      write: (offset, data) =>
        copy(() => {
          node.ownDisk.set(offset, data.slice());
        }),
      exportBlocks: () => copy(() => blocksOf(node.ownDisk)),
      importBlocks: (blocks) =>
        copy(() => {
          node.ownDisk = new Map(blocks.map((b) => [b.index, b.data.slice()]));
        }),
      blockCount: () => copy(() => node.ownDisk.size),
    };
  }

  private down(t: number): boolean {
    for (const o of this.sc.storage.outages) if (t >= o.from && t < o.to) return true;
    return false;
  }

  /** Storage latency from `now`. Faults stop at healAt: an operation slowed before then lands soon after. */
  private delay(node: StorageClient, now: number): number {
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
  private op<T>(node: StorageClient, shared: boolean, apply: () => T | Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (!node.alive) return;
      const q = this.q;
      const sent = node.now();
      q.at(sent + this.delay(node, sent), () => {
        const res = shared && this.down(q.now) ? this.unreachable : apply();
        q.after(this.delay(node, q.now) / 2, () =>
          node.receive(() => {
            q.markAsync();
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
