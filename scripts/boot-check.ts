// npm run boot-check: page load → shell prompt in headless Chromium, plain v86 with the JIT,
// median of 3 fresh pages. Builds the app and serves the production bundle.
import { execSync } from "node:child_process";
import { chromium } from "@playwright/test";
import { preview } from "vite";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "../tests/chromium.ts";

const RUNS = Number(process.env.BOOT_CHECK_RUNS ?? 3);

execSync("npx vite build --logLevel error", { stdio: "inherit" });
const server = await preview({ preview: { host: "127.0.0.1", port: 4174, strictPort: true }, logLevel: "error" });
const url = server.resolvedUrls?.local[0] ?? "http://127.0.0.1:4174/";
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
const times: number[] = [];
try {
  for (let i = 0; i < RUNS; i++) {
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
} finally {
  await browser.close();
  await server.close();
}
times.sort((a, b) => a - b);
console.log(`boot-to-shell-ms: ${times[times.length >> 1]}`);
