// npm run bench:ft — the one-tab FT system in headless Chromium, measured side by side:
//   ft-overhead-ratio   guest throughput with the backup in lockstep ÷ the same engine alone
//                       (FT off, one VM), alternating pairs, median
//   ft-overhead-ratio-matched
//                       the same, but the FT-off baseline runs two VMs with the same workload at
//                       once (two pages, a worker each), so both sides keep two VMs on the cores
//                       and the ratio shows what FT itself costs
//   ft-boot-to-shell-ms page load → shell prompt with the backup replaying (the pair in lockstep)
//   output-latency-ms-p50-{on,off}, output-latency-added-ms-p50
//                       keystroke → echo in the client, FT on vs off (what the Output Rule costs)
//   log-mbps-idle/busy  every byte the primary puts on the logging channel (log batches, record
//                       and message framing, heartbeats; acks flow the other way), idle shell vs
//                       a busy workload; log-entry-mbps-idle: the encoded log batches alone
//   lag-ms-p50/p99      the backup's replay lag, sampled during the busy workload
//   failover-ms         kill the primary → the promoted backup's first new output, median
//   clone-pause-ms      guest-visible pause of FT VMotion (restore redundancy), median
//   host-stall-ms-p99/max
//                       the stall meter (src/host/loop-probe.ts): how late each host worker's
//                       event loop came to a 10 ms timer, over every turn of every host, during
//                       boot, the busy workload, failover and clone (and per phase)
//   host-stall-by-source
//                       the late turns of ≥ 50 ms by what the host worker was doing (LoopProbe's
//                       lateBy: record/replay slices, engine-start, clone-snapshot, channel-message, …), max/count
// Each failover line also lists the survivor's events after the kill (detected, going live, live), ms after it.
// and then the kill-tab lines of scripts/bench-ft-tabs.ts (failover-ms-tabs, failover-ms-tabs-crash, clone-pause-ms-tabs).
// `--tabs-only` skips the one-page part; BENCH_TABS sets the runs per snapshot path (default 5, so failover-ms-tabs is a median of 5; 0 skips them).
import { spawn } from "node:child_process";
import type { Browser, Page } from "@playwright/test";
import { cli } from "./lib/args.ts";
import { buildAndPreview, withBrowser } from "./lib/browser.ts";
import { median, percentile } from "./lib/stats.ts";
import { until } from "./lib/until.ts";
import { between, echoLatencies, loopGaps, StallPhases } from "./lib/ft-measure.ts";
import { benchTabs } from "./bench-ft-tabs.ts";
import type { ProtocolEvent } from "../src/host/events.ts";
import type { OnePageHook } from "../src/ui/test-hook.ts";

const { options, env } = cli({
  usage: "npm run bench:ft -- [options]",
  about: "The FT system in headless Chromium: overhead vs FT off, log Mbit/s, lag, failover, clone pause; then the same across tabs.",
  options: {
    "tabs-only": { type: "flag", help: "skip the one-page part: only the kill-tab lines" },
    hog: { type: "flag", help: "run a CPU hog (a busy loop in another process) for the whole bench" },
    port: { type: "int", min: 1, max: 65535, default: Number(process.env.LOCKSTEP_PORT) || 4175, help: "the preview server's port (default: LOCKSTEP_PORT, else 4175)" },
  },
  env: {
    BENCH_PAIRS: { type: "int", min: 1, default: 3, help: "FT off / FT on pairs for ft-overhead-ratio, log rates and lag" },
    BENCH_FAILOVERS: { type: "int", min: 1, default: 5, help: "kills of the primary for failover-ms and clone-pause-ms" },
    BENCH_TABS: { type: "int", min: 0, default: 5, help: "kill-tab runs per snapshot path; 0 skips them" },
    BENCH_KEYS: { type: "int", min: 1, default: 15, help: "keystrokes per page for output-latency" },
  },
});
const PAIRS = env.BENCH_PAIRS;
const FAILOVERS = env.BENCH_FAILOVERS;
// A CPU-bound shell loop: no output until it ends, so the Output Rule cannot hide in it.
const CPU_LOOP = "i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; echo CPU-DONE";
const DISK_LOOP = "for i in $(seq 1 30); do kv set bench$i value$i >/dev/null; done; echo DISK-DONE";

/** The browser and the served app every page of the one-page part opens. */
type App = { url: string; browser: Browser };

const text = (p: Page) => p.evaluate(() => (window.lockstep as OnePageHook).clientText() as string);
const statuses = (p: Page) => p.evaluate(() => (window.lockstep as OnePageHook).cluster.hosts.map((h) => ({ ...h.status!, dead: h.dead })));
const events = (p: Page) => p.evaluate(() => (window.lockstep as OnePageHook).cluster.events.map((e) => ({ ...e })) as ProtocolEvent[]);
const type = (p: Page, s: string) => p.evaluate((s) => (window.lockstep as OnePageHook).cluster.type(s), s);


