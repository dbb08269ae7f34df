// The kill-tab half of `npm run bench:ft`: hosts in separate tabs of one persistent browser
// profile (shared BroadcastChannel and IndexedDB), measured side by side for both ways an FT
// VMotion snapshot can travel between tabs (the logging channel, or IndexedDB):
//   failover-ms-tabs        close the primary's tab → the backup tab is live and the client
//                           sees the first new output, median
//   failover-ms-tabs-crash  the same, but the primary's renderer crashes (CDP Page.crash): no
//                           goodbye, no pagehide; only what the browser does for a dead process
//   clone-pause-ms-tabs     guest-visible pause of the automatic FT VMotion into the standby tab
//   clone-transfer-ms-tabs-{storage,channel}
//                           snapshot taken → the new backup replays, by transfer path
import type { BrowserContext, Page } from "@playwright/test";
import { withProfile } from "./lib/browser.ts";
import { median } from "./lib/stats.ts";
import { until } from "./lib/until.ts";
import type { ProtocolEvent } from "../src/host/events.ts";
import type { TabsHook } from "../src/ui/test-hook.ts";

type Status = { hostId: string; role: string; state: string } | null;
/** The target host reports it replays: the clone is restored. */
const isReplaying = (e: ProtocolEvent) => e.kind === "state" && e.role === "backup" && e.state === "replaying";
const status = (p: Page) => p.evaluate(() => (window.lockstep as TabsHook).cluster.status as Status);
const text = (p: Page) => p.evaluate(() => (window.lockstep as TabsHook).clientText() as string);
const events = (p: Page) => p.evaluate(() => (window.lockstep as TabsHook).cluster.events.map((e) => ({ ...e })) as ProtocolEvent[]);
const pauseMs = (p: Page) => p.evaluate(() => (window.lockstep as TabsHook).cluster.clonePauseMs as number | null);
const type = (p: Page, s: string) => p.evaluate((s) => (window.lockstep as TabsHook).cluster.type(s), s);


const is = (role: string, state?: string) => (s: Status) => s?.role === role && (state === undefined || s.state === state);

async function tab(ctx: BrowserContext, url: string, first = false): Promise<Page> {
  const p = first ? (ctx.pages()[0] ?? (await ctx.newPage())) : await ctx.newPage();
  await p.goto(url);
  return p;
}

/** Snapshot taken (primary's event) → the target host reports replaying, in the target's feed. */
async function transferMs(target: Page, targetHost: string): Promise<number> {
  const evs = await until(() => events(target), (e) => e.some((x) => x.hostId === targetHost && isReplaying(x)), "replaying event");
  const done = evs.filter((x) => x.hostId === targetHost && isReplaying(x)).at(-1)!.at;
  const shot = evs.filter((x) => x.kind === "clone-snapshot" && x.at <= done).at(-1)!.at;
  return Math.round(done - shot);
}

export interface TabsResult {
  failovers: number[];
  pauses: number[];
  transfers: number[];
}

/** One run: A primary, B its backup, C a standby; close (or crash) A; B goes live; C becomes the backup. */
export function tabsRun(base: string, snapshotVia: "storage" | "channel", i: number, kill: "close" | "crash" = "close"): Promise<{ failover: number; pause: number; transfers: number[] }> {
  return withProfile(async (ctx) => {
    const url = `${base}?mode=tabs&snapshot=${snapshotVia}`;
    const a = await tab(ctx, url, true);
    await until(() => status(a), is("primary", "alone"), "primary alone");
    await until(() => text(a), (t) => /LOCKSTEP READY[\s\S]*lockstep# /.test(t), "shell prompt");
    const b = await tab(ctx, url);
    await until(() => status(b), is("backup", "replaying"), "backup replaying");
    const bHost = (await status(b))!.hostId;
    const t1 = await transferMs(b, bHost);
    const c = await tab(ctx, url);
    await until(() => status(c), is("standby"), "standby");
    const cHost = (await status(c))!.hostId;

    const before = (await text(b)).length;
    const cdp = kill === "crash" ? await ctx.newCDPSession(a) : null;
    const t0 = Date.now();
    if (cdp) {
      // Never answers: the renderer is gone. The tab stays open, showing the crash page.
      void cdp.send("Page.crash").catch(() => undefined);
    } else await a.close();
    await until(() => status(b), is("primary"), "backup tab live", 30_000);
    await type(b, `echo AFTER-CLOSE-${i}\n`);
    await until(() => text(b), (t) => t.slice(before).includes(`\nAFTER-CLOSE-${i}`), "first new output", 30_000);
    const failover = Date.now() - t0;

    await until(() => status(c), is("backup", "replaying"), "standby became the backup", 120_000);
    const pause = await until(() => pauseMs(b), (v) => v !== null, "clone pause");
    const t2 = await transferMs(c, cHost);
    return { failover, pause: pause!, transfers: [t1, t2] };
  });
}

export async function benchTabs(base: string, runs: number): Promise<void> {
  if (runs <= 0) return; // BENCH_TABS=0: the one-page lines only
  const r = { storage: { failovers: [], pauses: [], transfers: [] } as TabsResult, channel: { failovers: [], pauses: [], transfers: [] } as TabsResult };
  const crashes: number[] = [];
  // Alternating, so drift in machine load hits both paths alike.
  for (let i = 0; i < runs; i++) {
    for (const via of ["storage", "channel"] as const) {
      const x = await tabsRun(base, via, i);
      r[via].failovers.push(x.failover);
      r[via].pauses.push(x.pause);
      r[via].transfers.push(...x.transfers);
      console.log(`tabs run ${i + 1} (snapshot via ${via}): failover ${x.failover} ms; clone pause ${x.pause} ms; snapshot→replaying ${x.transfers.join(", ")} ms`);
    }
    const c = await tabsRun(base, "storage", i, "crash");
    crashes.push(c.failover);
    console.log(`tabs run ${i + 1} (primary's tab crashes): failover ${c.failover} ms`);
  }
  // The product's default path (storage) is what the headline lines report.
  console.log(`failover-ms-tabs: ${median(r.storage.failovers)}`);
  console.log(`failover-ms-tabs-crash: ${median(crashes)}`);
  console.log(`clone-pause-ms-tabs: ${median(r.storage.pauses)}`);
  console.log(`clone-transfer-ms-tabs-storage: ${median(r.storage.transfers)}`);
  console.log(`clone-transfer-ms-tabs-channel: ${median(r.channel.transfers)}`);
  console.log(`clone-transfer-ratio-channel-vs-storage: ${(median(r.channel.transfers) / median(r.storage.transfers)).toFixed(2)}`);
}
