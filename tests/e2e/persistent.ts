import { test as base, chromium, type Page } from "@playwright/test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "../chromium.ts";

/**
 * Pages of a persistent (on-disk) profile: Playwright's default contexts keep IndexedDB in
 * memory, but Lockstep's shared disk and lock record are meant to live on disk.
 */
export const test = base.extend<{ page: Page }>({
  page: async ({ baseURL }, use) => {
    const dir = mkdtempSync(path.join(tmpdir(), "lockstep-profile-"));
    const context = await chromium.launchPersistentContext(dir, {
      executablePath: CHROMIUM_PATH,
      args: CHROMIUM_ARGS,
      baseURL,
      viewport: { width: 1280, height: 800 },
    });
    const page = context.pages()[0] ?? (await context.newPage());
    await use(page);
    await context.close();
    rmSync(dir, { recursive: true, force: true });
  },
});
export { expect } from "@playwright/test";
