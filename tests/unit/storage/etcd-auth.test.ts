import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authProblem, EtcdClient, EtcdError, EtcdStorage, etcdClientOptions, type EtcdFailure } from "../../../src/storage/etcd/index.ts";
import { checkLogin, probeEtcd } from "../../../src/ui/lib/etcd-login.ts";
import { APP_PREFIX, APP_USER, enableAuth, newPassword } from "../../../scripts/lib/etcd-auth.ts";
import { startEtcd, type EtcdServer } from "../../helpers/etcd-server.ts";

/**
 * etcd's authentication (npm run classroom -- --auth), first against a fetch that plays etcd's
 * answers (counted: one login, one re-login on expiry, never a loop), then against a real etcd
 * with auth on and a token that lives one second.
 */
const ENDPOINT = "http://etcd.test:2379";
const json = (status: number, body: object) => new Response(JSON.stringify(body), { status });
const EMPTY_USER = { error: "etcdserver: user name is empty", message: "etcdserver: user name is empty", code: 3 };
const BAD_PASSWORD = { error: "etcdserver: authentication failed, invalid user ID or password", message: "etcdserver: authentication failed, invalid user ID or password", code: 3 };
const EXPIRED = { error: "etcdserver: invalid auth token", message: "etcdserver: invalid auth token", code: 16 };
const HEADER = { header: { revision: "7" } };

/** A fake etcd: password "pw" for user "lockstep"; tokens t1, t2, …; `expire()` invalidates every token so far. */
function fakeEtcd() {
  const calls: { path: string; auth: string | null }[] = [];
  let issued = 0;
  let validFrom = 1;
  let alwaysExpired = false;
  const fetchFn = (async (url: string | URL | Request, init?: RequestInit) => {
    const path = new URL(String(url)).pathname;
    const auth = new Headers(init?.headers).get("authorization");
    calls.push({ path, auth });
    if (path === "/v3/auth/authenticate") {
      const b = JSON.parse(String(init!.body)) as { name: string; password: string };
      if (b.name !== "lockstep" || b.password !== "pw") return json(400, BAD_PASSWORD);
      return json(200, { ...HEADER, token: `t${++issued}` });
    }
    if (auth === null) return json(400, EMPTY_USER);
    if (alwaysExpired || Number(auth.slice(1)) < validFrom) return json(401, EXPIRED);
    return json(200, { ...HEADER, kvs: [], count: "0" });
  }) as typeof fetch;
  return {
    fetchFn,
    calls,
    logins: () => calls.filter((c) => c.path === "/v3/auth/authenticate").length,
    expire: () => (validFrom = issued + 1),
    breakTokens: () => (alwaysExpired = true),
  };
}

async function failureOf(p: Promise<unknown>): Promise<EtcdFailure> {
  const e = await p.then((v) => new Error(`resolved with ${JSON.stringify(v)}`), (e: unknown) => e);
  if (!(e instanceof EtcdError)) throw e;
  return e.failure;
}

