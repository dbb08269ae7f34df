import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BLOCK_SIZE, StaleEpochError } from "../../../src/storage/index.ts";
import { EtcdClient, EtcdError, EtcdStorage, type EtcdFailure } from "../../../src/storage/etcd/index.ts";
import { freePort, startEtcd, type EtcdServer } from "../../helpers/etcd-server.ts";

/**
 * Bad input from etcd must give a clear, typed error and never a go-live: an etcd that answers
 * errors, one that does not answer, one that is not there, and one holding a record we did
 * not write. Also: a stale epoch's write is fenced even when it races the new primary's go-live.
 */
let etcd: EtcdServer;
let n = 0;
beforeAll(async () => {
  etcd = await startEtcd();
});
afterAll(() => etcd?.stop());

const enc = new TextEncoder();

/** The failure a promise rejected with; fails the test if it resolved or threw anything else. */
async function failureOf(p: Promise<unknown>): Promise<EtcdFailure> {
  const e = await p.then(
    (v) => new Error(`resolved with ${JSON.stringify(v)}`),
    (e: unknown) => e,
  );
  if (!(e instanceof EtcdError)) throw e;
  return e.failure;
}

/** A storage whose every request goes to `answer` instead of the network. */
const faked = (answer: typeof fetch, timeoutMs = 200) => new EtcdStorage(new EtcdClient("http://etcd.test:2379", { fetch: answer, timeoutMs }), "faked");

describe("etcd faults: a clear error, never a go-live", () => {
  it("an etcd that answers errors: http failure with its status and gRPC code", async () => {
    const s = faked(async () => new Response(JSON.stringify({ error: "etcdserver: request timed out", message: "etcdserver: request timed out", code: 14 }), { status: 503 }));
    expect(await failureOf(s.lock.testAndSet(0, "A#1"))).toEqual({ kind: "http", endpoint: "http://etcd.test:2379", status: 503, grpcCode: 14, message: "etcdserver: request timed out" });
    expect((await failureOf(s.disk("d", BLOCK_SIZE).write(0, new Uint8Array(1), 1))).kind).toBe("http");
  });

  it("an etcd that never answers: timeout after the client's deadline", async () => {
    const hang: typeof fetch = (_url, init) =>
      new Promise((_, reject) => init?.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))));
    const s = faked(hang, 150);
    const t0 = performance.now();
    expect(await failureOf(s.lock.testAndSet(0, "A#1"))).toEqual({ kind: "timeout", endpoint: "http://etcd.test:2379", ms: 150 });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
  });

  it("an etcd that is not there: unreachable (a real refused connection)", async () => {
    const port = await freePort();
    const s = EtcdStorage.open(`http://127.0.0.1:${port}`, "gone", { timeoutMs: 2000 });
    const f = await failureOf(s.lock.testAndSet(0, "A#1"));
    expect(f.kind).toBe("unreachable");
    expect(f.endpoint).toBe(`http://127.0.0.1:${port}`);
  });

  it("an answer that is not etcd's (no JSON, no header): malformed", async () => {
    expect((await failureOf(faked(async () => new Response("<html>proxy</html>")).lock.readLock())).kind).toBe("malformed");
    expect((await failureOf(faked(async () => new Response("{}")).lock.readLock())).kind).toBe("malformed");
    const badKv = JSON.stringify({ header: { revision: "3" }, kvs: [{ key: "!!notbase64", value: "x" }] });
    expect((await failureOf(faked(async () => new Response(badKv)).lock.readLock())).kind).toBe("malformed");
  });

  for (const [what, record, epoch] of [
    ["a record that is not JSON", "garbage", "1"],
    ["a record without an owner", '{"epoch": 1}', "1"],
    ["a record and an epoch key that disagree", '{"owner": "A#1", "epoch": 2}', "1"],
    ["an epoch key alone", null, "1"],
  ] as const) {
    it(`etcd holding ${what}: readLock and test-and-set refuse (malformed); nobody goes live`, async () => {
      const s = EtcdStorage.open(etcd.endpoint, `malformed-${n++}`);
      if (record !== null) await s.client.put(s.keys.lockRecord, enc.encode(record));
      await s.client.put(s.keys.lockEpoch, enc.encode(epoch));
      expect((await failureOf(s.lock.readLock())).kind).toBe("malformed");
      for (const expect0 of [0, 1, 2]) expect((await failureOf(s.lock.testAndSet(expect0, "B#1"))).kind).toBe("malformed");
      // Nothing was written over it.
      expect(new TextDecoder().decode((await s.client.range(s.keys.lockEpoch)).kvs[0]!.value)).toBe(epoch);
    });
  }

  it("a garbage epoch key fences every write and says so (malformed), writing nothing", async () => {
    const s = EtcdStorage.open(etcd.endpoint, `malformed-${n++}`);
    await s.client.put(s.keys.lockEpoch, enc.encode("one"));
    const disk = s.disk("d", BLOCK_SIZE);
    expect((await failureOf(disk.write(0, new Uint8Array([1]), 1))).kind).toBe("malformed");
    expect(await disk.blockCount()).toBe(0);
  });
});

