import { chromium, type Frame, type Page } from "@playwright/test";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CHROMIUM_ARGS, CHROMIUM_PATH, TEST_CONTEXT } from "../chromium.ts";
import { serveStatic, type StaticServer } from "../static-server.ts";
import { hostState, shows } from "./ft.ts";
import { expect, test } from "./persistent.ts";

/**
 * Deploy anywhere (issue 17): the dist/ the config just built, copied as a teacher would to a
 * course site under a nested sub-path and served by the plainest static server (no special
 * headers), boots the pair there — opened directly, and embedded in a course page of another
 * site (a cross-site iframe, where the browser partitions its storage). A persistent profile, as
 * a student's browser is.
 */
const MOUNT = "/courses/ds/lockstep/";
const DIST = path.resolve(import.meta.dirname, "../../dist");

let server: StaticServer;
test.beforeAll(async () => {
  server = await serveStatic(DIST, MOUNT, {
    "/course/week3.html": `<!doctype html><title>Week 3</title><h1>Week 3: fault tolerance</h1>
      <iframe id="lockstep" title="Lockstep" width="1100" height="760" style="border:0"></iframe>`,
  });
});
test.afterAll(() => server.close());

/** The client's console stream, in the top page or in the embedded frame. */
const clientText = (where: Page | Frame) =>
  where.evaluate(() => (window as unknown as { lockstep: { clientText(): string } }).lockstep.clientText());

