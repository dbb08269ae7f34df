import type { OnePageHook } from "../../src/ui/test-hook.ts";
import { chromium, type Frame, type Page } from "@playwright/test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CHROMIUM_ARGS, CHROMIUM_PATH, TEST_CONTEXT } from "../chromium.ts";
import { expect, test } from "./persistent.ts";

// Each tour running to its end with its verdict is tests/e2e/lecture-all.spec.ts (every tour back
// to back in one page); the rule-off counterfactual is lecture.spec.ts's Output Rule switch test.
import { waitForLockstep } from "./ft.ts";

test("shortcuts: ? lists them, Space pauses the tour, T switches the theme, 1 starts tour 1", async ({ page }) => {
  await page.goto("/");
  await waitForLockstep(page);
  await page.locator("h1").click(); // focus outside the client console
  await page.keyboard.press("?");
  const dialog = page.getByRole("dialog", { name: "Keyboard shortcuts" });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText("kill the primary");
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();

  const theme = () => page.evaluate(() => document.documentElement.dataset.theme ?? "");
  const before = await theme();
  await page.keyboard.press("t");
  await expect.poll(theme).not.toBe(before);

  await page.keyboard.press("1");
  const progress = page.getByTestId("scenario-progress");
  await expect(progress).toHaveAttribute("data-status", "running");
  await page.keyboard.press(" ");
  await expect(progress).toHaveAttribute("data-status", "paused");
  const caption = await page.getByTestId("scenario-caption").innerText();
  await page.keyboard.press(" ");
  await expect(progress).toHaveAttribute("data-status", /running|done/);
  expect(caption.length).toBeGreaterThan(20);

  // Typing in the client console is not a shortcut.
  await page.getByRole("application", { name: "Client console" }).click();
  await page.keyboard.type("k");
  await expect(page.getByRole("article", { name: "A#1 host" }).locator(".badge.role")).toHaveText("primary");
});

/** Serves a course page on `origin` that embeds Lockstep (this server) in an iframe. */
async function coursePage(page: Page, origin: string, allowedParent: string, baseURL: string): Promise<Frame> {
  await page.route(`${origin}/**`, (route) =>
    route.fulfill({
      contentType: "text/html",
      body: `<!doctype html><title>Course</title><script>window.got = []; addEventListener("message", (e) => got.push(e.data));</script>
        <iframe id="ls" src="${baseURL}/?embed=1&parent=${encodeURIComponent(allowedParent)}" width="1000" height="700"></iframe>`,
    }),
  );
  await page.goto(`${origin}/course.html`);
  const inner = () => page.frames().find((f) => f.url().startsWith(baseURL));
  await expect.poll(() => inner()?.url() ?? page.frames().map((f) => f.url()).join(" ")).toContain("embed=1");
  const frame = inner()!;
  await frame.waitForFunction(() => !!(window as unknown as { lockstep?: { embed?: unknown } }).lockstep?.embed);
  return frame;
}

const embedState = (f: Frame) =>
  f.evaluate(() => {
    const l = (window.lockstep as OnePageHook);
    return { accepted: l.embed.accepted, rejected: l.embed.rejected, status: l.runner.status };
  });

/**
 * A browser for the course-page tests. Course pages are served by a route on other localhost
 * ports (localhost, unlike a plain-http public host, is a secure context, which Lockstep needs
 * for WebCrypto). A routed page counts as public for Chrome's Local Network Access checks, which
 * forbid it to frame a loopback server; a real deployment serves both over https, so the check is
 * switched off here.
 */
