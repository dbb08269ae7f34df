import { authProblem, AUTH_MESSAGES, describeEtcdFailure, EtcdClient, EtcdError, type EtcdCredentials } from "../../storage/etcd/index.ts";

/**
 * Before a page joins a cluster on etcd: does etcd want a user name and password
 * (`npm run classroom -- --auth`)? The page asks for them (EtcdLogin.svelte) and checks them
 * with one login before any host starts, so a wrong password is said at once, in the form,
 * rather than as every host's storage failing. Nothing here decides go-live: without valid
 * credentials nothing starts at all.
 */
export type EtcdAccess =
  /** etcd answered without authentication: join as before. */
  | { kind: "open" }
  /** Authentication is on: ask the user. */
  | { kind: "ask" }
  /** No usable answer (down, CORS, timeout, permission): the page says so and asks again later. */
  | { kind: "failed"; message: string };

/** Any call tells: a range of nothing under the app's prefix (allowed to the app's role). */
export async function probeEtcd(endpoint: string, fetchFn?: typeof fetch): Promise<EtcdAccess> {
  const client = new EtcdClient(endpoint, fetchFn ? { fetch: fetchFn } : {});
  try {
    await client.range("/lockstep/", { end: "prefix", countOnly: true });
    return { kind: "open" };
  } catch (e) {
    if (!(e instanceof EtcdError)) throw e;
    if (authProblem(e.failure) === "required") return { kind: "ask" };
    return { kind: "failed", message: describeEtcdFailure(e.failure) };
  }
}

export type LoginResult = { ok: true; credentials: EtcdCredentials } | { ok: false; message: string };

/** One login with the form's user and password; the message is what the form shows. */
export async function checkLogin(endpoint: string, credentials: EtcdCredentials, fetchFn?: typeof fetch): Promise<LoginResult> {
  if (credentials.user === "" || credentials.password === "") return { ok: false, message: "Enter the user name and the password npm run classroom printed." };
  const client = new EtcdClient(endpoint, { credentials, ...(fetchFn ? { fetch: fetchFn } : {}) });
  try {
    await client.authenticate();
    // A user whose role does not cover the cluster's keys would fail every host: say it here.
    await client.range("/lockstep/", { end: "prefix", countOnly: true });
    return { ok: true, credentials };
  } catch (e) {
    if (!(e instanceof EtcdError)) throw e;
    const problem = authProblem(e.failure);
    if (problem === "rejected") return { ok: false, message: "Wrong user name or password." };
    if (problem === "denied") return { ok: false, message: `User “${credentials.user}”: ${AUTH_MESSAGES.denied}.` };
    return { ok: false, message: describeEtcdFailure(e.failure) };
  }
}
