import { expect, test } from "./persistent.ts";
import { hostRole, hostState, poll, shows, waitForLockstep } from "./ft.ts";
import type { NetworkView } from "../../src/cluster/client-network.ts";

// Issue 13: kv over HTTP under load, the primary killed at a random moment. Every key whose
// `200 OK` reached the client must be there, with its value, on the promoted backup (the CGI
// answers only after the fsync'ed write, and the answer is an Output-Rule output).

type Page = import("@playwright/test").Page;
const view = (page: Page) => page.evaluate(() => window.lockstep!.mode === "ft" && window.lockstep!.cluster.network.view()) as Promise<NetworkView>;
const start = (page: Page, path: string) => page.evaluate((p) => (window.lockstep!.mode === "ft" ? window.lockstep!.cluster.network.download(p) : -1), path);

async function request(page: Page, path: string, timeout = 120_000) {
  const id = await start(page, path);
  await poll(async () => (await view(page)).downloads[id - 1].state, { timeout }).not.toBe("running");
  return (await view(page)).downloads[id - 1];
}

test("kv over HTTP, kill the primary at a random moment: every key acknowledged with 200 OK is present", async ({ page }) => {
  test.setTimeout(300_000);
  const seed = Date.now() % 1000;
  console.log(`network-kv seed ${seed}`);
  await page.goto("/");
  await waitForLockstep(page);
  const total = 8;
  const killAfter = 2 + (seed % 4);
  const ids: number[] = [];
  for (let i = 0; i < total; i++) {
    ids.push(await start(page, `/cgi-bin/kv?op=set&key=h${i}&value=v${i}-${seed}`));
    if (i === killAfter) await page.getByRole("button", { name: "Kill primary" }).click();
    // Requests one after the other, each on its own connection, so the kill lands in the middle of one.
    await poll(async () => (await view(page)).downloads[ids[i] - 1].state, { timeout: 120_000 }).not.toBe("running");
  }
  await shows(hostRole(page, "B#1"), "primary", { timeout: 20_000 });
  await shows(hostState(page, "B#1"), "alone");
  const v = await view(page);
  const acked = ids.map((id, i) => ({ i, d: v.downloads[id - 1] })).filter(({ d }) => d.state === "done" && d.status === 200 && d.text?.trim() === "OK");
  console.log(`acknowledged ${acked.map((a) => a.i).join(",")} of ${total}; kill after ${killAfter}`);
  expect(acked.length).toBeGreaterThanOrEqual(killAfter); // every request before the kill completed
  for (const { i } of acked) {
    const got = await request(page, `/cgi-bin/kv?op=get&key=h${i}`);
    expect(got.status, `key h${i}`).toBe(200);
    expect(got.text?.trim()).toBe(`v${i}-${seed}`);
  }
});

test("kv over HTTP, cut the logging channel: one host live, the other halted, every acknowledged key present", async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto("/");
  await waitForLockstep(page);
  const acked: number[] = [];
  for (let i = 0; i < 3; i++) {
    const d = await request(page, `/cgi-bin/kv?op=set&key=c${i}&value=w${i}`);
    if (d.status === 200 && d.text?.trim() === "OK") acked.push(i);
  }
  expect(acked).toEqual([0, 1, 2]);
  // One more request in flight while the channel is cut: its answer may or may not come.
  const inFlight = await start(page, "/cgi-bin/kv?op=set&key=c3&value=w3");
  await page.getByRole("button", { name: "Cut logging channel" }).click();
  const states = async () => [await hostState(page, "A#1").innerText(), await hostState(page, "B#1").innerText()].sort();
  await poll(states, { timeout: 20_000 }).toEqual(["alone", "halted"]);
  const live = (await hostState(page, "A#1").innerText()) === "alone" ? "A#1" : "B#1";
  await poll(async () => (await view(page)).downloads[inFlight - 1].state, { timeout: 120_000 }).not.toBe("running");
  const last = (await view(page)).downloads[inFlight - 1];
  if (last.status === 200 && last.text?.trim() === "OK") acked.push(3);
  console.log(`cut: ${live} live; acknowledged ${acked.join(",")}`);
  for (const i of acked) {
    const got = await request(page, `/cgi-bin/kv?op=get&key=c${i}`);
    expect(got.text?.trim(), `key c${i} on ${live}`).toBe(`w${i}`);
  }
  // The network follows the live host: the VM's MAC was last learned on its port (or never moved).
  const ports = (await view(page)).learned.filter((l) => l.port !== "client").map((l) => l.port);
  expect(ports.at(-1)).toBe(live);
});
