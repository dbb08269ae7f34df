import { expect, test, type Page } from "@playwright/test";
import { APP_PREFIX, APP_USER, enableAuth, newPassword } from "../../scripts/lib/etcd-auth.ts";
import { startEtcd, type EtcdServer } from "../helpers/etcd-server.ts";
import { clientText, poll, run, shows } from "./ft.ts";
import { computer, myState, primaryReady, type Machine } from "./machines-rig.ts";

/**
 * etcd with authentication on (npm run classroom -- --auth): the page asks for the user and
 * password before anything joins; a wrong password is said in the form and nothing starts; with
 * the right one two browsers form the pair and kv works through it. Tokens live 5 s here, so
 * the pair runs past several expiries (each host and page logs in again on "invalid auth token").
 */
let etcd: EtcdServer | undefined;
const machines: Machine[] = [];
const password = newPassword();

test.afterEach(async () => {
  for (const m of machines.splice(0)) await m.server.close().catch(() => undefined);
  await etcd?.stop();
});

const form = (page: Page) => page.getByRole("form", { name: "etcd login" });

async function logIn(page: Page, pw: string): Promise<void> {
  await form(page).getByLabel("User name").fill(APP_USER);
  await form(page).getByLabel("Password").fill(pw);
  await form(page).getByRole("button", { name: "Log in" }).click();
}

test("etcd with auth: the page asks; a wrong password is refused in the form; with the right one the pair boots and kv set/get works", async ({ baseURL }) => {
  etcd = await startEtcd({ cors: baseURL!, extraArgs: ["--auth-token-ttl=5"] });
  await enableAuth(etcd.endpoint, { rootPassword: newPassword(), user: APP_USER, password, prefix: APP_PREFIX });
  const url = `/?cluster=etcd&etcd=${etcd.endpoint}`;

  const a = await computer(machines, baseURL!, url);
  await expect(form(a.page)).toBeVisible();
  await expect(a.page.getByTestId("my-host")).toHaveCount(0);
  await logIn(a.page, "not-the-password");
  await expect(form(a.page).getByRole("alert")).toHaveText("Wrong user name or password.");
  await expect(a.page.getByTestId("my-host")).toHaveCount(0);
  expect(a.page.url()).not.toContain("not-the-password");

  await logIn(a.page, password);
  await expect(form(a.page)).toHaveCount(0);
  await primaryReady(a);
  const b = await computer(machines, baseURL!, url);
  await logIn(b.page, password);
  await shows(myState(b.page), "replaying", { timeout: 180_000 });
  await run(a.page, "kv set auth yes", "OK");
  await poll(() => clientText(b.page)).toContain("kv set auth yes\r\nOK");
  await run(a.page, "kv get auth", "yes");
  await expect(a.page.getByTestId("etcd-failure")).toHaveCount(0);
  expect(a.page.url()).not.toContain(password);
});
