import { expect, test } from "@playwright/test";
import type { PairResult } from "../../src/engine/browser/pair.ts";

test("record in one worker, replay in another: identical checkpoints and state", async ({ page }) => {
  await page.goto("/?mode=engine-pair");
  await page.waitForFunction(() => "runLockstepPair" in window);
  const r = await page.evaluate(
    () =>
      (window as unknown as { runLockstepPair(o: { imagesUrl: string; commands: string[] }): Promise<PairResult> }).runLockstepPair({
        imagesUrl: "/images/",
        commands: ["kv set foo bar", "kv get foo", "head -c 16 /dev/urandom | od -An -tx1", "sleep 1", "kv list"],
      }),
  );
  expect(r.backup.divergence).toBeNull();
  expect(r.primary.checkpoints.length).toBeGreaterThan(0);
  expect(r.backup.checkpoints).toEqual(r.primary.checkpoints);
  expect(r.backup.stateHash).toBe(r.primary.stateHash);
  expect(r.backup.console).toBe(r.primary.console);
  expect(r.primary.console).toContain("bar");
  expect(r.identical).toBe(true);
});
