import { expect, test } from "./persistent.ts";
import { clientText, hostRole, hostState, poll, run, shows, waitForLockstep } from "./ft.ts";

const feed = (page: import("@playwright/test").Page) => page.getByRole("region", { name: "Protocol events" });

// One pair for both: the primary alone after Kill backup is where restoring redundancy starts.
test("kill the backup: the primary goes on alone and outputs no longer wait; restore redundancy by FT VMotion, then fail over a second time with nothing lost", async ({ page }) => {
  await page.goto("/");
  await waitForLockstep(page);
  await run(page, "kv set first 1", "OK");
  await page.getByRole("button", { name: "Kill backup" }).click();
  await shows(hostState(page, "A#1"), "alone", { timeout: 20_000 });
  await expect(page.getByTestId("lock-epoch")).toHaveText("2");
  await run(page, "kv set second 2", "OK");
  await run(page, "kv get first", "1");
  const card = page.getByRole("article", { name: "A#1 host" });
  await expect(card).toContainText(/held outputs\s*0/);
  await expect(card).toContainText(/unacked\s*0 B/);

  await page.getByRole("button", { name: "Restore redundancy" }).click();
  await shows(hostState(page, "C#1"), "replaying", { timeout: 60_000 });
  await shows(hostState(page, "A#1"), "recording");
  await run(page, "kv set third 3", "OK");

  await page.getByRole("button", { name: "Kill primary" }).click();
  await shows(hostRole(page, "C#1"), "primary", { timeout: 20_000 });
  for (const [k, v] of [["first", "1"], ["second", "2"], ["third", "3"]]) await run(page, `kv get ${k}`, v!);
  expect(await page.getByTestId("client-stream").innerText()).toContain("conflicts 0");
  expect((await clientText(page)).split("kv set third 3\r\n").length - 1).toBe(1);
});

test("storage unreachable during go-live: nobody goes live until it returns; then every control says what it does or waits for", async ({ page }) => {
  await page.goto("/");
  await waitForLockstep(page);
  await run(page, "kv set s 1", "OK");
  await page.getByRole("checkbox", { name: "Storage reachable" }).uncheck();
  await page.getByRole("button", { name: "Kill primary" }).click();
  await shows(hostState(page, "B#1"), "going-live", { timeout: 20_000 });
  // Waiting is the rule: the backup keeps retrying the test-and-set and must not go live.
  await expect(feed(page)).toContainText("storage", { timeout: 10_000 });
  // ... and it says what it waits for, on its card and in the client, where a command now waits.
  await expect(page.getByRole("article", { name: "B#1 host" }).getByTestId("lock-wait")).toHaveText(/waiting for the lock record/);
  await page.getByRole("application", { name: "Client console" }).click();
  await page.keyboard.type("kv set w 2\n");
  await expect(page.getByTestId("client-wait")).toContainText("B#1 is going live, waiting for the lock record");
  await page.waitForTimeout(2_000); // a span of time with storage down, not a synchronisation
  await shows(hostState(page, "B#1"), "going-live");
  await expect(page.getByTestId("lock-epoch")).toHaveText("1");
  await page.getByRole("checkbox", { name: "Storage reachable" }).check();
  await shows(hostRole(page, "B#1"), "primary", { timeout: 20_000 });
  await expect(page.getByTestId("client-wait")).toBeHidden();
  await run(page, "kv get s", "1");
  await run(page, "kv get w", "2"); // the command typed while it waited ran, once

  // Auto-restore ticked while the primary runs alone acts at once.
  await page.getByRole("checkbox", { name: "Auto-restore" }).check();
  await expect(feed(page)).toContainText("auto-restore on: B#1 runs alone, restoring redundancy now");
  await shows(hostState(page, "C#1"), "replaying", { timeout: 60_000 });

  // Typing into a paused VM says why nothing happens.
  await page.locator("h1").click();
  await page.keyboard.press("p");
  await expect(page.getByRole("article", { name: "B#1 host" }).locator(".badge.vm-paused")).toBeVisible();
  await expect(page.getByTestId("client-wait")).toContainText("The VM is paused");
  await page.keyboard.press("p");
  await expect(page.getByTestId("client-wait")).toBeHidden();

  // No VM left: every control says why it cannot act, and a new pair is offered.
  // Both in one task: the backup may notice the primary's death within milliseconds.
  await page.evaluate(() => {
    const button = (name: string) => [...document.querySelectorAll("button")].find((b) => b.textContent?.trim() === name)!;
    button("Kill primary").click();
    button("Kill backup").click();
  });
  const alert = page.getByRole("alert").filter({ hasText: "No VM is running" });
  await expect(alert).toBeVisible();
  await expect(page.getByRole("button", { name: "Kill primary" })).toHaveAttribute("title", /Start a New pair/);
  await expect(page.getByTestId("client-wait")).toContainText("No VM is running");
  await alert.getByRole("button", { name: "Start a new pair" }).click();
  await expect(alert).toBeHidden();
  // A fresh pair boots (tours back to back check it reaches lockstep: lecture.spec.ts).
  await expect(page.getByRole("article", { name: "E#1 host" })).toBeVisible();
});

