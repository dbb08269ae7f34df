import type { EtcdFailure } from "./errors.ts";

/**
 * etcd's authentication (issue 14: `npm run classroom -- --auth`), as the app sees it: a user
 * name and password the page asks for, exchanged for a token with POST /v3/auth/authenticate
 * and sent as the `Authorization` header of every call. etcd's simple tokens expire (5 min by
 * default, `--auth-token-ttl`), so the client keeps the credentials and logs in again when etcd
 * answers "invalid auth token" — once per call, never in a loop.
 *
 * The credentials live in memory only (the page's state and, posted to it, the host worker's):
 * a reload asks again. Not sessionStorage: the classroom page is served over plain http on the
 * LAN, and a browser may write session storage to disk for session restore.
 */
export interface EtcdCredentials {
  user: string;
  password: string;
}

/**
 * What an etcd error says about authentication, from the gateway's answer (etcd 3.4):
 * - `required`: auth is on and the call had no token ("user name is empty", HTTP 400, code 3);
 * - `rejected`: wrong user name or password ("authentication failed", HTTP 400, code 3);
 * - `expired`: the token is no longer valid ("invalid auth token", HTTP 401, code 16);
 * - `denied`: the user may not touch that key ("permission denied", code 7).
 */
export type AuthProblem = "required" | "rejected" | "expired" | "denied";

export function authProblem(f: EtcdFailure): AuthProblem | null {
  if (f.kind !== "http") return null;
  const m = f.message;
  if (/user name is empty/.test(m)) return "required";
  if (/authentication failed/.test(m)) return "rejected";
  if (f.grpcCode === 16 || /invalid auth token/.test(m)) return "expired";
  if (f.grpcCode === 7 || /permission denied/.test(m)) return "denied";
  return null;
}

/** What the page says for each problem (the failure's own text follows it). */
export const AUTH_MESSAGES: Record<AuthProblem, string> = {
  required: "etcd has authentication on: it needs a user name and password",
  rejected: "wrong user name or password",
  expired: "etcd's login token expired and logging in again failed",
  denied: "this user may not use the cluster's keys (its role does not cover /lockstep/)",
};

/**
 * The token of one client: fetched on first use, shared by concurrent calls (one login, not one
 * per call in flight), renewed when a call finds it expired. `renew(used)` logs in again only
 * if nobody did since `used` was handed out, so a burst of calls that all meet the expiry
 * still costs one login.
 */
export class AuthSession {
  private token: string | null;
  private pending: Promise<string> | null = null;

  constructor(
    readonly credentials: EtcdCredentials | null,
    private readonly login: (c: EtcdCredentials) => Promise<string>,
    token: string | null = null,
  ) {
    this.token = token;
  }

  /** The token to send now (logging in first if there is none yet); null without credentials. */
  async current(): Promise<string | null> {
    if (this.token !== null || this.credentials === null) return this.token;
    return this.fetch();
  }

  /** A new token after `used` was refused as expired. */
  async renew(used: string | null): Promise<string | null> {
    if (this.credentials === null) return this.token;
    if (this.token !== used && this.token !== null) return this.token;
    this.token = null;
    return this.fetch();
  }

  private fetch(): Promise<string> {
    this.pending ??= this.login(this.credentials!).then(
      (t) => {
        this.pending = null;
        this.token = t;
        return t;
      },
      (e: unknown) => {
        this.pending = null;
        throw e;
      },
    );
    return this.pending;
  }
}
