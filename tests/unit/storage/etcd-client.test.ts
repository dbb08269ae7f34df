import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EtcdClient, EtcdError, prefixEnd, type WatchEvent } from "../../../src/storage/etcd/index.ts";
import { startEtcd, type EtcdServer } from "../../helpers/etcd-server.ts";

/** The gateway client against a real etcd: what the cluster transport and the panel rely on. */
let etcd: EtcdServer;
let client: EtcdClient;
let n = 0;
beforeAll(async () => {
  etcd = await startEtcd();
  client = new EtcdClient(etcd.endpoint);
});
afterAll(() => etcd?.stop());

const enc = new TextEncoder();
const dec = new TextDecoder();
const ns = () => `/client-test/${n++}/`;

describe("etcd client over the v3 JSON gateway", () => {
  it("put, range by prefix (keys in byte order), count, delete; revisions move forward", async () => {
    const p = ns();
    const r1 = await client.put(`${p}b`, enc.encode("2"));
    const r2 = await client.put(`${p}a`, enc.encode("1"));
    expect(r2).toBeGreaterThan(r1);
    const all = await client.range(p, { end: "prefix" });
    expect(all.kvs.map((k) => [k.key, dec.decode(k.value), k.version])).toEqual([
      [`${p}a`, "1", 1],
      [`${p}b`, "2", 1],
    ]);
    expect(all.revision).toBe(r2);
    expect((await client.range(p, { end: "prefix", countOnly: true })).count).toBe(2);
    expect(await client.deleteRange(p, "prefix")).toBe(2);
    expect((await client.range(p, { end: "prefix" })).kvs).toEqual([]);
  });

  it("binary values survive the base64 round trip", async () => {
    const key = `${ns()}bin`;
    const bytes = new Uint8Array(4096).map((_, i) => (i * 131) & 0xff);
    await client.put(key, bytes);
    expect((await client.range(key)).kvs[0]!.value).toEqual(bytes);
  });

  it("prefixEnd is the first key after the prefix", () => {
    expect(prefixEnd("/a/")).toBe("/a0");
    expect(prefixEnd("ab")).toBe("ac");
  });

  it("a lease keeps its keys while kept alive; revoked, they are gone and keep-alive says 0", async () => {
    const key = `${ns()}member`;
    const lease = await client.leaseGrant(5);
    expect(lease.ttl).toBe(5);
    await client.put(key, enc.encode("here"), lease.id);
    expect(await client.leaseKeepAlive(lease.id)).toBe(5);
    await client.leaseRevoke(lease.id);
    expect((await client.range(key)).kvs).toEqual([]);
    expect(await client.leaseKeepAlive(lease.id)).toBe(0);
  });

  it("watch streams puts and deletes under a prefix, in order, from where it started", async () => {
    const p = ns();
    const seen: WatchEvent[] = [];
    let wake: () => void = () => undefined;
    const w = client.watch(p, { end: "prefix" }, (evs) => {
      seen.push(...evs);
      if (seen.length >= 3) wake();
    }, (f) => {
      if (f) throw new EtcdError(f);
    });
    await w.ready;
    const done = new Promise<void>((r) => (wake = r));
    await client.put(`${p}x`, enc.encode("1"));
    await client.put(`${p}y`, enc.encode("2"));
    await client.deleteRange(`${p}x`);
    await client.put(`/elsewhere/${n}`, enc.encode("not watched"));
    await done;
    w.cancel();
    expect(seen.map((e) => [e.type, e.kv.key, dec.decode(e.kv.value)])).toEqual([
      ["put", `${p}x`, "1"],
      ["put", `${p}y`, "2"],
      ["delete", `${p}x`, ""],
    ]);
  });

  it("compaction: history before it is gone (HTTP error with gRPC code 11), the present is intact", async () => {
    const key = `${ns()}block`;
    const first = await client.put(key, enc.encode("v0"));
    let last = first;
    for (let i = 1; i <= 20; i++) last = await client.put(key, enc.encode(`v${i}`));
    await client.compact(last);
    const old = await fetch(`${etcd.endpoint}/v3/kv/range`, { method: "POST", body: JSON.stringify({ key: btoa(key), revision: String(first) }) });
    expect(old.status).toBeGreaterThanOrEqual(400);
    expect(((await old.json()) as { code: number }).code).toBe(11);
    expect(dec.decode((await client.range(key)).kvs[0]!.value)).toBe("v20");
    // A watch asked to start inside the compacted history ends with that failure, not silently.
    const ended = await new Promise<unknown>((resolve) => client.watch(key, { startRevision: first }, () => undefined, resolve));
    expect(ended).toMatchObject({ kind: "http", grpcCode: 11 });
  });
});