test("auto-restore: after a failover a new backup is cloned without a click", async ({ page }) => {
  await page.goto("/");
  await waitForLockstep(page);
  await page.getByRole("checkbox", { name: "Auto-restore" }).check();
  await run(page, "kv set auto 1", "OK");
  await page.getByRole("button", { name: "Kill primary" }).click();
  await shows(hostRole(page, "B#1"), "primary", { timeout: 20_000 });
  await shows(hostState(page, "C#1"), "replaying", { timeout: 60_000 });
  await shows(hostState(page, "B#1"), "recording");
  await run(page, "kv get auto", "1");
});

test("kill the backup, then at once restore redundancy: the request waits for the primary to notice, and is carried out", async ({ page }) => {
  await page.goto("/");
  await waitForLockstep(page);
  await run(page, "kv set k 1", "OK");
  const restore = page.getByRole("button", { name: "Restore redundancy" });
  // Both clicks before the primary can notice: a killed worker's channel closes at once, so
  // the primary may notice within milliseconds. Between the clicks only the page re-renders.
  await page.evaluate(async () => {
    const button = (name: string) => [...document.querySelectorAll("button")].find((b) => b.textContent?.trim() === name)!;
    button("Kill backup").click();
    await new Promise((r) => setTimeout(r, 0));
    button("Restore redundancy").click();
  });
  await expect(feed(page)).toContainText("restore redundancy requested: it starts when A#1 notices it runs alone");
  await shows(hostState(page, "C#1"), "replaying", { timeout: 60_000 });
  await shows(hostState(page, "A#1"), "recording");
  await expect(feed(page)).not.toContainText("nothing to restore");
  await run(page, "kv get k", "1");
  // Fault tolerant again: a second request is refused visibly, with the reason.
  await expect(restore).toBeDisabled();
  await expect(restore).toHaveAttribute("title", /backup C#1 replays/);
});

// One pair for both: the split brain the cut makes is where the controls must act on live roles.
test("cut the logging channel: exactly one host goes live, the other halts and is fenced; the halted host is neither backup nor primary; restore and kill act on the live primary", async ({ page }) => {
  await page.goto("/");
  await waitForLockstep(page);
  await run(page, "kv set c 1", "OK");
  await page.getByRole("button", { name: "Cut logging channel" }).click();
  const states = async () => [await hostState(page, "A#1").innerText(), await hostState(page, "B#1").innerText()].sort();
  await poll(states, { timeout: 20_000 }).toEqual(["alone", "halted"]);
  // The halted host is no backup: redundancy can be restored at once (checked before the rest takes time).
  const restore = page.getByRole("button", { name: "Restore redundancy" });
  await expect(restore).toBeEnabled({ timeout: 5_000 });
  await expect(page.getByTestId("lock-epoch")).toHaveText("2");
  await page.getByRole("button", { name: "Zombie write" }).click();
  await expect(feed(page)).toContainText("rejected: write fenced: writer epoch 1, current epoch 2");
  await expect(feed(page)).not.toContainText("ACCEPTED");
  // The survivor still serves the data written before the cut.
  await run(page, "kv get c", "1");
  // Either host may win the test-and-set: whichever lost is halted, the other is the live primary.
  const live = (await hostState(page, "A#1").innerText()) === "alone" ? "A#1" : "B#1";
  const halted = live === "A#1" ? "B#1" : "A#1";
  console.log(`cut: ${live} went live, ${halted} halted`);

  await expect(restore).toBeEnabled();
  await restore.click();
  await shows(hostState(page, "C#1"), "replaying", { timeout: 60_000 });
  await shows(hostState(page, live), "recording");
  await run(page, "kv set d 2", "OK");

  // Kill primary pulls the live primary's plug, never the halted former one's.
  await page.getByRole("button", { name: "Kill primary" }).click();
  await shows(hostRole(page, "C#1"), "primary", { timeout: 20_000 });
  await shows(hostState(page, halted), "halted");
  await run(page, "kv get c", "1");
  await run(page, "kv get d", "2");
  expect(await page.getByTestId("client-stream").innerText()).toContain("conflicts 0");
});
