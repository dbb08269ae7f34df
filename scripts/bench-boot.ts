// npm run bench:boot: page load → shell prompt with the pair in lockstep (the backup replaying),
// from the boot image (the default) and from a cold kernel boot (`?boot=cold`), alternating fresh
// pages in one headless Chromium, side by side. What a student waits for before the demo starts.
import type { Page } from "@playwright/test";
import { cli } from "./lib/args.ts";
import { buildAndPreview, withBrowser } from "./lib/browser.ts";
import { median } from "./lib/stats.ts";
import { until } from "./lib/until.ts";
import type { OnePageHook } from "../src/ui/test-hook.ts";

const { options, env } = cli({
  usage: "npm run bench:boot -- [options]",
  about: "Page load → shell prompt with the pair in lockstep, from the boot image vs a cold boot, alternating fresh pages.",
  options: {
    port: { type: "int", min: 1, max: 65535, default: Number(process.env.LOCKSTEP_PORT) || 4176, help: "the preview server's port (default: LOCKSTEP_PORT, else 4176)" },
  },
  env: {
    BENCH_BOOTS: { type: "int", min: 1, default: 3, help: "fresh pages per start mode" },
  },
});

const text = (p: Page) => p.evaluate(() => (window.lockstep as OnePageHook).clientText() as string);
const replaying = (p: Page) => p.evaluate(() => (window.lockstep as OnePageHook).cluster.hosts.some((h) => h.status?.state === "replaying"));

const times = { image: [] as number[], cold: [] as number[] };
await withBrowser(() => buildAndPreview(options.port), async ({ url, browser }) => {
  for (let i = 0; i < env.BENCH_BOOTS; i++) {
    for (const mode of ["image", "cold"] as const) {
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      const t0 = Date.now();
      await page.goto(mode === "cold" ? `${url}?boot=cold` : url);
      await until(() => text(page), (t) => /LOCKSTEP READY[\s\S]*lockstep# /.test(t), "shell prompt", 180_000);
      await until(() => replaying(page), (r) => r, "backup replaying", 60_000);
      const ms = Date.now() - t0;
      // The shell answers: the pair is running, not only showing the transcript.
      await page.evaluate(() => (window.lockstep as OnePageHook).cluster.type("echo BOOT-BENCH-$((6*7))\n"));
      await until(() => text(page), (t) => t.includes("BOOT-BENCH-42"), "shell answer", 60_000);
      console.log(`run ${i + 1} ${mode}: ${ms} ms`);
      times[mode].push(ms);
      await ctx.close();
    }
  }
});
const image = median(times.image);
const cold = median(times.cold);
console.log(`ft-boot-to-shell-ms: ${image}`);
console.log(`ft-boot-to-shell-ms-cold: ${cold}`);
console.log(`ft-boot-to-shell-ratio-image-vs-cold: ${(image / cold).toFixed(3)}`);
