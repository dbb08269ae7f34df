import { expect, test } from "./persistent.ts";
import { expectedSha } from "./net.ts";
import { hostRole, hostState, poll, shows, waitForLockstep } from "./ft.ts";
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
  const t0 = Date.now();
  const stage = (what: string) => console.log(`network vmotion [${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}`);
  await page.goto("/");
  await waitForLockstep(page);
  stage("in lockstep");
  const made = await net(page, "download", "/cgi-bin/mkfile?mib=2");
  await poll(async () => (await view(page)).downloads[made - 1].state, { timeout: 120_000 }).toBe("done");
  stage("the guest made the 2 MiB file");
  const id = await net(page, "download", "/files/big-2.bin");
  const dl = async () => (await view(page)).downloads[id - 1];
  await poll(async () => (await dl()).received, { timeout: 120_000 }).toBeGreaterThan(256 * 1024);
  await net(page, "pause", id);
  stage(`downloading, paused at ${(await dl()).received} bytes`);

  await page.getByRole("button", { name: "Kill primary" }).click();
  await shows(hostState(page, "B#1"), "alone", { timeout: 20_000 });
  stage("B#1 alone");
  await page.getByRole("button", { name: "Restore redundancy" }).click();
  await shows(hostState(page, "C#1"), "replaying", { timeout: 60_000 });
  await shows(hostState(page, "B#1"), "recording");
  stage("C#1 replaying");
  await page.getByRole("button", { name: "Kill primary" }).click();
  await shows(hostRole(page, "C#1"), "primary", { timeout: 20_000 });
  await shows(hostState(page, "C#1"), "alone");
  stage(`C#1 alone; switch learned ${JSON.stringify((await view(page)).learned.map((l) => `${l.mac}@${l.port}`))}`);

  expect((await dl()).state).toBe("running");
  await net(page, "resume", id);
  const resumed = await dl();
  await poll(async () => (await dl()).received, { timeout: 180_000 }).toBeGreaterThan(resumed.received);
  stage(`first bytes after the resume (${JSON.stringify(resumed.tcp)})`);
  await poll(async () => (await dl()).state, { timeout: 180_000 }).toBe("done");
  stage("done");
  const d = await dl();
  const v = await view(page);
  console.log(`network vmotion e2e: tcp ${JSON.stringify(d.tcp)}, learned ${JSON.stringify(v.learned.map((l) => `${l.mac}@${l.port}`))}`);
  expect(d.sha256).toBe(expectedSha(2));
  expect(d.connections).toBe(1);
  expect(v.learned.filter((l) => l.port === "C#1").length).toBeGreaterThan(0);
});
