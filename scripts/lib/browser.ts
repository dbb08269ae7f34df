// The scripts' way into a browser: serve the app (the production bundle, the dev server, or a
// blank page for an origin), launch Debian's Chromium (tests/chromium.ts), and close both,
// browser first, however the body ends, so a failed run leaves no browser or port behind.
import { execSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type Browser, type BrowserContext } from "@playwright/test";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "../../tests/chromium.ts";
import { ROOT } from "./paths.ts";

/** Something serving pages at `url` until closed. */
export interface Served {
  url: string;
  close(): Promise<void>;
}

/** `vite build`, then `vite preview` of dist/ on 127.0.0.1:`port` (what users load). */
export async function buildAndPreview(port: number): Promise<Served> {
  execSync("npx vite build --logLevel error", { stdio: "inherit", cwd: ROOT });
  const { preview } = await import("vite");
  const server = await preview({ root: ROOT, preview: { host: "127.0.0.1", port, strictPort: true }, logLevel: "error" });
  return { url: `http://127.0.0.1:${port}/`, close: () => server.close() };
}

/** The Vite dev server on `port`, serving src/ pages that are not in the bundle. */
export async function devServer(port: number, cacheDir: string): Promise<Served> {
  const { createServer } = await import("vite");
  const server = await createServer({
    root: ROOT,
    configFile: false,
    logLevel: "warn",
    server: { host: "127.0.0.1", port, strictPort: true },
    worker: { format: "es" },
    // Own cache, deps known up front: no re-optimisation (and page reload) mid-run.
    cacheDir: path.join(ROOT, "node_modules", cacheDir),
    optimizeDeps: { noDiscovery: true, include: ["v86"] },
  });
  await server.listen();
  return { url: `http://127.0.0.1:${port}/`, close: () => server.close() };
}

/** An empty page on a free port: an origin for IndexedDB and WebRTC, nothing else. */
export async function blankPage(): Promise<Served> {
  const server = createHttpServer((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>bench</title>"));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/** Serves, launches Chromium, runs `body`, then closes the browser and the server. */
export async function withBrowser<T>(serve: () => Promise<Served>, body: (s: { url: string; browser: Browser }) => Promise<T>): Promise<T> {
  const server = await serve();
  try {
    const browser = await launchChromium();
    try {
      return await body({ url: server.url, browser });
    } finally {
      await browser.close();
    }
  } finally {
    await server.close();
  }
}

/** Chromium on a fresh persistent profile (tabs of one profile share BroadcastChannel and IndexedDB), deleted after `body`. */
export async function withProfile<T>(body: (ctx: BrowserContext) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(tmpdir(), "lockstep-bench-tabs-"));
  try {
    const ctx = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    try {
      return await body(ctx);
    } finally {
      await ctx.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
