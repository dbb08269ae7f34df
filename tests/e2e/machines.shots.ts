import { chromium, expect, test, type BrowserServer, type Page } from "@playwright/test";
import { CHROMIUM_ARGS, CHROMIUM_PATH, TEST_CONTEXT } from "../chromium.ts";
import { startEtcd } from "../helpers/etcd-server.ts";
import { clientText, run, shows } from "./ft.ts";

// The README's two-computer pictures (docs/screenshots/machines-{primary,backup}.png):
// `npm run screenshots`. Two Chromium processes on one etcd, as machines.spec.ts starts them, each
// page named as a classroom would name it; taken once the second is the backup and a key went in
// (whole pages: the host cards with their computer and the storage panel with etcd are below the fold).

const myState = (page: Page) => page.getByTestId("my-host").locator(".badge.state");

test("screenshot: two browsers on etcd, primary and backup, 960 wide, whole page", async ({ baseURL }) => {
  const etcd = await startEtcd({ cors: baseURL! });
  const servers: BrowserServer[] = [];
  try {
    const open = async (name: string) => {
      const server = await chromium.launchServer({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, "--disable-features=WebRtcHideLocalIpsWithMdns"] });
      servers.push(server);
      const browser = await chromium.connect(server.wsEndpoint());
      const page = await (await browser.newContext({ baseURL, viewport: { width: 960, height: 720 }, ...TEST_CONTEXT })).newPage();
      await page.goto(`/?cluster=etcd&etcd=${etcd.endpoint}&theme=light&computer=${encodeURIComponent(name)}`);
      return page;
    };
    const a = await open("projector laptop");
    await shows(myState(a), "alone", { timeout: 120_000 });
    await expect.poll(() => clientText(a), { timeout: 120_000 }).toMatch(/lockstep# /);
    const b = await open("student laptop");
    await shows(myState(b), "replaying", { timeout: 180_000 });
    await run(a, "kv set lesson 1", "OK");
    await expect.poll(() => clientText(b)).toContain("kv set lesson 1\r\nOK");
    await a.screenshot({ path: "docs/screenshots/machines-primary.png", fullPage: true });
    await b.screenshot({ path: "docs/screenshots/machines-backup.png", fullPage: true });
  } finally {
    for (const s of servers) await s.close().catch(() => undefined);
    await etcd.stop();
  }
});
