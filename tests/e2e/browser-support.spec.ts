import type { Page } from "@playwright/test";
import { clientText, run, waitForLockstep } from "./ft.ts";
import { expect, test } from "./persistent.ts";

/**
 * A browser that lacks something Lockstep needs, or refuses it storage, says so on the page:
 * what is missing or what happened, and what still works. Never a hang or a silent stop.
 */

test("a browser without BroadcastChannel is told the tab mode needs it, and what it can run instead", async ({ page }) => {
  await page.addInitScript(() => delete (window as { BroadcastChannel?: unknown }).BroadcastChannel);
  await page.goto("/?mode=tabs");
  const alert = page.getByTestId("unsupported");
  await expect(alert).toContainText("cannot run Lockstep in tabs mode");
  await expect(alert).toHaveAttribute("data-missing", "broadcast-channel");
  await expect(alert).toContainText("BroadcastChannel: tabs find each other");
  // The one-page demo needs no BroadcastChannel: offered, and nothing started here.
  await expect(alert.getByRole("link", { name: "the one-page demo" })).toHaveAttribute("href", /\/\?$|\/$/);
  await expect(page.getByTestId("my-host")).toHaveCount(0);

  // Without WebAssembly nothing can run, and the page says that instead of booting forever.
  await page.addInitScript(() => delete (window as { WebAssembly?: unknown }).WebAssembly);
  await page.goto("/");
  await expect(page.getByTestId("unsupported")).toHaveAttribute("data-missing", "webassembly");
  await expect(page.getByTestId("unsupported")).not.toContainText("It can run");
});

test("IndexedDB refused at start: the page says so, and offers the plain VM", async ({ page }) => {
  // As a private window or blocked third-party storage does: the open request is refused.
  await page.addInitScript(() => {
    indexedDB.open = () => {
      throw new DOMException("The user denied permission to access the database.", "SecurityError");
    };
  });
  await page.goto("/");
  const alert = page.getByTestId("storage-refused");
  await expect(alert).toHaveAttribute("data-at-start", "true");
  await expect(alert).toContainText("This browser refused Lockstep its storage");
  await expect(alert).toContainText("SecurityError: The user denied permission to access the database.");
  await expect(alert.getByRole("link", { name: "one plain VM" })).toHaveAttribute("href", /\?mode=plain$/);
  await expect(page.getByRole("article", { name: "A#1 host" })).toHaveCount(0);
});

/**
 * The quota, as Chromium would refuse it, inside every host worker: IndexedDB puts throw
 * QuotaExceededError while `full` is set. (DevTools' quota override would be the real thing,
 * but Chromium 156 does not apply it to IndexedDB writes: measured, a 1 MiB put still succeeded.)
 */
async function setQuotaFull(page: Page, full: boolean): Promise<number> {
  const hosts = page.workers().filter((w) => w.url().includes("ft-host.worker"));
  for (const w of hosts) {
    await w.evaluate((on) => {
      const g = self as unknown as { realPut?: IDBObjectStore["put"] };
      g.realPut ??= IDBObjectStore.prototype.put;
      const real = g.realPut;
      IDBObjectStore.prototype.put = on
        ? function () {
            throw new DOMException("The current transaction exceeded its quota limitations.", "QuotaExceededError");
          }
        : real;
    }, full);
  }
  return hosts.length;
}

test("quota exceeded during a run: the page says writes wait, and they go through once space is back", async ({ page }) => {
  await page.goto("/");
  await waitForLockstep(page);
  await run(page, "kv set before 1", "OK");
  expect(await setQuotaFull(page, true)).toBe(2);
  await page.getByRole("application", { name: "Client console" }).click();
  await page.keyboard.type("kv set full 2\n");
  const alert = page.getByTestId("storage-refused");
  await expect(alert).toHaveAttribute("data-cause", "quota", { timeout: 30_000 });
  await expect(alert).toContainText("The browser's storage for this site is full");
  await expect(alert).toContainText("QuotaExceededError");
  await expect(alert).toContainText("seen by A#1");
  await expect(page.getByRole("region", { name: "Protocol events" })).toContainText("the browser refused the storage (QuotaExceededError");
  // The write waits, and nothing else stops: the pair is still in lockstep.
  expect(await clientText(page)).not.toContain("kv set full 2\r\nOK");
  await expect(page.getByRole("article", { name: "A#1 host" }).locator(".badge.state")).toHaveText("recording");
  await expect(page.getByRole("article", { name: "B#1 host" }).locator(".badge.state")).toHaveText("replaying");

  // Space is back: the waiting write goes through by itself, and the alert goes away.
  await setQuotaFull(page, false);
  await expect.poll(() => clientText(page), { timeout: 30_000 }).toContain("kv set full 2\r\nOK");
  await expect(alert).toHaveCount(0);
  await expect(page.getByRole("region", { name: "Protocol events" })).toContainText("storage accepted again");
  await run(page, "kv get full", "2");
});
