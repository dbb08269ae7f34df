import { test as base, chromium, type BrowserContext, type Page } from "@playwright/test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CHROMIUM_ARGS, CHROMIUM_PATH, TEST_CONTEXT } from "../chromium.ts";

/**
 * A persistent (on-disk) profile: Playwright's default contexts keep IndexedDB in memory, but
 * Lockstep's shared disk and lock record are meant to live on disk. `context` is the whole
 * profile (its pages are tabs sharing BroadcastChannel and IndexedDB); `page` its first tab.
 */
export const test = base.extend<{ context: BrowserContext; page: Page }>({
  context: async ({ baseURL }, use) => {
    const dir = mkdtempSync(path.join(tmpdir(), "lockstep-profile-"));
    const context = await chromium.launchPersistentContext(dir, {
      executablePath: CHROMIUM_PATH,
      args: CHROMIUM_ARGS,
      baseURL,
      viewport: { width: 1280, height: 800 },
      ...TEST_CONTEXT,
    });
    await use(context);
    await context.close();
    rmSync(dir, { recursive: true, force: true });
  },
  page: async ({ context }, use) => {
    await use(context.pages()[0] ?? (await context.newPage()));
  },
});
export { expect } from "@playwright/test";
