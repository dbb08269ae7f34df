import type { OnePageHook } from "../../src/ui/test-hook.ts";
import { expect, test } from "./persistent.ts";
import { clientText } from "./ft.ts";
import { expectGreen } from "./lecture-helpers.ts";

// The tour controls and the Output Rule switch, both timed by the tours (the layouts: lecture-layout.spec.ts).
test("lecture controls: previous and next caption, the step list, caption pace in the URL, the transcript", async ({ page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  // Normal pace: the second caption (21 words) stays at least 6.25 s, time enough to pause on it.
  await page.goto("/?scenario=normal&autoplay=1");
  const progress = page.getByTestId("scenario-progress");
  const caption = page.getByTestId("scenario-caption");
  const steps = page.getByRole("list", { name: "Steps of this tour" }).getByRole("button");
  await expect(steps).toHaveCount(4);
  await expect(steps.first()).toHaveAttribute("aria-current", "step");
  await expect(progress).toContainText("step 2/4", { timeout: 240_000 });
  await page.getByRole("button", { name: "Pause tour" }).click();
  await expect(progress).toHaveAttribute("data-status", "paused");
  await expect(progress).toContainText("step 2/4");
  await expect(progress).toContainText("world frozen");
  const second = await caption.innerText();

  // Back one caption: the first one again while the tour waits at step 2; Next comes back.
  await page.getByRole("button", { name: "◀ Previous" }).click();
  await expect(caption).toContainText("Two hosts start the same Linux VM");
  await expect(page.getByRole("status").filter({ hasText: "Earlier caption, step 1 of 4" })).toBeVisible();
  await page.getByRole("button", { name: "Next caption ▶" }).click();
  await expect(caption).toHaveText(second);
  await page.getByRole("button", { name: "Resume tour" }).click();
  await expect(progress).toHaveAttribute("data-status", /running|done/);

  // Normal operation shows in the feed as lines that update.
  await expect(page.getByRole("list", { name: "Normal operation, live" })).toContainText("log entries and");

  // Pace in the panel, kept in the URL.
  const pace = page.getByRole("combobox", { name: "Caption pace" });
  await pace.selectOption({ label: "slow" });
  await expect.poll(() => new URL(page.url()).searchParams.get("pace")).toBe("1.5");
  await pace.selectOption({ label: "fast" });
  await expect.poll(() => new URL(page.url()).searchParams.get("pace")).toBe("0.6");
  expect(new URL(page.url()).searchParams.get("scenario")).toBe("normal");

  // Skip ahead to the last step (the steps between still wait for their events).
  await steps.nth(3).click();
  await expect(progress).toHaveAttribute("data-status", "done", { timeout: 120_000 });
  await expect(page.getByTestId("scenario-result")).toHaveAttribute("data-ok", "true");

  // The transcript: every caption, copyable.
  const transcript = page.getByTestId("scenario-transcript").getByRole("listitem");
  await expect(transcript).toHaveCount(4);
  await expect(transcript.nth(2)).toContainText("kv set course ft");
  await page.getByRole("button", { name: "Copy transcript" }).click();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  expect(copied).toContain("Lockstep tour: Normal operation");
  expect(copied).toContain("4. [");
  expect(copied).toContain("Result (as expected): The client got OK");
  // After the run any caption can be shown again.
  await steps.first().click();
  await expect(caption).toContainText("Two hosts start the same Linux VM");
});

test("the Output Rule switch during another tour: a new pair without the rule, no reload, the tour picked stays; the Output Rule tour then runs the counterfactual: the client saw output the promoted backup never produced", async ({ page }) => {
  await page.goto("/?scenario=normal&autoplay=1&pace=0.2");
  const progress = page.getByTestId("scenario-progress");
  await expect(progress).toHaveAttribute("data-status", "running");
  // A reload would lose this mark.
  await page.evaluate(() => ((window as unknown as { samePage: boolean }).samePage = true));
  const rule = page.getByRole("checkbox", { name: "Output Rule" });
  await rule.uncheck();
  await expect(page.getByRole("note")).toContainText("without the Output Rule");
  await expect(page.getByRole("region", { name: "Protocol events" })).toContainText("Output Rule OFF");
  expect(await page.evaluate(() => (window as unknown as { samePage?: boolean }).samePage)).toBe(true);
  const url = new URL(page.url());
  expect(url.searchParams.get("rule")).toBe("off");
  expect(url.searchParams.get("scenario")).toBe("normal");
  // The tour that ran lost its pair and stopped; the picker still shows it, not tour 5.
  await expect(page.getByRole("combobox", { name: "Scenario" })).toHaveValue("normal");
  expect(await page.evaluate(() => (window.lockstep as OnePageHook).runner.status)).toBe("idle");

  // The Output Rule tour now runs without the rule, on the pair the switch booted.
  await page.getByRole("combobox", { name: "Scenario" }).selectOption("output-rule");
  await page.getByRole("button", { name: /Start tour|Restart tour/ }).click();
  await expect(progress).toHaveAttribute("data-status", "running");
  const result = await expectGreen(page, "inconsistent");
  await expect(page.getByRole("region", { name: "Protocol events" })).not.toContainText("booting a new pair");
  await expect(result).toContainText("never ran the command");
  // The client really holds the answer, and the new primary's own stream stops short of it.
  expect(await clientText(page)).toContain("\r\nPAYMENT-ACCEPTED\r\n");
  const [clientLen, produced] = await page.evaluate(() => {
    const c = (window.lockstep as OnePageHook).cluster;
    const p = c.hosts.find((h) => !h.dead && h.status?.role === "primary");
    return [c.client.length, p?.status?.console?.produced ?? -1];
  });
  expect(produced).toBeGreaterThanOrEqual(0);
  expect(produced).toBeLessThan(clientLen);

  // And back on: no reload either, and the note goes.
  await rule.check();
  await expect(page.getByRole("note").filter({ hasText: "without the Output Rule" })).toHaveCount(0);
  expect(new URL(page.url()).searchParams.get("rule")).toBeNull();
  expect(await page.evaluate(() => (window as unknown as { samePage?: boolean }).samePage)).toBe(true);
});
