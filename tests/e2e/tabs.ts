import type { BrowserContext, Page } from "@playwright/test";
import { clientText, poll, shows } from "./ft.ts";
import { expect } from "./persistent.ts";

// Tabs of one persistent context (they share the origin's BroadcastChannel and IndexedDB): the kill-tab demo's steps.

export const myHost = (page: Page) => page.getByTestId("my-host");
export const myState = (page: Page) => myHost(page).locator(".badge.state");
export const myRole = (page: Page) => myHost(page).locator(".badge.role");
export const feed = (page: Page) => page.getByRole("region", { name: "Protocol events" });

export async function openTab(context: BrowserContext, first = false, url = "/?mode=tabs"): Promise<Page> {
  const page = first ? (context.pages()[0] ?? (await context.newPage())) : await context.newPage();
  await page.goto(url);
  return page;
}

/** The first tab starts the VM alone; waits for the guest shell in its client. */
export async function startPrimary(context: BrowserContext, url?: string): Promise<Page> {
  const p = await openTab(context, true, url);
  await shows(myRole(p), "primary", { timeout: 120_000 });
  await shows(myState(p), "alone");
  await poll(() => clientText(p), { timeout: 120_000 }).toMatch(/LOCKSTEP READY[\s\S]*lockstep# /);
  return p;
}

/** A tab that joins becomes the backup by FT VMotion from the live primary. */
export async function joinAsBackup(context: BrowserContext, primary: Page, url?: string): Promise<Page> {
  const p = await openTab(context, false, url);
  await shows(myState(p), "replaying", { timeout: 120_000 });
  await shows(myState(primary), "recording");
  return p;
}

