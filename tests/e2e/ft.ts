import type {} from "../../src/ui/test-hook.ts";
import { expect, type Locator, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { answeredAfterEcho, PROMPT } from "../helpers/console.ts";

/** The frame a pair started from the boot image (the default) begins at: its recordings start there. */
export const BOOT_IMAGE_FRAME: number = JSON.parse(readFileSync(new URL("../../public/images/manifest.json", import.meta.url), "utf8")).boot_image.frame;

/** The client's whole console stream (not just the terminal's visible rows). */
export function clientText(page: Page): Promise<string> {
  return page.evaluate(() => window.lockstep!.clientText());
}

export function hostState(page: Page, id: string) {
  return page.getByRole("article", { name: `${id} host` }).locator(".badge.state");
}

export function hostRole(page: Page, id: string) {
  return page.getByRole("article", { name: `${id} host` }).locator(".badge.role");
}

/** Poll the page often: Playwright's default backs off to once a second, which adds up over a suite. */
const OFTEN = [50, 100, 200];

/**
 * `expect.poll` at OFTEN's pace: a wait of seconds (a failover, a clone, a download) then ends
 * within 200 ms of the event, not up to a second after it. Same matchers, same timeouts.
 */
export function poll<T>(fn: () => T | Promise<T>, options: { timeout?: number; message?: string } = {}) {
  return expect.poll(fn, { intervals: OFTEN, ...options });
}

/**
 * A host's badge (its state or role) shows `expected` (the whole text, or a match): polled at
 * OFTEN's pace. Locator assertions (toHaveText) back off to every 500 ms, so each wait for a
 * failover, a clone or a go-live ended up to half a second after it; a suite waits for hundreds.
 */
export async function shows(badge: Locator, expected: string | RegExp, options: { timeout?: number } = {}): Promise<void> {
  const text = () => badge.allInnerTexts().then((t) => t.join(" ").trim());
  const p = poll(text, { ...options, message: `${badge.toString()} to show ${String(expected)}` });
  await (typeof expected === "string" ? p.toBe(expected) : p.toMatch(expected));
}

/** Waits until primary A#1 records and backup B#1 replays, and the guest shell is up. */
export async function waitForLockstep(page: Page): Promise<void> {
  await shows(hostState(page, "A#1"), "recording", { timeout: 120_000 });
  await shows(hostState(page, "B#1"), "replaying");
  await expect.poll(() => clientText(page), { timeout: 120_000, intervals: OFTEN }).toMatch(/LOCKSTEP READY[\s\S]*lockstep# /);
}

/**
 * Types a command at the guest's prompt and waits for `expected` on a line after the command's
 * own echo (`answeredAfterEcho`). Both waits matter for the exactly-once checks.
 */
export async function run(page: Page, command: string, expected: string, timeout = 30_000): Promise<void> {
  await expect.poll(() => clientText(page), { timeout, intervals: OFTEN, message: "the guest shell's prompt" }).toMatch(PROMPT);
  const before = (await clientText(page)).length;
  await page.getByRole("application", { name: "Client console" }).click();
  await page.keyboard.type(command + "\n");
  const answered = async () => answeredAfterEcho((await clientText(page)).slice(before), command, expected);
  await expect.poll(answered, { timeout, intervals: OFTEN, message: `"${expected}" after the echo of "${command}"` }).toBe(true);
}

/** Runs a guided tour to its end (quick pace) and returns its result line. */
export async function runTour(page: Page, scenario: string, extra = "") {
  await page.goto(`/?scenario=${scenario}&autoplay=1&pace=0.2${extra}`);
  const progress = page.getByTestId("scenario-progress");
  await expect(progress).toHaveAttribute("data-status", /done|failed/, { timeout: 240_000 });
  // The tour's own error text, so a failure says which step went wrong and why.
  const errors = await page.getByTestId("scenario-error").allInnerTexts();
  expect(errors, "the tour's error").toEqual([]);
  await expect(progress).toHaveAttribute("data-status", "done");
  const result = page.getByTestId("scenario-result");
  await expect(result).toBeVisible();
  return result;
}

/** Waits for the guest shell's first prompt in the client, then types `line` (and Enter) into the console. */
export async function typeAtFirstPrompt(page: Page, line: string): Promise<void> {
  await poll(() => clientText(page), { timeout: 240_000 }).toMatch(/LOCKSTEP READY[\s\S]*lockstep# /);
  await page.getByRole("application", { name: "Client console" }).click();
  await page.keyboard.type(line + "\n");
}

/**
 * Replays the live run so far in the timeline (every checkpoint must match), then moves the
 * cursor to the input mark of the typed text `typed`.
 */
export async function replayToInput(page: Page, typed: string): Promise<void> {
  await page.getByRole("button", { name: "Replay the live run so far" }).click();
  await expect(page.getByTestId("replay-check")).toHaveAttribute("data-ok", "true", { timeout: 120_000 });
  const mark = page.getByRole("button", { name: new RegExp(`^Input at frame \\d+: .*${typed}`) });
  const frame = Number((await mark.getAttribute("aria-label"))!.match(/frame (\d+)/)![1]);
  await mark.click();
  await expect(page.getByTestId("replay-position")).toContainText(`At frame ${frame.toLocaleString("en-US")} `, { timeout: 60_000 });
}