async function courseBrowser(use: (page: Page) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "lockstep-course-"));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, "--disable-features=LocalNetworkAccessChecks"],
    viewport: { width: 1280, height: 800 },
    ...TEST_CONTEXT,
  });
  try {
    await use(context.pages()[0] ?? (await context.newPage()));
  } finally {
    await context.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test("embed API: a message from another origin is rejected", async ({ baseURL }) => courseBrowser(async (page) => {
  const frame = await coursePage(page, "http://localhost:4175", "http://localhost:4174", baseURL!);
  await page.evaluate(() => (document.getElementById("ls") as HTMLIFrameElement).contentWindow!.postMessage({ type: "lockstep:start-scenario", id: "normal" }, "*"));
  await expect.poll(async () => (await embedState(frame)).rejected).toBe(1);
  expect(await embedState(frame)).toEqual({ accepted: 0, rejected: 1, status: "idle" });
  await expect(frame.getByRole("region", { name: "Protocol events" })).toContainText("ignored lockstep:start-scenario from http://localhost:4175");
}));

test("embed API: the allowed parent starts a scenario and receives events", async ({ baseURL }) => courseBrowser(async (page) => {
  const frame = await coursePage(page, "http://localhost:4174", "http://localhost:4174", baseURL!);
  // The compact layout: no paper panel, the figure and the tour still there.
  await expect(frame.getByRole("region", { name: "Mechanisms and paper sections" })).toHaveCount(0);
  await expect(frame.getByRole("region", { name: "Guided scenario" })).toBeVisible();
  await page.evaluate(() => (document.getElementById("ls") as HTMLIFrameElement).contentWindow!.postMessage({ type: "lockstep:start-scenario", id: "normal" }, "*"));
  await expect.poll(async () => (await embedState(frame)).status).toMatch(/running|done/);
  type Msg = { type: string; step?: number; event?: { kind: string; text: string } };
  const got = () => page.evaluate(() => (window as unknown as { got: Msg[] }).got);
  // Scenario progress comes out; once the VMs are in lockstep the tour moves past its first step.
  await expect.poll(async () => Math.max(-1, ...(await got()).filter((m) => m.type === "lockstep:scenario").map((m) => m.step ?? -1)), { timeout: 240_000 }).toBeGreaterThanOrEqual(1);
  // Kill the backup through the API: protocol events come out.
  await page.evaluate(() => (document.getElementById("ls") as HTMLIFrameElement).contentWindow!.postMessage({ type: "lockstep:kill-backup" }, "*"));
  await expect.poll(async () => (await got()).filter((m) => m.type === "lockstep:event").map((m) => m.event!.kind), { timeout: 60_000 }).toContain("kill");
  expect((await embedState(frame)).accepted).toBe(2);
}));

test("embed API: lockstep:new-pair from the allowed parent boots a fresh pair after a failure", async ({ baseURL }) => courseBrowser(async (page) => {
  const frame = await coursePage(page, "http://localhost:4174", "http://localhost:4174", baseURL!);
  const post = (msg: object) => page.evaluate((m) => (document.getElementById("ls") as HTMLIFrameElement).contentWindow!.postMessage(m, "*"), msg);
  type Msg = { type: string; event?: { kind: string; text: string } };
  const events = () => page.evaluate(() => (window as unknown as { got: Msg[] }).got.filter((m) => m.type === "lockstep:event").map((m) => m.event!));
  const pair = () =>
    frame.evaluate(() => {
      const c = (window.lockstep as OnePageHook).cluster;
      const live = c.hosts.filter((h) => !h.dead && h.status);
      return { states: live.map((h) => `${h.status!.role}/${h.status!.state}`).sort().join(" "), epoch: c.lock?.epoch ?? 0, ids: live.map((h) => h.id).sort().join(" ") };
    });
  await expect.poll(async () => (await pair()).states, { timeout: 240_000 }).toBe("backup/replaying primary/recording");
  const before = (await pair()).ids;
  await post({ type: "lockstep:kill-backup" });
  await expect.poll(async () => (await pair()).states, { timeout: 60_000 }).toBe("primary/alone");
  await expect.poll(async () => (await pair()).epoch).toBe(2);

  await post({ type: "lockstep:new-pair" });
  await expect.poll(async () => (await events()).map((e) => e.kind), { timeout: 60_000 }).toContain("restart");
  await expect.poll(async () => (await pair()).states, { timeout: 240_000 }).toBe("backup/replaying primary/recording");
  const after = await pair();
  expect(after.epoch).toBe(1);
  expect(after.ids).not.toBe(before);
  expect((await embedState(frame)).accepted).toBe(2);
}));
