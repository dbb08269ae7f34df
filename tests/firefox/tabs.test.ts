import type { Page } from "puppeteer-core";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import type { TabsHook } from "../../src/ui/test-hook.ts";
import { badge, clientText, launchFirefox, run, type Firefox } from "./firefox.ts";

/**
 * The kill-tab demo in Firefox (docs/kill-tab-demo.md): tabs of one profile share the origin's
 * BroadcastChannel and IndexedDB. In Firefox a tab not in front is hidden and its page timers
 * fire at most once a second; the tests keep the tabs as a user would (the newest in front, the
 * primary's tab hidden when it is closed) and check what that used to break: a departure that
 * went unnoticed for the heartbeat timeout, and beats that slowed down in hidden tabs.
 */
let ff: Firefox;
beforeAll(async () => {
  ff = await launchFirefox();
});
afterAll(() => ff?.close());
// Each test starts with no Lockstep tab open, so its first tab starts a new VM.
afterEach(async () => {
  for (const p of await ff.browser.pages()) if (p.url().includes("mode=tabs")) await p.close();
});

const MY = '[data-testid="my-host"]';
const role = (p: Page) => badge(p, MY, "role");
const state = (p: Page) => badge(p, MY);
const feed = (p: Page) => p.evaluate(() => document.querySelector('[aria-label="Protocol events"]')?.textContent ?? "");
const conflicts = (p: Page) => p.evaluate(() => (window.lockstep as TabsHook).cluster.clientConflicts);

async function openTab(): Promise<Page> {
  const p = await ff.browser.newPage();
  await p.goto(`${ff.url}?mode=tabs`);
  return p;
}

/** Closes `victim`'s tab and returns how long until `survivor`'s host is the primary. */
async function closeAndFailover(victim: Page, survivor: Page): Promise<number> {
  const closedAt = Date.now();
  await victim.close({ runBeforeUnload: false });
  try {
    await expect.poll(() => role(survivor), { timeout: 30_000, interval: 50 }).toBe("primary");
  } catch (e) {
    console.log("survivor's feed:", (await feed(survivor)).slice(0, 2000));
    throw e;
  }
  return Date.now() - closedAt;
}

it("two tabs: the second becomes the backup; close the primary's tab: the backup goes live with every key", async () => {
  const a = await openTab();
  await expect.poll(() => clientText(a), { timeout: 120_000, interval: 200 }).toMatch(/LOCKSTEP READY[\s\S]*lockstep# /);
  const b = await openTab();
  await expect.poll(() => state(b), { timeout: 60_000, interval: 200 }).toBe("replaying");
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
  const a = await openTab();
  await expect.poll(() => clientText(a), { timeout: 120_000, interval: 200 }).toMatch(/LOCKSTEP READY[\s\S]*lockstep# /);
  const b = await openTab();
  await expect.poll(() => state(b), { timeout: 60_000, interval: 200 }).toBe("replaying");
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
  await expect.poll(() => state(c), { timeout: 60_000, interval: 100 }).toBe("replaying");
  await run(c, "kv set k3 v3", "OK");
  await c.bringToFront();
  const second = await closeAndFailover(b, c);
  console.log(`firefox three tabs: first failover ${first} ms (hidden backup), second ${second} ms`);
  expect(first).toBeLessThan(2500);
  for (let i = 0; i < 4; i++) await run(c, `kv get k${i}`, `v${i}`);
  expect(await conflicts(c)).toBe(0);
});
