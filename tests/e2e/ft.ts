import { expect, type Page } from "@playwright/test";

/** The client's whole console stream (not just the terminal's visible rows). */
export function clientText(page: Page): Promise<string> {
  return page.evaluate(() => (window as unknown as { lockstep: { clientText(): string } }).lockstep.clientText());
}

export function hostState(page: Page, id: string) {
  return page.getByRole("article", { name: `${id} host` }).locator(".badge.state");
}

export function hostRole(page: Page, id: string) {
  return page.getByRole("article", { name: `${id} host` }).locator(".badge.role");
}

/** Waits until primary A#1 records and backup B#1 replays, and the guest shell is up. */
export async function waitForLockstep(page: Page): Promise<void> {
  await expect(hostState(page, "A#1")).toHaveText("recording", { timeout: 120_000 });
  await expect(hostState(page, "B#1")).toHaveText("replaying");
  await expect.poll(() => clientText(page), { timeout: 120_000 }).toMatch(/LOCKSTEP READY[\s\S]*lockstep# /);
}

/** Types a command into the client console and waits for `expected` on a line of its own after it. */
export async function run(page: Page, command: string, expected: string, timeout = 30_000): Promise<void> {
  const before = (await clientText(page)).length;
  await page.getByRole("application", { name: "Client console" }).click();
  await page.keyboard.type(command + "\n");
  await expect
    .poll(async () => (await clientText(page)).slice(before).split(/\r?\n/).map((l) => l.trim()), { timeout })
    .toContain(expected);
}

/** Runs a guided tour to its end (quick pace) and returns its result line. */
export async function runTour(page: Page, scenario: string, extra = "") {
  await page.goto(`/?scenario=${scenario}&autoplay=1&pace=0.2${extra}`);
  const progress = page.getByTestId("scenario-progress");
  await expect(progress).toHaveAttribute("data-status", /done|failed/, { timeout: 240_000 });
  await expect(page.getByTestId("scenario-error")).toHaveCount(0);
  await expect(progress).toHaveAttribute("data-status", "done");
  const result = page.getByTestId("scenario-result");
  await expect(result).toBeVisible();
  return result;
}