const stalls = new StallPhases();
/** Go-live events no kill caused: a host declared a live peer failed (a false failover). */
let falseFailovers = 0;
const goLives = async (p: Page) => (await events(p)).filter((e) => e.kind === "go-live").length;
const bootToShell: number[] = [];

/** Opens the app (FT on or off) and waits for the shell, and with FT for the backup replaying. */
async function open(app: App, ft: boolean): Promise<Page> {
  const ctx = await app.browser.newContext();
  const page = await ctx.newPage();
  const t0 = Date.now();
  await page.goto(ft ? app.url : `${app.url}?ft=off`);
  await until(() => text(page), (t) => /LOCKSTEP READY[\s\S]*lockstep# /.test(t), "shell prompt");
  if (ft) {
    await until(() => statuses(page), (s) => s.some((h) => h.state === "replaying"), "backup replaying").catch(async (e) => {
      throw new Error(`${(e as Error).message}; hosts: ${JSON.stringify(await statuses(page))}; events: ${(await events(page)).map((e) => `${e.hostId} ${e.text}`).join(" | ")}`);
    });
    bootToShell.push(Date.now() - t0);
    // Boot: everything each host's meter saw since it started.
    stalls.add("boot", between(new Map(), await loopGaps(page)));
  }
  return page;
}

/** Runs a command and returns real ms until `marker` appears on a line of its own. */
async function timed(page: Page, cmd: string, marker: string): Promise<number> {
  const before = (await text(page)).length;
  const t0 = Date.now();
  await type(page, cmd + "\n");
  await until(() => text(page), (t) => t.slice(before).includes(`\n${marker}`), marker, 300_000);
  return Date.now() - t0;
}

// A busy loop in a process of its own takes one core for the whole run (issue 15: no false failovers under load).
const hog = options.hog ? spawn(process.execPath, ["-e", "for(;;){}"], { stdio: "ignore" }) : null;
process.on("exit", () => hog?.kill());
if (hog) console.log(`CPU hog: pid ${hog.pid}`);
await withBrowser(() => buildAndPreview(options.port), async (app) => {
  if (!options["tabs-only"]) await onePage(app);
  await benchTabs(app.url, env.BENCH_TABS);
});
hog?.kill();

/** Statuses of the primary, read over ~2 s: channel bytes/s and log-entry bytes/s (FlowCounters). */
async function idleRates(ft: Page): Promise<{ channel: number; entries: number }> {
  const primary = async () => (await statuses(ft)).find((h) => h.role === "primary")!;
  const channel: number[] = [];
  const a = await primary();
  const t0 = Date.now();
  for (let k = 0; k < 10; k++) {
    channel.push((await primary()).logBytesPerSec);
    await new Promise((r) => setTimeout(r, 200));
  }
  const b = await primary();
  const entries = ((b.flow?.sent.entryBytes ?? 0) - (a.flow?.sent.entryBytes ?? 0)) / ((Date.now() - t0) / 1000);
  return { channel: median(channel), entries };
}

/** Where a failover's time went: the events after the kill of `primary` until the go-live, ms after the kill. */
async function afterKill(page: Page, primary: string): Promise<string> {
  const ev = await events(page);
  const kill = ev.find((e) => e.kind === "kill" && e.hostId === primary);
  if (!kill) return "no kill event";
  const live = ev.findIndex((e) => e.kind === "go-live" && e.at >= kill.at);
  const upTo = live < 0 ? ev.length : live + 1;
  return ev
    .slice(0, upTo)
    .filter((e) => e.at >= kill.at && e !== kill && e.hostId !== primary)
    .map((e) => `+${Math.round(e.at - kill.at)} ${e.kind === "state" ? `${e.role}/${e.state}` : e.kind}`)
    .join(", ");
}

async function onePage(app: App): Promise<void> {
  // 1. Overhead, alternating FT off / on so drift in machine load hits both alike.
  const ratios: number[] = [];
  const matchedRatios: number[] = [];
  const idleBps: number[] = [];
  const idleEntryBps: number[] = [];
  const busyBps: number[] = [];
  const lags: number[] = [];
  const echoOn: number[] = [];
  const echoOff: number[] = [];
  for (let i = 0; i < PAIRS; i++) {
    // Matched baseline: two FT-off VMs run the loop at once, as primary and backup do with FT on.
    const [m1, m2] = await Promise.all([open(app, false), open(app, false)]);
    const [mA, mB] = await Promise.all([timed(m1, CPU_LOOP, "CPU-DONE"), timed(m2, CPU_LOOP, "CPU-DONE")]);
    await Promise.all([m1.context().close(), m2.context().close()]);
    const matchedMs = (mA + mB) / 2;

    const solo = await open(app, false);
    const soloMs = await timed(solo, CPU_LOOP, "CPU-DONE");
    echoOff.push(...(await echoLatencies(solo, env.BENCH_KEYS)));
    await solo.context().close();

    const ft = await open(app, true);
    // Idle log rate: a shell at its prompt for a few seconds (timer interrupts only).
    await new Promise((r) => setTimeout(r, 3000));
    const idle = await idleRates(ft);
    idleBps.push(idle.channel);
    idleEntryBps.push(idle.entries);
    echoOn.push(...(await echoLatencies(ft, env.BENCH_KEYS)));
    const busy: number[] = [];
    let running = true;
    const sampler = (async () => {
      while (running) {
        const s = await statuses(ft);
        const p = s.find((h) => h.role === "primary");
        const b = s.find((h) => h.role === "backup");
        if (p) busy.push(p.logBytesPerSec);
        if (b) lags.push(b.lagMs);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const ftMs = await stalls.measure("busy", ft, async () => {
      const ms = await timed(ft, CPU_LOOP, "CPU-DONE");
      await timed(ft, DISK_LOOP, "DISK-DONE");
      return ms;
    });
    running = false;
    await sampler;
    falseFailovers += await goLives(ft);
    busyBps.push(median(busy));
    ratios.push(soloMs / ftMs);
    matchedRatios.push(matchedMs / ftMs);
    console.log(
      `pair ${i + 1}: alone ${soloMs} ms, two alone at once ${mA}/${mB} ms, FT ${ftMs} ms (ratio ${(soloMs / ftMs).toFixed(3)}, matched ${(matchedMs / ftMs).toFixed(3)}); ` +
        `echo p50 off ${percentile(echoOff, 50).toFixed(1)} / on ${percentile(echoOn, 50).toFixed(1)} ms`,
    );
    await ft.context().close();
  }

  // 2. Failover and clone pause.
  const failovers: number[] = [];
  const pauses: number[] = [];
  for (let i = 0; i < FAILOVERS; i++) {
    const page = await open(app, true);
    const s = await statuses(page);
    const primary = s.find((h) => h.role === "primary")!.hostId;
    const backup = s.find((h) => h.role === "backup")!.hostId;
    const before = (await text(page)).length;
    falseFailovers += await goLives(page);
    await stalls.measure("failover", page, async () => {
      const t0 = Date.now();
      await page.evaluate((id) => (window.lockstep as OnePageHook).cluster.kill(id), primary);
      await type(page, `echo AFTER-FAILOVER-${i}\n`);
      await until(() => text(page), (t) => t.slice(before).includes(`\nAFTER-FAILOVER-${i}`), "first output of the new primary", 30_000);
      failovers.push(Date.now() - t0);
    });
    // Restore redundancy from the new primary and read the pause it reports.
    await until(() => statuses(page), (st) => st.some((h) => h.hostId === backup && h.state === "alone"), "alone");
    await stalls.measure("clone", page, async () => {
      await page.evaluate(() => (window.lockstep as OnePageHook).cluster.restoreRedundancy());
      const ev = await until(() => events(page), (e) => e.some((x) => x.kind === "clone-snapshot"), "clone", 60_000);
      const shot = ev.find((x) => x.kind === "clone-snapshot");
      pauses.push(shot?.kind === "clone-snapshot" ? Math.round(shot.pauseMs) : NaN);
      // Until the new backup replays: its restore is part of the clone's cost to the hosts.
      await until(() => statuses(page), (st) => st.some((h) => h.role === "backup" && h.state === "replaying"), "new backup replaying", 60_000);
    });
    console.log(`failover ${i + 1}: ${failovers.at(-1)} ms; clone pause ${pauses.at(-1)} ms; after the kill: ${await afterKill(page, primary)}`);
    await page.context().close();
  }

  const mbps = (bps: number) => ((bps * 8) / 1e6).toFixed(4);
  console.log(`ft-overhead-ratio: ${median(ratios).toFixed(3)}`);
  console.log(`ft-overhead-ratio-matched: ${median(matchedRatios).toFixed(3)}`);
  console.log(`ft-boot-to-shell-ms: ${median(bootToShell)}`);
  console.log(`output-latency-ms-p50-off: ${percentile(echoOff, 50).toFixed(1)}`);
  console.log(`output-latency-ms-p50-on: ${percentile(echoOn, 50).toFixed(1)}`);
  console.log(`output-latency-added-ms-p50: ${(percentile(echoOn, 50) - percentile(echoOff, 50)).toFixed(1)}`);
  console.log(`log-mbps-idle: ${mbps(median(idleBps))}`);
  console.log(`log-entry-mbps-idle: ${mbps(median(idleEntryBps))}`);
  console.log(`log-mbps-busy: ${mbps(median(busyBps))}`);
  console.log(`lag-ms-p50: ${percentile(lags, 50).toFixed(1)}`);
  console.log(`lag-ms-p99: ${percentile(lags, 99).toFixed(1)}`);
  console.log(`failover-ms: ${median(failovers)}`);
  console.log(`clone-pause-ms: ${median(pauses)}`);
  for (const l of stalls.lines()) console.log(l);
  console.log(`false-failovers: ${falseFailovers}`);
}