describe("etcd client auth (fetch mocked)", () => {
  it("without credentials an auth-enabled etcd's answer is 'required', and nothing logs in", async () => {
    const f = fakeEtcd();
    const failure = await failureOf(new EtcdClient(ENDPOINT, { fetch: f.fetchFn }).range("/lockstep/x"));
    expect(authProblem(failure)).toBe("required");
    expect(f.logins()).toBe(0);
    expect(await probeEtcd(ENDPOINT, f.fetchFn)).toEqual({ kind: "ask" });
  });

  it("logs in once for a burst of concurrent calls and sends the token on each", async () => {
    const f = fakeEtcd();
    const c = new EtcdClient(ENDPOINT, { fetch: f.fetchFn, credentials: { user: "lockstep", password: "pw" } });
    await Promise.all([c.range("/lockstep/a"), c.range("/lockstep/b"), c.put("/lockstep/c", new Uint8Array([1]))]);
    expect(f.logins()).toBe(1);
    expect(f.calls.filter((x) => x.path !== "/v3/auth/authenticate").map((x) => x.auth)).toEqual(["t1", "t1", "t1"]);
  });

  it("an expired token: one re-login shared by the calls that met it, each call retried once", async () => {
    const f = fakeEtcd();
    const c = new EtcdClient(ENDPOINT, { fetch: f.fetchFn, credentials: { user: "lockstep", password: "pw" } });
    await c.range("/lockstep/a");
    f.expire();
    await Promise.all([c.range("/lockstep/a"), c.range("/lockstep/b")]);
    expect(f.logins()).toBe(2);
    expect(f.calls.at(-1)!.auth).toBe("t2");
  });

  it("a token refused again right after re-login: the error, after exactly one re-login (no loop)", async () => {
    const f = fakeEtcd();
    const c = new EtcdClient(ENDPOINT, { fetch: f.fetchFn, credentials: { user: "lockstep", password: "pw" } });
    await c.range("/lockstep/a");
    f.breakTokens();
    expect(authProblem(await failureOf(c.range("/lockstep/a")))).toBe("expired");
    expect(f.logins()).toBe(2);
    expect(f.calls.length).toBe(5); // login, range, range (expired), login, range (expired)
  });

  it("a wrong password: 'rejected', said by the login form; a storage with it never goes live", async () => {
    const f = fakeEtcd();
    const creds = { user: "lockstep", password: "nope" };
    expect(await checkLogin(ENDPOINT, creds, f.fetchFn)).toEqual({ ok: false, message: "Wrong user name or password." });
    const s = new EtcdStorage(new EtcdClient(ENDPOINT, { fetch: f.fetchFn, credentials: creds }), "c");
    const failure = await failureOf(s.lock.testAndSet(0, "A#1"));
    expect(authProblem(failure)).toBe("rejected");
    expect(new EtcdError(failure).message).toContain("wrong user name or password");
    expect(await checkLogin(ENDPOINT, { user: "lockstep", password: "pw" }, f.fetchFn)).toEqual({ ok: true, credentials: { user: "lockstep", password: "pw" } });
  });

  it("the credentials posted to the host worker are a plain copy (the page's reactive proxy of them cannot be cloned)", () => {
    const reactive = new Proxy({ user: "lockstep", password: "pw" }, {});
    expect(() => structuredClone({ credentials: reactive })).toThrow();
    expect(structuredClone(etcdClientOptions({ credentials: reactive }))).toEqual({ credentials: { user: "lockstep", password: "pw" } });
  });

  it("etcd down: the login form says unreachable, not 'wrong password'", async () => {
    const down = (async () => {
      throw new TypeError("fetch failed");
    }) as typeof fetch;
    const r = await checkLogin(ENDPOINT, { user: "lockstep", password: "pw" }, down);
    expect(r).toEqual({ ok: false, message: expect.stringContaining("unreachable") });
    expect(await probeEtcd(ENDPOINT, down)).toEqual({ kind: "failed", message: expect.stringContaining("unreachable") });
  });
});

describe("etcd auth on a real etcd (token TTL 1 s)", () => {
  let etcd: EtcdServer;
  const password = newPassword();
  beforeAll(async () => {
    etcd = await startEtcd({ extraArgs: ["--auth-token-ttl=1"] });
    await enableAuth(etcd.endpoint, { rootPassword: newPassword(), user: APP_USER, password, prefix: APP_PREFIX });
  });
  afterAll(() => etcd?.stop());

  it("no credentials: required; wrong: rejected; right: a test-and-set and a fenced write work, also after the token expired", async () => {
    expect(await probeEtcd(etcd.endpoint)).toEqual({ kind: "ask" });
    expect(await checkLogin(etcd.endpoint, { user: APP_USER, password: "wrong" })).toEqual({ ok: false, message: "Wrong user name or password." });
    expect((await checkLogin(etcd.endpoint, { user: APP_USER, password })).ok).toBe(true);
    const s = EtcdStorage.open(etcd.endpoint, "auth", { credentials: { user: APP_USER, password } });
    expect(await s.lock.testAndSet(0, "A#1")).toMatchObject({ ok: true });
    const disk = s.disk("d", 8192);
    await disk.write(0, new Uint8Array([1, 2, 3]), 1);
    // etcd's simple tokens are swept once their TTL passes: wait it out (a span, not a sync).
    await new Promise((r) => setTimeout(r, 2500));
    expect(Array.from(await disk.read(0, 3))).toEqual([1, 2, 3]);
  });

  it("the app's user may not touch keys outside /lockstep/", async () => {
    const c = new EtcdClient(etcd.endpoint, { credentials: { user: APP_USER, password } });
    expect(authProblem(await failureOf(c.range("/other/key")))).toBe("denied");
  });
});
