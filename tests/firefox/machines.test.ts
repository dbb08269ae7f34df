import type { AddressInfo } from "node:net";
import path from "node:path";
import puppeteer, { type Browser } from "puppeteer-core";
import type { ViteDevServer } from "vite";
import { afterAll, beforeAll, expect, it } from "vitest";
import { FIREFOX_PATH } from "./firefox.ts";

/**
 * Issue 17: a Firefox host worker used to stop for good while it built a v86 machine (v86's
 * constructor started a nested Worker, and that `new Worker` sometimes never returned; measured
 * in docs/deploy.md). Two workers of one page each build 30 machines in a row, as host workers do
 * at boot, failover and FT VMotion: without the fix this test failed 3 of 3 runs under a CPU hog;
 * every machine must be built.
 */
const ROOT = path.resolve(import.meta.dirname, "../..");
const WORKERS = 2;
const MACHINES = 30;
let server: ViteDevServer;
let browser: Browser;

beforeAll(async () => {
  // The dev server serves the test page (src/engine/browser/machines.html is not in the bundle).
  const { createServer } = await import("vite");
  server = await createServer({
    root: ROOT,
    configFile: false,
    logLevel: "warn",
    server: { host: "127.0.0.1", port: 0 },
    worker: { format: "es" },
    cacheDir: path.join(ROOT, ".vite", "firefox-machines"),
    optimizeDeps: { noDiscovery: true, include: ["v86"] },
  });
  await server.listen();
  browser = await puppeteer.launch({ browser: "firefox", executablePath: FIREFOX_PATH, headless: true });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

it(`${WORKERS} workers of one page each build ${MACHINES} v86 machines in a row`, async () => {
  const { port } = server.httpServer!.address() as AddressInfo;
  const page = await browser.newPage();
  const t0 = Date.now();
  await page.goto(`http://127.0.0.1:${port}/src/engine/browser/machines.html?workers=${WORKERS}&machines=${MACHINES}`);
  const progress = () =>
    page.evaluate(() => ({ built: (window as unknown as { __lockstepMachines: number[] }).__lockstepMachines, errors: (window as unknown as { __lockstepMachineErrors: string[] }).__lockstepMachineErrors }));
  await expect
    .poll(async () => JSON.stringify(await progress()), { timeout: 90_000, interval: 250, message: "machines built per worker (a worker that stops short hung)" })
    .toBe(JSON.stringify({ built: new Array(WORKERS).fill(MACHINES), errors: [] }));
  console.log(`firefox machines: ${WORKERS}x${MACHINES} built in ${Date.now() - t0} ms`);
  await page.close();
});
