import { afterEach, describe, expect, it } from "vitest";
import { FRESH_LOCK, type Epoch, type HostId, type LockStore, type TasResult, type WriteResult } from "../../../src/ft/protocol/index.ts";
import { Rng } from "../../../src/sim/rng.ts";

/**
 * The lock record's contract (paper §2.3 plus fencing), written once and run against every
 * backend: `LockStoreCore`, the reference the simulator proves the protocol with, and each real
 * store. A backend joins with one line: `describeLockStore("etcd", () => openEtcdLock())`.
 */
export interface LockStoreSubject {
  /** A store nobody has written yet. */
  store: LockStore;
  /** A fenced write to the disk beside the record, as the primary of `epoch`; omit if the backend has no disk. */
  fencedWrite?: (epoch: Epoch) => Promise<WriteResult>;
  close?: () => void;
}

const A = "A#1";
const B = "B#1";

export function describeLockStore(name: string, makeStore: () => LockStoreSubject | Promise<LockStoreSubject>): void {
  describe(`lock store conformance: ${name}`, () => {
    const open: LockStoreSubject[] = [];
    const fresh = async () => {
      const s = await makeStore();
      open.push(s);
      return s.store;
    };
    afterEach(() => {
      for (const s of open.splice(0)) s.close?.();
    });

    it("a store nobody has written reads as epoch 0 with no owner", async () => {
      expect(await (await fresh()).readLock()).toEqual(FRESH_LOCK);
    });

    it("test-and-set at the expected epoch wins and moves the record to {owner, epoch + 1}", async () => {
      const s = await fresh();
      expect(await s.testAndSet(0, A)).toEqual({ ok: true, record: { owner: A, epoch: 1 } });
      expect(await s.readLock()).toEqual({ owner: A, epoch: 1 });
      expect(await s.testAndSet(1, B)).toEqual({ ok: true, record: { owner: B, epoch: 2 } });
      expect(await s.readLock()).toEqual({ owner: B, epoch: 2 });
    });

    it("test-and-set at a stale or future epoch loses, returns the current record and changes nothing", async () => {
      const s = await fresh();
      await s.testAndSet(0, A);
      await s.testAndSet(1, A);
      const current = { owner: A, epoch: 2 };
      expect(await s.testAndSet(1, B)).toEqual({ ok: false, reason: "conflict", record: current });
      expect(await s.testAndSet(0, B)).toEqual({ ok: false, reason: "conflict", record: current });
      expect(await s.testAndSet(7, B)).toEqual({ ok: false, reason: "conflict", record: current });
      expect(await s.readLock()).toEqual(current);
    });

    it("a retry after a lost reply is its own win while the record is still its own, and moves nothing", async () => {
      const s = await fresh();
      await s.testAndSet(0, A);
      expect(await s.testAndSet(0, A)).toEqual({ ok: true, record: { owner: A, epoch: 1 } });
      expect(await s.readLock()).toEqual({ owner: A, epoch: 1 });
      // Once someone else moved the record on, the old request is just stale.
      await s.testAndSet(1, B);
      expect(await s.testAndSet(0, A)).toEqual({ ok: false, reason: "conflict", record: { owner: B, epoch: 2 } });
    });

    it("the winner's own earlier epoch is no retry for another owner", async () => {
      const s = await fresh();
      await s.testAndSet(0, A);
      expect(await s.testAndSet(0, B)).toEqual({ ok: false, reason: "conflict", record: { owner: A, epoch: 1 } });
    });

    it("contenders racing from one epoch: exactly one wins, every loser learns the winner", async () => {
      for (let round = 0; round < 10; round++) {
        const s = await fresh();
        const hosts = Array.from({ length: 2 + (round % 4) }, (_, i) => `${String.fromCharCode(65 + i)}#1`);
        const results = await Promise.all(hosts.map((h) => s.testAndSet(0, h)));
        const winners = hosts.filter((_, i) => results[i]!.ok);
        expect(winners).toHaveLength(1);
        const won = { owner: winners[0]!, epoch: 1 };
        for (const r of results) expect(r).toEqual(r.ok ? { ok: true, record: won } : { ok: false, reason: "conflict", record: won });
        expect(await s.readLock()).toEqual(won);
      }
    });

    it("a returned record is a copy: changing it changes nothing stored", async () => {
      const s = await fresh();
      const r = await s.testAndSet(0, A);
      if (!("record" in r)) throw new Error(`expected a record, got ${JSON.stringify(r)}`);
      r.record.epoch = 99;
      r.record.owner = B;
      const read = await s.readLock();
      read.epoch = 42;
      expect(await s.readLock()).toEqual({ owner: A, epoch: 1 });
    });

    it("seeded concurrent histories: epochs strictly increase, one go-live and one owner per epoch", async () => {
      const seed = Number(process.env.LOCK_STORE_SEED ?? 12);
      console.log(`lock store conformance (${name}): seed ${seed} (LOCK_STORE_SEED=<n> to change)`);
      const rng = new Rng(seed);
      const s = await fresh();
      const hosts = ["A#1", "B#1", "C#1", "D#1"];
      const known = new Map<HostId, Epoch>(hosts.map((h) => [h, 0]));
      const ownerOf = new Map<Epoch, HostId>();
      let epoch = 0;
      for (let step = 0; step < 80; step++) {
        // Most contenders act on what they last saw; some on a stale or a future epoch.
        const calls = Array.from({ length: rng.int(1, 3) }, () => {
          const host = rng.pick(hosts);
          const seen = known.get(host)!;
          const want = rng.chance(0.7) ? seen : rng.chance(0.5) ? rng.int(0, seen) : seen + rng.int(1, 2);
          return { host, want };
        });
        const results: TasResult[] = await Promise.all(calls.map((c) => s.testAndSet(c.want, c.host)));
        results.forEach((r, i) => {
          const { host, want } = calls[i]!;
          const where = `seed ${seed} step ${step}: ${host} expecting ${want} got ${JSON.stringify(r)}`;
          if (!("record" in r)) throw new Error(`${where}: no record`);
          expect(r.record.epoch, where).toBeGreaterThanOrEqual(epoch);
          if (r.ok) {
            expect(r.record, where).toEqual({ owner: host, epoch: want + 1 });
            const earlier = ownerOf.get(r.record.epoch);
            expect(earlier === undefined || earlier === host, `${where}: epoch already won by ${earlier}`).toBe(true);
            ownerOf.set(r.record.epoch, host);
          }
          known.set(host, r.record.epoch);
        });
        const now = await s.readLock();
        expect(now.epoch, `seed ${seed} step ${step}`).toBeGreaterThanOrEqual(epoch);
        epoch = now.epoch;
        if (epoch > 0) expect(now.owner, `seed ${seed} step ${step}`).toBe(ownerOf.get(epoch));
      }
      // Every epoch from 1 to the last was won exactly once: no epoch skipped, none won twice.
      expect([...ownerOf.keys()].sort((x, y) => x - y)).toEqual(Array.from({ length: epoch }, (_, i) => i + 1));
      expect(epoch, `seed ${seed}: the history should go live many times`).toBeGreaterThan(10);
    });

    describe("fencing: the disk beside the record accepts writes of the current epoch only", () => {
      /** The store and its fenced disk, or the test is skipped for a backend without a disk. */
      const fenced = async (skip: () => void) => {
        const s = await makeStore();
        open.push(s);
        if (!s.fencedWrite) skip();
        return { store: s.store, write: s.fencedWrite! };
      };

      it("a deposed primary's writes are refused; the new primary's go through", async (ctx) => {
        const { store, write } = await fenced(() => ctx.skip());
        await store.testAndSet(0, A);
        expect(await write(1)).toEqual({ ok: true });
        await store.testAndSet(1, B);
        expect(await write(1)).toEqual({ ok: false, reason: "stale-epoch" });
        expect(await write(2)).toEqual({ ok: true });
      });

      it("a write from an epoch nobody has reached yet is refused", async (ctx) => {
        const { store, write } = await fenced(() => ctx.skip());
        await store.testAndSet(0, A);
        expect(await write(2)).toEqual({ ok: false, reason: "stale-epoch" });
      });

      it("a lost test-and-set leaves the fence where it was", async (ctx) => {
        const { store, write } = await fenced(() => ctx.skip());
        await store.testAndSet(0, A);
        await store.testAndSet(0, B);
        expect(await write(1)).toEqual({ ok: true });
      });
    });
  });
}
