import type { Page } from "puppeteer-core";
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import type { TabsHook } from "../../src/ui/test-hook.ts";
import { badge, clientText, feedLines, launchFirefox, run, type Firefox } from "./firefox.ts";

/**
 * The kill-tab demo in Firefox (docs/kill-tab-demo.md): tabs of one profile share the origin's
 * BroadcastChannel and IndexedDB. In Firefox a tab not in front is hidden and its page timers
 * fire at most once a second; the tests keep the tabs as a user would (the newest in front, the
 * primary's tab hidden when it is closed) and check what that used to break: a departure that
 * went unnoticed for the heartbeat timeout, and beats that slowed down in hidden tabs.
 */
let ff: Firefox;
/** This test's site: each test has an origin of its own, so no tab of an earlier test (still
 * closing) is a member of its cluster, and its first tab starts a new VM. */
let site: string;
beforeAll(async () => {
  ff = await launchFirefox();
});
afterAll(() => ff?.close());
beforeEach(async () => {
  site = await ff.newSite();
});
afterEach(async () => {
  // LOCKSTEP_FF_FEED=1: every test prints its tabs' feeds, passed or not (to compare with a failure).
  if (process.env.LOCKSTEP_FF_FEED) console.log(await describeAll());
  for (const p of await ff.browser.pages()) if (p.url().startsWith(site)) await p.close();
});

const MY = '[data-testid="my-host"]';
const role = (p: Page) => badge(p, MY, "role");
const state = (p: Page) => badge(p, MY);
const conflicts = (p: Page) => p.evaluate(() => (window.lockstep as TabsHook).cluster.clientConflicts);

/** Each tab's console (the last lines go into a failure's message). */
const consoles = new WeakMap<Page, string[]>();

async function openTab(): Promise<Page> {
  const p = await ff.browser.newPage();
  const logs: string[] = [];
  consoles.set(p, logs);
  p.on("console", (m) => logs.push(`${m.type()}: ${m.text()}`));
  p.on("pageerror", (e) => logs.push(`page error: ${String(e)}`));
  await p.goto(`${site}?mode=tabs`);
  return p;
}

/** What a tab shows of itself and its cluster, for a failure's message. */
async function describe(p: Page): Promise<string> {
  return p.evaluate(() => {
    const c = (window.lockstep as TabsHook | undefined)?.cluster;
    const summary = document.querySelector('[data-testid="tab-summary"]')?.textContent ?? "";
    const alerts = [...document.querySelectorAll("[role=alert], [role=note]")].map((e) => e.textContent).join(" | ");
    const members = c?.members.map((m) => `${m.tab}:${m.hostId ?? "-"}:${m.status?.role ?? "-"}/${m.status?.state ?? "-"}`).join(" ") ?? "";
    return `${summary} [${alerts}] members ${members}; vmKnown ${c?.vmKnown}`;
  });
}

/** Every open tab of this test's site: what it shows and its whole feed (a failure's evidence). */
async function describeAll(): Promise<string> {
  const out: string[] = [];
  for (const p of await ff.browser.pages()) {
    if (!p.url().startsWith(site)) continue;
    out.push(`--- tab ${p.url()}: ${await describe(p)}\n${await feedLines(p)}\nconsole:\n${(consoles.get(p) ?? []).slice(-20).join("\n")}`);
  }
  return out.join("\n");
}

/** The first tab: it starts the VM alone; waits for the guest shell. */
async function firstTab(): Promise<Page> {
  const a = await openTab();
  try {
    await expect.poll(() => clientText(a), { timeout: 120_000, interval: 200 }).toMatch(/LOCKSTEP READY[\s\S]*lockstep# /);
  } catch (e) {
    console.log("first tab:", await describeAll());
    throw e;
  }
  return a;
}

/** A tab that joins and becomes the backup by FT VMotion. */
async function backupTab(): Promise<Page> {
  const b = await openTab();
  try {
    await expect.poll(() => state(b), { timeout: 60_000, interval: 200 }).toBe("replaying");
  } catch (e) {
    console.log("joining tab:", await describeAll());
    throw e;
  }
  return b;
}

/** Closes `victim`'s tab and returns how long until `survivor`'s host is the primary. */
async function closeAndFailover(victim: Page, survivor: Page): Promise<number> {
  const closedAt = Date.now();
  await victim.close({ runBeforeUnload: false });
  try {
    await expect.poll(() => role(survivor), { timeout: 30_000, interval: 50 }).toBe("primary");
  } catch (e) {
    console.log("survivor:", await describe(survivor), "\n", await describeAll());
    throw e;
  }
  return Date.now() - closedAt;
}

it("two tabs: the second becomes the backup; close the primary's tab: the backup goes live with every key", async () => {
  const a = await firstTab();
  const b = await backupTab();
  expect(await a.evaluate(() => document.visibilityState)).toBe("hidden");
  for (let i = 0; i < 3; i++) await run(b, `kv set k${i} v${i}`, "OK");

  const ms = await closeAndFailover(a, b);
  console.log(`firefox two tabs: failover ${ms} ms (close → primary)`);
  // The departure is known at once (a goodbye, or the closed tab's Web Lock): not after the
  // 3 s heartbeat timeout, as when Firefox dropped the goodbye posted at pagehide.
  expect(ms).toBeLessThan(2500);
  for (let i = 0; i < 3; i++) await run(b, `kv get k${i}`, `v${i}`);
  expect(await conflicts(b)).toBe(0);
});

it("three tabs, the newest in front: hidden tabs keep their pace; the hidden backup takes over, the third becomes the backup by itself", async () => {
  const a = await firstTab();
  const b = await backupTab();
  const c = await openTab();
  await expect.poll(() => role(c), { timeout: 60_000, interval: 200 }).toBe("standby");


  // Seen from the front tab, the two hidden tabs beat every 250 ms as a visible one does (the
  // page's own timers would fire once a second there, gaps up to 2 s against a 2.5 s timeout).
  const oldestBeat = await c.evaluate(async () => {
    const cluster = (window.lockstep as TabsHook).cluster;
    let worst = 0;
    for (let i = 0; i < 30; i++) {
      await new Promise((r) => setTimeout(r, 100));
      for (const m of cluster.members) if (!m.me) worst = Math.max(worst, performance.now() - m.lastSeen);
    }
    return worst;
  });
  expect(await b.evaluate(() => document.visibilityState)).toBe("hidden");
  expect(oldestBeat).toBeLessThan(800);

  for (let i = 0; i < 3; i++) await run(c, `kv set k${i} v${i}`, "OK");
  const first = await closeAndFailover(a, b);
  // Redundancy comes back without a click: the standby tab becomes the new backup.
  try {
    await expect.poll(() => state(c), { timeout: 60_000, interval: 100 }).toBe("replaying");
    await run(c, "kv set k3 v3", "OK");
  } catch (e) {
    console.log("after the first failover:", await describeAll());
    throw e;
  }
  await c.bringToFront();
  const second = await closeAndFailover(b, c);
  console.log(`firefox three tabs: first failover ${first} ms (hidden backup), second ${second} ms`);
  expect(first).toBeLessThan(2500);
  for (let i = 0; i < 4; i++) await run(c, `kv get k${i}`, `v${i}`);
  expect(await conflicts(c)).toBe(0);
});
