// `npm run bench:classroom` (issue 14): two computers on etcd, as close as one machine gets — two
// Chromium PROCESSES with their own profiles, meeting only in etcd on loopback, the logging
// channel a WebRTC data channel between them. Per run: the first browser boots the VM, the second
// becomes its backup by FT VMotion, the first browser's process is SIGKILLed. Prints, side by side:
//   failover-ms-machines        SIGKILL of the primary's browser → the backup's first new output
//   clone-pause-ms-machines     guest-visible pause of the FT VMotion into the second browser
//   clone-transfer-ms-machines  snapshot taken → the new backup replays (the data channel)
//   disk-write-ms-{etcd,idb}    a 4 KiB block written fenced by the epoch (compare + put in one
//                               transaction), from a page: etcd's HTTP gateway vs IndexedDB
// Targets: failover ≤ 1500 ms, clone pause ≤ 300 ms, clone transfer ≤ 3000 ms.
import { chromium, type Browser, type BrowserServer, type Page } from "@playwright/test";
import { CHROMIUM_ARGS, CHROMIUM_PATH, TEST_CONTEXT } from "../tests/chromium.ts";
import { startEtcd } from "../tests/helpers/etcd-server.ts";
import { cli } from "./lib/args.ts";
import { buildAndPreview } from "./lib/browser.ts";
import { median, percentile } from "./lib/stats.ts";
import { until } from "./lib/until.ts";
import type { ProtocolEvent } from "../src/host/events.ts";

const { options } = cli({
  usage: "npm run bench:classroom -- [options]",
  about: "Two Chromium processes on etcd: failover, clone pause and transfer between them; disk write latency etcd vs IndexedDB.",
  options: {
    runs: { type: "int", min: 1, default: 3, help: "pairs booted and failed over (medians over them)" },
    writes: { type: "int", min: 10, default: 200, help: "fenced block writes per storage" },
    port: { type: "int", min: 1, max: 65535, default: Number(process.env.LOCKSTEP_PORT) || 4175, help: "the preview server's port (default: LOCKSTEP_PORT, else 4175)" },
  },
});

type Status = { hostId: string; role: string; state: string } | null;
// Strings, not functions: tsx would wrap inner functions in __name(), unknown in the page. (TabsHook, src/ui/test-hook.ts)
const hook = "(window.lockstep)";
const status = (p: Page) => p.evaluate(`${hook}?.cluster.status ?? null`) as Promise<Status>;
const text = (p: Page) => p.evaluate(`${hook}?.clientText() ?? ""`) as Promise<string>;
const events = (p: Page) => p.evaluate(`${hook}.cluster.events.map((e) => ({ ...e }))`) as Promise<ProtocolEvent[]>;
const pauseMs = (p: Page) => p.evaluate(`${hook}.cluster.clonePauseMs`) as Promise<number | null>;
const type = (p: Page, s: string) => p.evaluate(`${hook}.cluster.type(${JSON.stringify(s)})`);
const is = (role: string, state?: string) => (s: Status) => s?.role === role && (state === undefined || s.state === state);

interface Computer {
  server: BrowserServer;
  browser: Browser;
  page: Page;
}

/** A browser process of its own, its page on the etcd cluster. */
async function computer(url: string): Promise<Computer> {
  // Host candidates as plain addresses: mDNS names do not resolve here (as in machines.spec).
  const server = await chromium.launchServer({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, "--disable-features=WebRtcHideLocalIpsWithMdns"] });
  const browser = await chromium.connect(server.wsEndpoint());
  const page = await (await browser.newContext(TEST_CONTEXT)).newPage();
  await page.goto(url);
  return { server, browser, page };
}

/** Snapshot taken (the primary's event) → the target replays, in the target's feed. */
async function transferMs(target: Page, host: string): Promise<number> {
  const replaying = (e: ProtocolEvent) => e.hostId === host && e.kind === "state" && e.role === "backup" && e.state === "replaying";
  const evs = await until(() => events(target), (e) => e.some(replaying), "replaying event");
  const done = evs.filter(replaying).at(-1)!.at;
  return Math.round(done - evs.filter((x) => x.kind === "clone-snapshot" && x.at <= done).at(-1)!.at);
}

