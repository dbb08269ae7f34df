// `npm run classroom -- --auth`: etcd's authentication on or off to match the flag, on a data
// directory that may keep an earlier run's state. etcd's root password stays on this machine
// (.classroom/etcd-root-password, mode 0600) so a later run can change the app's password or
// turn auth off; the app's password is new every start, printed once and stored nowhere.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { APP_PREFIX, APP_USER, authEnabled, disableAuth, enableAuth, login, newPassword } from "./etcd-auth.ts";

export interface ClassroomAccess {
  /** What the pages log in with (print it once), or null when auth is off. */
  login: { user: string; password: string } | null;
  /** root's token, for this script's own writes (the ICE config) while auth is on. */
  rootToken: string | undefined;
}

export async function configureAuth(endpoint: string, wanted: boolean, rootFile: string): Promise<ClassroomAccess> {
  const on = await authEnabled(endpoint);
  const stored = existsSync(rootFile) ? readFileSync(rootFile, "utf8").trim() : null;
  if (on && stored === null) {
    throw new Error(`etcd in .classroom/etcd has authentication on, but ${rootFile} (its root password) is gone: start over with --fresh`);
  }
  if (!wanted) {
    if (on) await disableAuth(endpoint, stored!);
    return { login: null, rootToken: undefined };
  }
  const rootPassword = stored ?? newPassword();
  if (stored === null) writeFileSync(rootFile, rootPassword + "\n", { mode: 0o600 });
  const password = newPassword();
  await enableAuth(endpoint, { rootPassword, user: APP_USER, password, prefix: APP_PREFIX });
  return { login: { user: APP_USER, password }, rootToken: await login(endpoint, "root", rootPassword) };
}
