// npm run boot-check: page load → shell prompt in headless Chromium, plain v86 with the JIT,
// median of 3 fresh pages. Builds the app and serves the production bundle.
import { cli } from "./lib/args.ts";
import { buildAndPreview, withBrowser } from "./lib/browser.ts";
import { median } from "./lib/stats.ts";

const { options, env } = cli({
  usage: "npm run boot-check -- [options]",
  about: "Page load → shell prompt in headless Chromium (plain v86, JIT), median over fresh pages; builds and serves the production bundle.",
  options: {
    port: { type: "int", min: 1, max: 65535, default: 4174, help: "the preview server's port" },
  },
  env: {
    BOOT_CHECK_RUNS: { type: "int", min: 1, default: 3, help: "fresh pages to boot" },
  },
});

const times = await withBrowser(() => buildAndPreview(options.port), async ({ url, browser }) => {
  const times: number[] = [];
  for (let i = 0; i < env.BOOT_CHECK_RUNS; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${url}?mode=plain`);
    const status = page.locator(".status");
    await status.and(page.locator('[data-phase="ready"], [data-phase="failed"]')).waitFor({ timeout: 180_000 });
    if ((await status.getAttribute("data-phase")) === "failed") {
      throw new Error(`boot failed: ${await page.getByRole("alert").innerText()}`);
    }
    await status.and(page.locator('[data-boot-ms]:not([data-boot-ms=""])')).waitFor();
    const ms = Number(await status.getAttribute("data-boot-ms"));
    console.log(`run ${i + 1}: ${ms} ms`);
    times.push(ms);
    await context.close();
  }
  return times;
});
console.log(`boot-to-shell-ms: ${median(times)}`);