async function run(url: string, i: number): Promise<{ failover: number; pause: number; transfer: number }> {
  const started: Computer[] = [];
  try {
    const a = await computer(url);
    started.push(a);
    await until(() => status(a.page), is("primary", "alone"), "primary alone", 120_000);
    await until(() => text(a.page), (t) => /LOCKSTEP READY[\s\S]*lockstep# /.test(t), "shell prompt", 120_000);
    const b = await computer(url);
    started.push(b);
    await until(() => status(b.page), is("backup", "replaying"), "second browser replaying", 120_000);
    const transfer = await transferMs(b.page, (await status(b.page))!.hostId);
    const pause = (await until(() => pauseMs(a.page), (v) => v !== null, "clone pause"))!;
    await type(a.page, `kv set run${i} ok\n`);
    await until(() => text(b.page), (t) => t.includes(`kv set run${i} ok\r\nOK`), "kv acknowledged");
    const before = (await text(b.page)).length;
    const t0 = Date.now();
    a.server.process().kill("SIGKILL");
    await until(() => status(b.page), is("primary"), "backup live", 30_000);
    await type(b.page, `echo AFTER-KILL-${i}\n`);
    await until(() => text(b.page), (t) => t.slice(before).includes(`\nAFTER-KILL-${i}`), "first new output", 30_000);
    return { failover: Date.now() - t0, pause: Math.round(pause), transfer };
  } finally {
    for (const c of started) await c.server.close().catch(() => undefined);
  }
}

/** Fenced 4 KiB writes from a page, one at a time: etcd's txn (compare the epoch key, put) vs an IndexedDB transaction doing the same. */
async function diskWrites(page: Page, etcd: string, n: number): Promise<{ etcd: number[]; idb: number[] }> {
  return page.evaluate(`(async () => {
    const n = ${n}, block = new Uint8Array(4096).fill(7);
    const b64 = (s) => btoa(s);
    let bin = ""; for (const x of block) bin += String.fromCharCode(x);
    const value = btoa(bin);
    const post = (path, body) => fetch(${JSON.stringify(etcd)} + path, { method: "POST", body: JSON.stringify(body) }).then((r) => r.json());
    await post("/v3/kv/put", { key: b64("/bench/epoch"), value: b64("1") });
    const etcdMs = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const r = await post("/v3/kv/txn", {
        compare: [{ key: b64("/bench/epoch"), target: "VALUE", result: "EQUAL", value: b64("1") }],
        success: [{ request_put: { key: b64("/bench/block/" + (i % 1024)), value } }],
      });
      if (!r.succeeded) throw new Error("etcd fenced write refused: " + JSON.stringify(r));
      etcdMs.push(performance.now() - t);
    }
    const db = await new Promise((res, rej) => { const o = indexedDB.open("bench-disk", 1); o.onupgradeneeded = () => { o.result.createObjectStore("lock"); o.result.createObjectStore("blocks"); }; o.onsuccess = () => res(o.result); o.onerror = () => rej(o.error); });
    await new Promise((res) => { const t = db.transaction("lock", "readwrite"); t.objectStore("lock").put(1, "epoch"); t.oncomplete = res; });
    const idbMs = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await new Promise((res, rej) => {
        const t = db.transaction(["lock", "blocks"], "readwrite", { durability: "strict" });
        const get = t.objectStore("lock").get("epoch");
        get.onsuccess = () => { if (get.result === 1) t.objectStore("blocks").put(block, i % 1024); else t.abort(); };
        t.oncomplete = res; t.onabort = () => rej(new Error("fenced")); t.onerror = () => rej(t.error);
      });
      idbMs.push(performance.now() - t0);
    }
    db.close();
    return { etcd: etcdMs, idb: idbMs };
  })()`);
}

const app = await buildAndPreview(options.port);
const origin = app.url.replace(/\/$/, "");
try {
  const r = { failovers: [] as number[], pauses: [] as number[], transfers: [] as number[] };
  for (let i = 0; i < options.runs; i++) {
    // A fresh etcd per run (as machines.spec): the page's cluster name is fixed, and a survivor's VM must not carry over.
    const etcd = await startEtcd({ cors: origin });
    try {
      const x = await run(`${app.url}?cluster=etcd&etcd=${etcd.endpoint}`, i);
      r.failovers.push(x.failover);
      r.pauses.push(x.pause);
      r.transfers.push(x.transfer);
      console.log(`run ${i + 1}: failover ${x.failover} ms; clone pause ${x.pause} ms; snapshot→replaying ${x.transfer} ms`);
    } finally {
      await etcd.stop();
    }
  }
  const etcd = await startEtcd({ cors: origin });
  const c = await computer(app.url);
  let writes: { etcd: number[]; idb: number[] };
  try {
    writes = await diskWrites(c.page, etcd.endpoint, options.writes);
  } finally {
    await c.server.close();
    await etcd.stop();
  }
  const f = (x: number) => x.toFixed(2);
  console.log(`failover-ms-machines: ${median(r.failovers)} (target 1500)`);
  console.log(`clone-pause-ms-machines: ${median(r.pauses)} (target 300)`);
  console.log(`clone-transfer-ms-machines: ${median(r.transfers)} (target 3000)`);
  console.log(`disk-write-ms-etcd: p50 ${f(percentile(writes.etcd, 50))}, p99 ${f(percentile(writes.etcd, 99))}`);
  console.log(`disk-write-ms-idb: p50 ${f(percentile(writes.idb, 50))}, p99 ${f(percentile(writes.idb, 99))}`);
} finally {
  await app.close();
}
