import { expect, test } from "./persistent.ts";
import { expectedSha } from "./net.ts";
import { hostRole, hostState, poll, shows, waitForLockstep } from "./ft.ts";
import type { DownloadView, NetworkView } from "../../src/cluster/client-network.ts";

// Issue 13: a TCP connection survives the failover. The client (the project's own TCP/IP in
// the page, behind the virtual switch) downloads a 2 MiB file from the guest's httpd; the
// primary is killed a quarter of the way in; the promoted backup announces the VM's MAC, the switch
// moves it, TCP retransmits what the failover lost and drops what was sent twice, and the
// same connection delivers the whole file with the right sha256.

const MIB = 2;

const view = (page: import("@playwright/test").Page) => page.evaluate(() => window.lockstep!.mode === "ft" && window.lockstep!.cluster.network.view()) as Promise<NetworkView>;
const dl = async (page: import("@playwright/test").Page, id: number): Promise<DownloadView> => (await view(page)).downloads[id - 1];

test("download 2 MiB over a lossy client link, kill the primary in the middle: the same connection completes with the right sha256", async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto("/");
  await waitForLockstep(page);
  const start = (path: string) => page.evaluate((p) => (window.lockstep!.mode === "ft" ? window.lockstep!.cluster.network.download(p) : -1), path);

  const made = await start(`/cgi-bin/mkfile?mib=${MIB}`);
  await poll(async () => (await dl(page, made)).state, { timeout: 120_000 }).toBe("done");
  const [path, size, guestSha] = (await dl(page, made)).text!.trim().split(" ");
  expect(size).toBe(String(MIB * 1048576));
  const want = expectedSha(MIB);
  expect(guestSha).toBe(want);

  // A lossy client link too (the panel's control): TCP must recover from the link's losses as well as the failover's.
  await page.getByTestId("net-link").getByLabel("loss").selectOption("1");
  const id = await start(path);
  await poll(async () => (await dl(page, id)).received, { timeout: 120_000 }).toBeGreaterThan(MIB * 1048576 / 4);
  expect((await dl(page, id)).state).toBe("running");
  await page.getByRole("button", { name: "Kill primary" }).click();
  await shows(hostRole(page, "B#1"), "primary", { timeout: 20_000 });
  await shows(hostState(page, "B#1"), "alone");

  await poll(async () => (await dl(page, id)).state, { timeout: 180_000 }).toBe("done");
  const d = await dl(page, id);
  const v = await view(page);
  console.log(`network e2e: ${d.received} bytes, tcp ${JSON.stringify(d.tcp)}, switch ${JSON.stringify(v.switch)}, learned ${JSON.stringify(v.learned)}`);
  expect(d.status).toBe(200);
  expect(d.received).toBe(MIB * 1048576);
  expect(d.sha256).toBe(want);
  expect(d.connections).toBe(1);
  expect(d.error).toBeNull();
  expect(v.link.lossPct).toBe(1);
  // The Figure counts the packets: those the guest transmitted (outputs) and those it took in.
  const legend = page.getByRole("group", { name: "Entry kinds (select one to inspect)" });
  await legend.getByRole("button", { name: "packet out" }).click();
  await expect(page.locator(".inspect")).toContainText(/transmitted [1-9]\d{2,}/);
  await legend.getByRole("button", { name: "packet in" }).click();
  await expect(page.locator(".inspect")).toContainText(/into the VM [1-9]\d{2,}/);
  expect(v.link.stats.lost).toBeGreaterThan(0);
  // The switch followed the failover: the VM's MAC moved from A#1's port to B#1's.
  const guestMac = v.learned.find((l) => l.port === "A#1")?.mac;
  expect(guestMac).toBeTruthy();
  expect(v.learned.some((l) => l.mac === guestMac && l.port === "B#1")).toBe(true);
});
