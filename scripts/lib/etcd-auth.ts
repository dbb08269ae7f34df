// etcd's authentication for `npm run classroom -- --auth` (and the tests that prove it): a root
// user, and a user for the app whose role may read and write the app's key prefix and nothing
// else. Through etcd's JSON gateway, the same API the browsers use (no etcdctl needed).
import { randomBytes } from "node:crypto";

export interface EtcdAuthPlan {
  /** etcd's `root` user: only this script logs in with it (to set the app user's password). */
  rootPassword: string;
  /** The user the pages log in as, and its password (printed once by npm run classroom). */
  user: string;
  password: string;
  /** Every key the app uses starts with this (src/storage/etcd/keys.ts). */
  prefix: string;
}

export const APP_PREFIX = "/lockstep/";
export const APP_USER = "lockstep";

/** 16 random bytes, URL-safe: typed once on each computer, so not longer. */
export const newPassword = (): string => randomBytes(16).toString("base64url");

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

/** The first key after the prefix (etcd's range end for "every key starting with"). */
function prefixEnd(prefix: string): string {
  const b = Buffer.from(prefix, "utf8");
  b[b.length - 1]!++;
  return b.toString("utf8");
}

async function post(endpoint: string, path: string, body: object, token?: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${endpoint}${path}`, { method: "POST", headers: { "content-type": "application/json", ...(token ? { authorization: token } : {}) }, body: JSON.stringify(body) });
  const j = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) throw new Error(`etcd ${path}: ${String(j.message ?? res.status)}`);
  return j;
}

/** Tolerates "already exists": a data directory kept from an earlier run has the users. */
async function ensure(p: Promise<unknown>): Promise<void> {
  await p.catch((e: unknown) => {
    if (!(e instanceof Error && /already exists/.test(e.message))) throw e;
  });
}

/** Whether etcd asks for a user: a range without a token answers "user name is empty". */
export async function authEnabled(endpoint: string): Promise<boolean> {
  try {
    await post(endpoint, "/v3/kv/range", { key: b64(APP_PREFIX) });
    return false;
  } catch (e) {
    if (e instanceof Error && /user name is empty/.test(e.message)) return true;
    throw e;
  }
}

export async function login(endpoint: string, user: string, password: string): Promise<string> {
  const r = await post(endpoint, "/v3/auth/authenticate", { name: user, password });
  return String(r.token);
}

/**
 * Auth off → on: root (role root), the app's role (read-write on the prefix), the app's user;
 * then enable. Auth already on → log in as root and set the app user's new password.
 */
export async function enableAuth(endpoint: string, plan: EtcdAuthPlan): Promise<void> {
  const perm = { permType: "READWRITE", key: b64(plan.prefix), range_end: b64(prefixEnd(plan.prefix)) };
  if (await authEnabled(endpoint)) {
    const root = await login(endpoint, "root", plan.rootPassword);
    await post(endpoint, "/v3/auth/user/changepw", { name: plan.user, password: plan.password }, root);
    return;
  }
  await ensure(post(endpoint, "/v3/auth/user/add", { name: "root", password: plan.rootPassword }));
  await post(endpoint, "/v3/auth/user/changepw", { name: "root", password: plan.rootPassword });
  await post(endpoint, "/v3/auth/user/grant", { user: "root", role: "root" });
  await ensure(post(endpoint, "/v3/auth/role/add", { name: plan.user }));
  await post(endpoint, "/v3/auth/role/grant", { name: plan.user, perm });
  await ensure(post(endpoint, "/v3/auth/user/add", { name: plan.user, password: plan.password }));
  await post(endpoint, "/v3/auth/user/changepw", { name: plan.user, password: plan.password });
  await post(endpoint, "/v3/auth/user/grant", { user: plan.user, role: plan.user });
  await post(endpoint, "/v3/auth/enable", {});
}

/** Auth on → off (npm run classroom without --auth on a data directory that had it). */
export async function disableAuth(endpoint: string, rootPassword: string): Promise<void> {
  await post(endpoint, "/v3/auth/disable", {}, await login(endpoint, "root", rootPassword));
}

/** Puts `value` at `key` (or deletes it when null), as `token`'s user (root when auth is on). */
export async function publish(endpoint: string, key: string, value: string | null, token?: string): Promise<void> {
  if (value === null) await post(endpoint, "/v3/kv/deleterange", { key: b64(key) }, token);
  else await post(endpoint, "/v3/kv/put", { key: b64(key), value: b64(value) }, token);
}