/** Types a command into the client console and waits for `expected` on a line after its echo. */
async function run(page: Page, where: Page | Frame, command: string, expected: string): Promise<void> {
  await expect.poll(() => clientText(where), { timeout: 30_000 }).toMatch(/lockstep# (\x1b\[6n)?$/);
  const before = (await clientText(where)).length;
  await where.getByRole("application", { name: "Client console" }).click();
  await page.keyboard.type(command + "\n");
  await expect
    .poll(async () => {
      const lines = (await clientText(where)).slice(before).split(/\r?\n/).map((l) => l.trim());
      const echo = lines.findIndex((l) => l.endsWith(command));
      return echo >= 0 && lines.slice(echo + 1).includes(expected);
    }, { timeout: 30_000, message: `"${expected}" after "${command}"` })
    .toBe(true);
}

async function waitForPair(where: Page | Frame): Promise<void> {
  await expect(where.getByRole("article", { name: "A#1 host" }).locator(".badge.state")).toHaveText("recording", { timeout: 120_000 });
  await expect(where.getByRole("article", { name: "B#1 host" }).locator(".badge.state")).toHaveText("replaying");
  await expect.poll(() => clientText(where), { timeout: 120_000 }).toMatch(/LOCKSTEP READY[\s\S]*lockstep# /);
}

test("served under a nested sub-path by a plain static server, the pair boots and the kv store works, then again with the network cut", async ({ context, page }) => {
  await page.goto(server.origin + MOUNT);
  await waitForPair(page);
  await shows(hostState(page, "A#1"), "recording");
  await run(page, page, "kv set course ds", "OK");
  await run(page, page, "kv get course", "ds");
  // Every file the app asked for lives under the sub-path: nothing at the site root (but the
  // favicon the browser itself asks for).
  const outside = server.requests.filter((r) => r.path !== "/favicon.ico" && (!r.path.startsWith(MOUNT) || r.status !== 200));
  expect(outside, JSON.stringify(outside)).toEqual([]);

  // Works offline once loaded: this visit saved the app and the guest (service worker).
  await expect(page.getByTestId("offline-copy")).toHaveAttribute("data-state", "saved", { timeout: 60_000 });
  // The download progress is for the first visit only: record whether the next load ever shows it.
  await page.addInitScript(() => {
    const w = window as unknown as { sawProgress: boolean };
    w.sawProgress = false;
    new MutationObserver(() => (w.sawProgress ||= document.querySelector(".progress progress") !== null)).observe(document, { childList: true, subtree: true });
  });
  // The network is cut twice over: the site resets every connection, and the browser reports
  // itself offline (as with the Wi-Fi down: then the page's hosts talk over a MessageChannel,
  // since WebRTC finds no interface to connect on).
  server.setOffline(true);
  await context.setOffline(true);
  const cut = server.requests.length;
  try {
    await page.reload();
    await expect(page.getByTestId("offline-copy")).toHaveAttribute("data-state", "in-use");
    await waitForPair(page);
    // (A page load starts a fresh VM with a blank disk: the earlier key is not expected here.)
    await run(page, page, "kv set offline yes", "OK");
    await run(page, page, "kv get offline", "yes");
    await expect(page.getByRole("region", { name: "Protocol events" })).toContainText("The logging channel between this page's hosts is a MessageChannel");
  } finally {
    server.setOffline(false);
    await context.setOffline(false);
  }
  // Nothing needed the network: the only request is the browser's own check for a new service worker.
  const online = server.requests.slice(cut).filter((r) => r.path !== `${MOUNT}sw.js`);
  expect(online, JSON.stringify(online)).toEqual([]);
  expect(await page.evaluate(() => (window as unknown as { sawProgress: boolean }).sawProgress)).toBe(false);
});

/**
 * Chromium partitions a third-party frame's storage (IndexedDB, BroadcastChannel) by the top
 * site, as Firefox and Safari do; Playwright switches that off (its --disable-features list),
 * and Chromium then refuses the frame IndexedDB altogether. Chromium keeps the last
 * --disable-features it is given, so this one restores the shipped behaviour, keeping the rest
 * of Playwright's list that matters here.
 */
const AS_SHIPPED = "--disable-features=AvoidUnnecessaryBeforeUnloadCheckSync,DestroyProfileOnBrowserClose,HttpsUpgrades,HttpsFirstBalancedModeAutoEnable,MediaRouter,PaintHolding";

test("embedded in a course page of another site (cross-site iframe), the pair boots and answers postMessage, then again with the network cut", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "lockstep-profile-"));
  const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, AS_SHIPPED], viewport: { width: 1280, height: 800 }, ...TEST_CONTEXT });
  try {
    await embedded(context.pages()[0] ?? (await context.newPage()));
  } finally {
    await context.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

async function embedded(page: Page): Promise<void> {
  // localhost and 127.0.0.1 are different sites: the frame is third-party, its storage partitioned.
  const course = `http://localhost:${server.port}`;
  await page.goto(`${course}/course/week3.html`);
  const src = `${server.origin}${MOUNT}?embed=1&parent=${encodeURIComponent(course)}`;
  await page.evaluate((s) => ((document.getElementById("lockstep") as HTMLIFrameElement).src = s), src);
  const frame = (await page.locator("#lockstep").elementHandle().then((h) => h!.contentFrame()))!;
  await waitForPair(frame);
  await run(page, frame, "kv set embedded yes", "OK");
  await run(page, frame, "kv get embedded", "yes");
  // The course page talks to the frame across origins.
  const pong = await page.evaluate(
    (origin) =>
      new Promise<string>((resolve) => {
        addEventListener("message", (e) => e.origin === origin && e.data?.type === "lockstep:pong" && resolve(e.data.type));
        (document.getElementById("lockstep") as HTMLIFrameElement).contentWindow!.postMessage({ type: "lockstep:ping" }, origin);
      }),
    server.origin,
  );
  expect(pong).toBe("lockstep:pong");

  // The frame saved its offline copy too (a service worker of the frame's partition): the frame
  // loads again with the network to the app's site cut, inside the same course page.
  await expect(frame.getByTestId("offline-copy")).toHaveAttribute("data-state", "saved", { timeout: 60_000 });
  server.setOffline(true);
  const cut = server.requests.length;
  try {
    await page.evaluate((s) => ((document.getElementById("lockstep") as HTMLIFrameElement).src = `${s}&again=1`), src);
    await expect.poll(() => page.frame({ url: /again=1/ })?.getByTestId("offline-copy").getAttribute("data-state"), { timeout: 30_000 }).toBe("in-use");
    const reloaded = page.frame({ url: /again=1/ })!;
    await waitForPair(reloaded);
    await run(page, reloaded, "kv set offline yes", "OK");
  } finally {
    server.setOffline(false);
  }
  const online = server.requests.slice(cut).filter((r) => r.path !== `${MOUNT}sw.js`);
  expect(online, JSON.stringify(online)).toEqual([]);
}

/**
 * What a new build changes for the service worker, applied to a copy of dist/: index.html (here
 * a marker naming the build) and, with it, its precache revision in sw.js.
 */
function deploy(site: string, build: string): void {
  const index = path.join(site, "index.html");
  writeFileSync(index, readFileSync(index, "utf8").replace(/(<meta name="lockstep-build"[^>]*>)?<\/head>/, `<meta name="lockstep-build" content="${build}"></head>`));
  const sw = path.join(site, "sw.js");
  const before = readFileSync(sw, "utf8");
  const after = before.replace(/\{url:"index.html",revision:"[^"]+"\}/, `{url:"index.html",revision:"build-${build}"}`);
  expect(after, "sw.js lists index.html with a revision").not.toBe(before);
  writeFileSync(sw, after);
}

test("a new deployment is used from the next visit, never switched under another open Lockstep page", async ({ context, page }) => {
  const site = mkdtempSync(path.join(tmpdir(), "lockstep-site-"));
  cpSync(DIST, site, { recursive: true });
  const host = await serveStatic(site, MOUNT);
  try {
    // guest=none stops at the launch error: no VM boots, the service worker is the same.
    const url = `${host.origin}${MOUNT}?guest=none`;
    // Which build the page runs (null while it is reloading itself into a new one).
    const build = (p: Page) => p.evaluate(() => document.querySelector('meta[name="lockstep-build"]')?.getAttribute("content") ?? "1").catch(() => null);
    const copy = (p: Page) => p.getByTestId("offline-copy");
    await page.goto(url);
    await expect(copy(page)).toHaveAttribute("data-state", "saved", { timeout: 60_000 });

    deploy(site, "2");
    await page.reload();
    // This visit still runs what it loaded from the offline copy; the new version downloads.
    await expect(page.getByTestId("new-version")).toBeVisible({ timeout: 30_000 });
    expect(await build(page)).toBe("1");
    // The next visit (a reload counts) takes it over: no other Lockstep page is open.
    await page.reload();
    await expect.poll(() => build(page), { timeout: 30_000 }).toBe("2");
    await expect(copy(page)).toHaveAttribute("data-state", "in-use");

    // With a second Lockstep page open, neither a reload nor the button switches versions.
    deploy(site, "3");
    const other = await context.newPage();
    await other.goto(url);
    await expect(page.getByTestId("new-version")).toBeHidden();
    await page.reload();
    await expect(page.getByTestId("new-version")).toBeVisible({ timeout: 30_000 });
    await page.reload();
    await expect(page.getByTestId("new-version")).toBeVisible({ timeout: 30_000 });
    expect(await build(page)).toBe("2");
    expect(await build(other)).toBe("2");
    await page.getByRole("button", { name: "Use it now" }).click();
    await expect(page.getByTestId("new-version")).toContainText("close the other Lockstep tabs first");
    await other.close();
    await page.getByRole("button", { name: "Use it now" }).click();
    await expect.poll(() => build(page), { timeout: 30_000 }).toBe("3");
  } finally {
    await host.close();
    rmSync(site, { recursive: true, force: true });
  }
});
