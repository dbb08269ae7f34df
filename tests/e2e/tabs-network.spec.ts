import { expect, test } from "./persistent.ts";
import { poll, shows } from "./ft.ts";
import { download, downloadView, expectedSha, netView } from "./net.ts";
import { joinAsBackup, myRole, myState, startPrimary } from "./tabs.ts";

// Issue 13 in tab mode: the virtual network spans the tabs (each tab's switch has a trunk to the
// others' over the cluster transport, and each tab's client its own address). The backup's tab
// downloads a file from the guest running in the primary's tab; the primary's tab is closed in
// the middle; the backup goes live in the downloading tab, announces the VM's MAC, and the same
// TCP connection completes with the right sha256.

const MIB = 1;

test("tab mode: a download from the backup's tab survives closing the primary's tab, on one connection", async ({ context }) => {
  test.setTimeout(300_000);
  const a = await startPrimary(context);
  const b = await joinAsBackup(context, a);

  // The file is made on the guest's data disk by a request from tab B: its packets cross to A.
  const made = await download(b, `/cgi-bin/mkfile?mib=${MIB}`);
  await poll(async () => (await downloadView(b, made)).state, { timeout: 120_000 }).toBe("done");
  const [path, size, guestSha] = (await downloadView(b, made)).text!.trim().split(" ");
  expect(size).toBe(String(MIB * 1048576));
  expect(guestSha).toBe(expectedSha(MIB));
  const before = await netView(b);
  expect(before.clientIp).toMatch(/^10\.0\.2\.\d+$/);
  // The guest's MAC was learned behind the trunk to A's tab.
  expect(before.learned.some((l) => l.port.startsWith("tab:"))).toBe(true);

  const id = await download(b, path!);
  await poll(async () => (await downloadView(b, id)).received, { timeout: 120_000 }).toBeGreaterThan(128 * 1024);
  expect((await downloadView(b, id)).state).toBe("running");
  await a.close();
  await shows(myRole(b), "primary", { timeout: 30_000 });
  await shows(myState(b), "alone");

  await poll(async () => (await downloadView(b, id)).state, { timeout: 180_000 }).toBe("done");
  const d = await downloadView(b, id);
  const v = await netView(b);
  console.log(`tabs network e2e: ${d.received} bytes, tcp ${JSON.stringify(d.tcp)}, learned ${JSON.stringify(v.learned.map((l) => `${l.mac}@${l.port}`))}`);
  expect(d.status).toBe(200);
  expect(d.received).toBe(MIB * 1048576);
  expect(d.sha256).toBe(expectedSha(MIB));
  expect(d.connections).toBe(1);
  // After the failover the VM's MAC is on this tab's own host port (the new primary announced it).
  const guestMac = v.learned.find((l) => l.port.startsWith("tab:") && l.mac.startsWith("00:22:15"))?.mac;
  expect(guestMac).toBeTruthy();
  expect(v.learned.at(-1)).toMatchObject({ mac: guestMac });
  expect(v.learned.at(-1)!.port.startsWith("tab:")).toBe(false);
});
