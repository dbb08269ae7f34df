import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EtcdTransport } from "../../../src/cluster/adapters/etcd-transport.ts";
import type { BusMsg } from "../../../src/cluster/messages.ts";
import { EtcdClient } from "../../../src/storage/etcd/index.ts";
import { startEtcd, type EtcdServer } from "../../helpers/etcd-server.ts";

/** The cluster service's transport between computers, against a real etcd on loopback. */
let etcd: EtcdServer;
let client: EtcdClient;
let n = 0;
const open: EtcdTransport[] = [];
beforeAll(async () => {
  etcd = await startEtcd();
  client = new EtcdClient(etcd.endpoint);
});
afterAll(async () => {
  for (const t of open) t.close();
  await etcd?.stop();
});

async function members(count: number, ttlSeconds = 2): Promise<EtcdTransport[]> {
  const cluster = `transport-${n++}`;
  const ts = await Promise.all(Array.from({ length: count }, (_, i) => EtcdTransport.open(client, cluster, `tab-${i}`, { ttlSeconds })));
  open.push(...ts);
  return ts;
}

/** The first message of type `t` a transport hears, or a failure after `ms`. */
function next<T extends BusMsg["t"]>(tr: EtcdTransport, t: T, pred: (m: Extract<BusMsg, { t: T }>) => boolean = () => true, ms = 10_000): Promise<Extract<BusMsg, { t: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${t} within ${ms} ms`)), ms);
    tr.on(t, (m) => {
      if (!pred(m)) return;
      clearTimeout(timer);
      resolve(m);
    });
  });
}

describe("EtcdTransport: the cluster service's members on several computers", () => {
  it("a post reaches every other member, in order per sender, bytes intact, never the sender", async () => {
    const [a, b, c] = await members(3);
    const got: Record<string, number[]> = { b: [], c: [] };
    const self: number[] = [];
    b!.on("client-input", (m) => got.b!.push(m.seq));
    c!.on("client-input", (m) => got.c!.push(m.seq));
    a!.on("client-input", (m) => self.push(m.seq));
    const last = next(c!, "client-input", (m) => m.seq === 199);
    const lastB = next(b!, "client-input", (m) => m.seq === 199);
    for (let seq = 0; seq < 200; seq++) a!.post({ t: "client-input", tab: "tab-0", seq, bytes: new Uint8Array([seq & 0xff, 0, 255]) });
    const m = await last;
    await lastB;
    expect(m.bytes).toEqual(new Uint8Array([199, 0, 255]));
    expect(got.b).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(got.c).toEqual(got.b);
    expect(self).toEqual([]);
  });

  it("a member that closes is gone at once for the others (its lease revoked: a goodbye)", async () => {
    const [a, b] = await members(2, 30);
    expect((await b!.members()).sort()).toEqual(["tab-0", "tab-1"]);
    const bye = next(b!, "bye");
    const t0 = performance.now();
    a!.close();
    expect(await bye).toEqual({ t: "bye", tab: "tab-0" });
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(await b!.members()).toEqual(["tab-1"]);
  });

  it("a member that vanishes (no goodbye, no keep-alive) is gone once its lease expires", async () => {
    const [a, b] = await members(2, 2);
    const bye = next(b!, "bye", () => true, 15_000);
    const t0 = performance.now();
    a!.vanish();
    expect(await bye).toEqual({ t: "bye", tab: "tab-0" });
    const ms = performance.now() - t0;
    console.log(`etcd transport: a vanished member's goodbye after ${ms.toFixed(0)} ms (lease TTL 2 s)`);
    expect(ms).toBeGreaterThan(1000);
  });

  it("a member that keeps its lease alive stays past several TTLs", async () => {
    const [a, b] = await members(2, 2);
    const byes: string[] = [];
    b!.on("bye", (m) => byes.push(m.tab));
    // a posts every 100 ms for 4 s (two TTLs); b hears every post, and no goodbye.
    const last = next(b!, "client-ack", (m) => m.offset === 39);
    for (let i = 0; i < 40; i++) {
      a!.post({ t: "client-ack", tab: "tab-0", offset: i });
      await new Promise((r) => setTimeout(r, 100));
    }
    await last;
    expect(await b!.members()).toContain("tab-0");
    expect(byes).toEqual([]);
  });

  it("a member whose lease etcd dropped (out of reach past its TTL) comes back: listed again, its holds put again", async () => {
    const [a, b] = await members(2, 3);
    a!.holdShared("vm");
    await expect.poll(() => b!.isHeld("vm"), { timeout: 5000 }).toBe(true);
    const listed = await client.range(`/lockstep/transport-${n - 1}/cluster/members/tab-0`);
    const lease = listed.kvs[0]!.lease!;
    expect(lease).toMatch(/^\d+$/);
    const bye = next(b!, "bye");
    await client.leaseRevoke(lease);
    expect(await bye).toEqual({ t: "bye", tab: "tab-0" });
    expect(await b!.isHeld("vm")).toBe(false);
    // Its next keep-alive (every TTL/3 = 1 s) finds the lease gone and joins again.
    await expect.poll(() => b!.members(), { timeout: 15_000 }).toContain("tab-0");
    await expect.poll(() => b!.isHeld("vm"), { timeout: 5000 }).toBe(true);
  });

  it("exclusive: sections of several members never overlap", async () => {
    const ts = await members(3);
    let inside = 0;
    let maxInside = 0;
    const order: string[] = [];
    await Promise.all(
      ts.flatMap((t) =>
        [0, 1].map(() =>
          t.exclusive("start", async () => {
            inside++;
            maxInside = Math.max(maxInside, inside);
            order.push(t.self);
            await new Promise((r) => setTimeout(r, 20));
            inside--;
          }),
        ),
      ),
    );
    expect(maxInside).toBe(1);
    expect(order).toHaveLength(6);
  });

  it("holdShared / isHeld: held while any live member holds it; a vanished holder lets go at its TTL", async () => {
    const [a, b] = await members(2, 2);
    expect(await b!.isHeld("vm")).toBe(false);
    const release = a!.holdShared("vm");
    await expect.poll(() => b!.isHeld("vm"), { timeout: 5000 }).toBe(true);
    release();
    await expect.poll(() => b!.isHeld("vm"), { timeout: 5000 }).toBe(false);
    a!.holdShared("vm");
    await expect.poll(() => b!.isHeld("vm"), { timeout: 5000 }).toBe(true);
    a!.vanish();
    await expect.poll(() => b!.isHeld("vm"), { timeout: 15_000 }).toBe(false);
  });
});
