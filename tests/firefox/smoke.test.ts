import { afterAll, beforeAll, expect, it } from "vitest";
import type { OnePageHook } from "../../src/ui/test-hook.ts";
import { badge, clientText, feedLines, launchFirefox, run, type Firefox } from "./firefox.ts";

/**
 * Firefox smoke (issue 17): the one-page pair boots in lockstep, the kv store answers, and a
 * kill-primary failover keeps what was acknowledged.
 */
let ff: Firefox;
beforeAll(async () => {
  ff = await launchFirefox();
});
afterAll(() => ff?.close());

const host = (id: string) => `[aria-label="${id} host"]`;

it("boots the pair, kv set, kills the primary: the backup goes live with the key", async () => {
  const t0 = Date.now();
  const page = await ff.browser.newPage();
  const logs: string[] = [];
  page.on("console", (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => logs.push(`page error: ${String(e)}`));
  await page.goto(ff.url);
  try {
    await expect.poll(() => badge(page, host("A#1")), { timeout: 120_000, interval: 200 }).toBe("recording");
    await expect.poll(() => badge(page, host("B#1")), { timeout: 30_000, interval: 200 }).toBe("replaying");
    await expect.poll(() => clientText(page), { timeout: 120_000, interval: 200 }).toMatch(/LOCKSTEP READY[\s\S]*lockstep# /);
  } catch (e) {
    const cards = await page.evaluate(() => [...document.querySelectorAll("article")].map((a) => a.textContent?.replace(/\s+/g, " ").slice(0, 200)).join(" || "));
    const feed = await feedLines(page);
    const loads = await page.evaluate(() => JSON.stringify((window.lockstep as OnePageHook).cluster.hosts.map((h) => ({ id: h.id, progress: h.progress, state: h.status?.state ?? null }))));
    console.log(`hosts: ${cards}\nfeed: ${feed}\nloads: ${loads}\nconsole:\n${logs.slice(-60).join("\n")}`);
    throw e;
  }
  const booted = Date.now() - t0;
  await run(page, "kv set browser firefox", "OK");

  const killedAt = Date.now();
  await page.evaluate(() => {
    const c = (window.lockstep as OnePageHook).cluster;
    c.kill(c.livePrimary()!.id);
  });
  await expect.poll(() => badge(page, host("B#1"), "role"), { timeout: 30_000, interval: 100 }).toBe("primary");
  await expect.poll(() => badge(page, host("B#1")), { timeout: 10_000, interval: 100 }).toBe("alone");
  const failoverMs = Date.now() - killedAt;
  await run(page, "kv get browser", "firefox");
  expect(await page.evaluate(() => (window.lockstep as OnePageHook).cluster.clientConflicts)).toBe(0);
  // How the pair's logging channel came up: a data channel, or the MessageChannel it falls back to.
  const channel = await page.evaluate(() => (window.lockstep as OnePageHook).cluster.events.find((e) => e.text.includes("MessageChannel instead"))?.text ?? "a WebRTC data channel");
  if (process.env.LOCKSTEP_FF_FEED) console.log(await feedLines(page, 500));
  console.log(`firefox one-page: boot-to-shell ${booted} ms (from a fresh profile), failover ${failoverMs} ms; logging channel: ${channel}`);
  await page.close();
});
