import { expect, test } from "./persistent.ts";
import { clientText, hostRole, hostState, poll, run, shows, waitForLockstep } from "./ft.ts";

for (const [name, query] of [
  ["read data in the log", "/"],
  ["backup reads the shared disk itself", "/?reads=backup"],
  ["non-shared disk: each host its own copy", "/?disk=non-shared"],
] as const) {
  test(`kill the primary under kv load (${name}): the backup goes live with every acknowledged key`, async ({ page }) => {
    await page.goto(query);
    await waitForLockstep(page);
    const nonShared = query.includes("non-shared");
    const diskOf = (id: string) => page.getByRole("article", { name: `${id} host` }).getByTestId("host-disk");
    const acked: number[] = [];
    const killAfter = 2 + Math.floor(Math.random() * 3);
    for (let i = 0; i < killAfter; i++) {
      await run(page, `kv set k${i} v${i}`, "OK");
      acked.push(i);
      if (nonShared && i === 0) {
        // Paper 4.1: two disks, one per host, kept in sync by the backup's replayed writes. (From the
        // boot image the copies start as the boot left the disk: the first fsync'ed set writes both.)
        for (const id of ["A#1", "B#1"]) await expect(diskOf(id)).toHaveText(new RegExp(`own copy ${id} · [1-9][\\d,]* blocks`));
        expect(await diskOf("A#1").getAttribute("title")).not.toBe(await diskOf("B#1").getAttribute("title"));
      }
    }
    // One more set in flight while the primary dies: its OK may or may not have been released.
    await page.keyboard.type(`kv set k${killAfter} v${killAfter}\n`);
    await page.getByRole("button", { name: "Kill primary" }).click();

    await shows(hostRole(page, "B#1"), "primary", { timeout: 20_000 });
    await shows(hostState(page, "B#1"), "alone");
    if ((await clientText(page)).includes(`kv set k${killAfter} v${killAfter}\r\nOK`)) acked.push(killAfter);

    for (const i of acked) await run(page, `kv get k${i}`, `v${i}`);

    const text = await clientText(page);
    for (const i of acked) {
      // Exactly once: the command echo and its answer appear once, whatever was resent at failover.
      expect(text.split(`kv set k${i} v${i}\r\n`).length - 1).toBe(1);
    }
    expect(await page.getByTestId("client-stream").innerText()).toContain("conflicts 0");
    if (nonShared) {
      // The dead primary's copy is garbage: the cluster service deletes it; B's own copy stays.
      const databases = () => page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name ?? "").filter((n) => n.includes("/own-disk/")));
      await poll(databases).toEqual([expect.stringMatching(/\/B#1$/)]);
    }
  });
}