describe("etcd fencing: a stale epoch's write never lands after the new primary's go-live", () => {
  it("a zombie primary writing while the backup goes live: every write after the test-and-set is refused", async () => {
    const s = EtcdStorage.open(etcd.endpoint, `zombie-${n++}`);
    const zombie = EtcdStorage.open(etcd.endpoint, s.cluster).disk("d", 64 * BLOCK_SIZE);
    const disk = s.disk("d", 64 * BLOCK_SIZE);
    expect((await s.lock.testAndSet(0, "A#1")).ok).toBe(true);
    // The zombie (epoch 1) keeps writing block i with byte i while B goes live (epoch 2).
    const outcomes: { i: number; ok: boolean; issuedAfterGoLive: boolean }[] = [];
    let goneLive = false;
    const zombieWrites = (async () => {
      for (let i = 1; i < 40; i++) {
        const issuedAfterGoLive = goneLive;
        const ok = await zombie.write(i * BLOCK_SIZE, new Uint8Array([i]), 1).then(
          () => true,
          (e: unknown) => {
            if (e instanceof StaleEpochError) return false;
            throw e;
          },
        );
        outcomes.push({ i, ok, issuedAfterGoLive });
      }
    })();
    const won = await s.lock.testAndSet(1, "B#1");
    goneLive = true;
    await zombieWrites;
    expect(won).toEqual({ ok: true, record: { owner: "B#1", epoch: 2 } });
    expect(outcomes.filter((o) => o.issuedAfterGoLive && o.ok)).toEqual([]);
    expect(outcomes.some((o) => o.issuedAfterGoLive)).toBe(true);
    // The new primary's write over a block the zombie wrote stays.
    const landed = outcomes.find((o) => o.ok);
    if (landed) {
      await disk.write(landed.i * BLOCK_SIZE, new Uint8Array([200]), 2);
      await expect(zombie.write(landed.i * BLOCK_SIZE, new Uint8Array([1]), 1)).rejects.toBeInstanceOf(StaleEpochError);
      expect((await disk.read(landed.i * BLOCK_SIZE, 1))[0]).toBe(200);
    }
  });
});

describe("etcd faults as the host sees them", () => {
  it("StorageOps: an unreachable or malformed etcd is 'unavailable' for the protocol (wait and retry), never a win, never a browser refusal", async () => {
    const { StorageOps } = await import("../../../src/host/storage-ops.ts");
    const { storageRefusal } = await import("../../../src/storage/index.ts");
    const port = await freePort();
    const gone = EtcdStorage.open(`http://127.0.0.1:${port}`, "gone");
    const bad = EtcdStorage.open(etcd.endpoint, `malformed-${n++}`);
    await bad.client.put(bad.keys.lockRecord, enc.encode("{}"));
    await bad.client.put(bad.keys.lockEpoch, enc.encode("1"));
    // A foreign record beside an intact fence key: nobody may go live on it, but the primary
    // of the fence's epoch keeps its disk (the fence, not the record, guards writes).
    for (const [s, writeOk] of [
      [gone, false],
      [bad, true],
    ] as const) {
      const results: unknown[] = [];
      const health: unknown[] = [];
      const ops = new StorageOps(s, s.disk("d", BLOCK_SIZE), (r) => results.push(r), (r) => health.push(r));
      ops.perform({ type: "testAndSet", reqId: 1, expectEpoch: 1, owner: "B#1", force: false });
      ops.perform({ type: "writeBlock", ioId: 2, block: 0, data: new Uint8Array(8), epoch: 1 });
      await expect.poll(() => results.length).toBe(2);
      expect(results).toEqual(
        expect.arrayContaining([
          { op: "test-and-set", reqId: 1, result: { ok: false, reason: "unavailable" } },
          writeOk ? { op: "write", ioId: 2, epoch: 1, ok: true } : { op: "write", ioId: 2, epoch: 1, ok: false, reason: "unavailable" },
        ]),
      );
      expect(health).toEqual([]);
    }
    expect(storageRefusal(new EtcdError({ kind: "timeout", endpoint: "http://x:1", ms: 5 }))).toBeNull();
  });
});
