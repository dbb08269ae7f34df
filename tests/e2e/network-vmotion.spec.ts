import { expect, test } from "./persistent.ts";
import { expectedSha } from "./net.ts";
import { hostRole, hostState, poll, waitForLockstep } from "./ft.ts";
import type { NetworkView } from "../../src/cluster/client-network.ts";

// Issue 13: one TCP connection through a failover, FT VMotion (restore redundancy) and a second
// failover. The client stops reading in between (its window closes, the guest's TCP probes it),
// so the connection is open across all three; then it reads on and checks the sha256.

type Page = import("@playwright/test").Page;
const view = (page: Page) => page.evaluate(() => window.lockstep!.mode === "ft" && window.lockstep!.cluster.network.view()) as Promise<NetworkView>;
const net = (page: Page, op: "download" | "pause" | "resume", arg: string | number) =>
  page.evaluate(([o, a]) => {
    const n = window.lockstep!.mode === "ft" ? window.lockstep!.cluster.network : null;
    if (!n) return -1;
    if (o === "download") return n.download(a as string);
    n[o as "pause" | "resume"](a as number);
    return 0;
  }, [op, arg] as const);


test("one connection survives a failover, FT VMotion and a second failover", async ({ page }) => {
  test.setTimeout(360_000);
  await page.goto("/");
  await waitForLockstep(page);
  const made = await net(page, "download", "/cgi-bin/mkfile?mib=2");
  await poll(async () => (await view(page)).downloads[made - 1].state, { timeout: 120_000 }).toBe("done");
  const id = await net(page, "download", "/files/big-2.bin");
  const dl = async () => (await view(page)).downloads[id - 1];
  await poll(async () => (await dl()).received, { timeout: 120_000 }).toBeGreaterThan(256 * 1024);
  await net(page, "pause", id);

  await page.getByRole("button", { name: "Kill primary" }).click();
  await expect(hostState(page, "B#1")).toHaveText("alone", { timeout: 20_000 });
  await page.getByRole("button", { name: "Restore redundancy" }).click();
  await expect(hostState(page, "C#1")).toHaveText("replaying", { timeout: 60_000 });
  await expect(hostState(page, "B#1")).toHaveText("recording");
  await page.getByRole("button", { name: "Kill primary" }).click();
  await expect(hostRole(page, "C#1")).toHaveText("primary", { timeout: 20_000 });
  await expect(hostState(page, "C#1")).toHaveText("alone");

  expect((await dl()).state).toBe("running");
  await net(page, "resume", id);
  await poll(async () => (await dl()).state, { timeout: 180_000 }).toBe("done");
  const d = await dl();
  const v = await view(page);
  console.log(`network vmotion e2e: tcp ${JSON.stringify(d.tcp)}, learned ${JSON.stringify(v.learned.map((l) => `${l.mac}@${l.port}`))}`);
  expect(d.sha256).toBe(expectedSha(2));
  expect(d.connections).toBe(1);
  expect(v.learned.filter((l) => l.port === "C#1").length).toBeGreaterThan(0);
});
