import { EtcdError, type EtcdFailure } from "./errors.ts";
import { toBase64, utf8 } from "./base64.ts";
import { parseJson, parseKvs, parseRevision, type Json } from "./wire.ts";
import { compareBody, endOf, opBody, rangeBody } from "./bodies.ts";
import { AuthSession, authProblem, type EtcdCredentials } from "./auth.ts";

/**
 * A thin client of etcd's v3 API through its HTTP/JSON gateway (etcd 3.4: `/v3/kv/range`,
 * `/v3/kv/txn`, `/v3/lease/*`, `/v3/watch`), over `fetch` only, so the same code runs in a
 * browser (etcd started with `--cors=<the app's origin>`) and in Node. Keys are strings, values
 * bytes; the gateway's base64 and its int64-as-string stay in here. Every failure is an
 * `EtcdError` carrying an `EtcdFailure`.
 */
export interface KeyValue {
  key: string;
  value: Uint8Array;
  createRevision: number;
  modRevision: number;
  version: number;
  /** The lease the key lives under, if any (etcd's int64 id, kept as text). */
  lease: string | null;
}

export interface RangeResult {
  kvs: KeyValue[];
  count: number;
  /** The store's revision when it answered. */
  revision: number;
}

/** `end`: "prefix" for every key starting with `key`, or the exclusive upper key. */
export interface RangeOpts {
  end?: string | "prefix";
  keysOnly?: boolean;
  countOnly?: boolean;
  limit?: number;
}

export type Compare =
  | { key: string; target: "version" | "create" | "mod"; op: "=" | "!=" | "<" | ">"; revision: number }
  | { key: string; target: "value"; op: "=" | "!="; value: Uint8Array };

export type TxnOp =
  | { put: { key: string; value: Uint8Array; lease?: string } }
  | { range: { key: string } & RangeOpts }
  | { deleteRange: { key: string; end?: string | "prefix" } };

export type TxnResponse = { range: RangeResult } | { put: true } | { deleteRange: { deleted: number } };

export interface TxnResult {
  succeeded: boolean;
  responses: TxnResponse[];
  revision: number;
}

export interface WatchEvent {
  type: "put" | "delete";
  kv: KeyValue;
}

export interface EtcdClientOptions {
  /** Per-request deadline; a stalled etcd must not stall a go-live forever. */
  timeoutMs?: number;
  /** Injected for tests (an etcd that answers errors, hangs, or sends garbage). */
  fetch?: typeof fetch;
  /** From `/v3/auth/authenticate`, when etcd has authentication on (no renewal without credentials). */
  token?: string;
  /** etcd's authentication is on: log in with these, and again when the token expires (auth.ts). */
  credentials?: EtcdCredentials;
}

export { prefixEnd } from "./bodies.ts";

export class EtcdClient {
  readonly endpoint: string;
  readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;
  private readonly session: AuthSession;

  constructor(endpoint: string, opts: EtcdClientOptions = {}) {
    this.endpoint = endpoint.replace(/\/+$/, "");
    this.timeoutMs = opts.timeoutMs ?? 3000;
    this.fetchFn = opts.fetch ?? ((...a) => fetch(...a));
    this.session = new AuthSession(opts.credentials ?? null, (c) => this.login(c), opts.token ?? null);
  }

  /** Logs in now (the page's form checks the password with this); throws EtcdError. */
  async authenticate(): Promise<void> {
    await this.session.renew(null);
  }

  private async login(c: EtcdCredentials): Promise<string> {
    const r = await this.post("/v3/auth/authenticate", { name: c.user, password: c.password }, null);
    if (typeof r.token !== "string" || r.token === "") throw this.malformed("authenticate answered without a token");
    return r.token;
  }

  /**
   * Runs `fn` with the current token; if etcd says it expired, logs in again and runs it once
   * more. A second refusal is the caller's error: never a loop of logins.
   */
  private async authed<T>(fn: (token: string | null) => Promise<T>): Promise<T> {
    const used = await this.session.current();
    try {
      return await fn(used);
    } catch (e) {
      if (this.session.credentials === null || !(e instanceof EtcdError) || authProblem(e.failure) !== "expired") throw e;
      return fn(await this.session.renew(used));
    }
  }

  async range(key: string, opts: RangeOpts = {}): Promise<RangeResult> {
    const r = await this.call("/v3/kv/range", rangeBody(key, opts));
    return this.rangeResult(r);
  }

  async put(key: string, value: Uint8Array, lease?: string): Promise<number> {
    const r = await this.call("/v3/kv/put", { key: toBase64(utf8(key)), value: toBase64(value), ...(lease ? { lease } : {}) });
    return this.revisionOf(r);
  }

  async deleteRange(key: string, end?: string | "prefix"): Promise<number> {
    const r = await this.call("/v3/kv/deleterange", { key: toBase64(utf8(key)), ...endOf(key, end) });
    return Number(r.deleted ?? 0);
  }

  async txn(compare: Compare[], success: TxnOp[], failure: TxnOp[] = []): Promise<TxnResult> {
    const r = await this.call("/v3/kv/txn", {
      compare: compare.map(compareBody),
      success: success.map(opBody),
      failure: failure.map(opBody),
    });
    const succeeded = r.succeeded === true;
    const ops = succeeded ? success : failure;
    const raw = Array.isArray(r.responses) ? (r.responses as Json[]) : [];
    const responses = ops.map((op, i): TxnResponse => {
      const one = (raw[i] ?? {}) as Record<string, Json>;
      if ("range" in op) return { range: this.rangeResult((one.response_range ?? {}) as Record<string, Json>) };
      if ("put" in op) return { put: true };
      return { deleteRange: { deleted: Number((one.response_delete_range as Record<string, Json> | undefined)?.deleted ?? 0) } };
    });
    return { succeeded, responses, revision: this.revisionOf(r) };
  }

  async leaseGrant(ttlSeconds: number): Promise<{ id: string; ttl: number }> {
    const r = await this.call("/v3/lease/grant", { TTL: String(ttlSeconds) });
    if (typeof r.ID !== "string" || !/^\d+$/.test(r.ID)) throw this.malformed(`lease grant without an ID: ${JSON.stringify(r)}`);
    return { id: r.ID, ttl: Number(r.TTL ?? 0) };
  }

  /** One keep-alive; the remaining TTL, 0 when the lease is gone (expired or revoked). */
  async leaseKeepAlive(id: string): Promise<number> {
    const r = await this.call("/v3/lease/keepalive", { ID: id });
    const result = (r.result ?? {}) as Record<string, Json>;
    return Number(result.TTL ?? 0);
  }

  async leaseRevoke(id: string): Promise<void> {
    await this.call("/v3/lease/revoke", { ID: id });
  }

  /** Compacts history up to `revision` (what `--auto-compaction-retention` does periodically). */
  async compact(revision: number): Promise<void> {
    await this.call("/v3/kv/compaction", { revision: String(revision), physical: false });
  }

  /**
   * Streams the changes to `key` (or the range) after `startRevision`, until `cancel()` or a
   * failure, which goes to `onEnd` (a cancel ends it with null).
   */
  watch(
    key: string,
    opts: { end?: string | "prefix"; startRevision?: number },
    onEvents: (events: WatchEvent[], revision: number) => void,
    onEnd: (failure: EtcdFailure | null) => void,
  ): { cancel(): void; ready: Promise<void> } {
    const abort = new AbortController();
    const body = {
      create_request: {
        key: toBase64(utf8(key)),
        ...endOf(key, opts.end),
        ...(opts.startRevision ? { start_revision: String(opts.startRevision) } : {}),
      },
    };
    let cancelled = false;
    let markReady: () => void = () => undefined;
    const ready = new Promise<void>((r) => (markReady = r));
    const run = async () => {
      const res = await this.authed(async (token) => {
        const r = await this.fetchFn(`${this.endpoint}/v3/watch`, { method: "POST", headers: this.headers(token), body: JSON.stringify(body), signal: abort.signal });
        if (!r.ok || !r.body) throw new EtcdError(await this.httpFailure(r));
        return r;
      });
      if (!res.body) throw this.malformed("watch answered without a body");
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffered = "";
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffered += decoder.decode(value, { stream: true });
        let nl: number;
        // The gateway writes one JSON object per line.
        while ((nl = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line) this.watchLine(line, onEvents, markReady);
        }
      }
      throw new EtcdError({ kind: "unreachable", endpoint: this.endpoint, detail: "watch stream ended" });
    };
    run().then(
      () => undefined,
      (e: unknown) => {
        abort.abort();
        onEnd(cancelled ? null : this.failureOf(e));
      },
    );
    return {
      cancel: () => {
        cancelled = true;
        abort.abort();
      },
      ready,
    };
  }

  private watchLine(line: string, onEvents: (events: WatchEvent[], revision: number) => void, markReady: () => void): void {
    const msg = parseJson(line, this.endpoint, "watch message") as Record<string, Json>;
    if (msg.error) throw new EtcdError({ kind: "http", endpoint: this.endpoint, status: 200, grpcCode: Number((msg.error as Record<string, Json>).grpc_code ?? -1), message: String((msg.error as Record<string, Json>).message ?? "") });
    const result = (msg.result ?? {}) as Record<string, Json>;
    if (result.created) markReady();
    if (result.compact_revision) throw new EtcdError({ kind: "http", endpoint: this.endpoint, status: 200, grpcCode: 11, message: `watch start revision compacted (now ${String(result.compact_revision)})` });
    const raw = Array.isArray(result.events) ? (result.events as Record<string, Json>[]) : [];
    if (raw.length === 0) return;
    const events = raw.map((e): WatchEvent => ({ type: e.type === "DELETE" ? "delete" : "put", kv: parseKvs([e.kv ?? null], this.endpoint)[0]! }));
    onEvents(events, parseRevision(result.header, this.endpoint));
  }

  private rangeResult(r: Record<string, Json>): RangeResult {
    return { kvs: parseKvs(Array.isArray(r.kvs) ? r.kvs : [], this.endpoint), count: Number(r.count ?? 0), revision: this.revisionOf(r) };
  }

  private revisionOf(r: Record<string, Json>): number {
    return parseRevision(r.header, this.endpoint);
  }

  private headers(token: string | null): Record<string, string> {
    return { "content-type": "application/json", ...(token ? { authorization: token } : {}) };
  }

  private malformed(what: string): EtcdError {
    return new EtcdError({ kind: "malformed", endpoint: this.endpoint, what });
  }

  private call(path: string, body: object): Promise<Record<string, Json>> {
    return this.authed((token) => this.post(path, body, token));
  }

  /** One unary call with a deadline; every way it can fail becomes an EtcdError. */
  private async post(path: string, body: object, token: string | null): Promise<Record<string, Json>> {
    const abort = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, this.timeoutMs);
    try {
      const res = await this.fetchFn(`${this.endpoint}${path}`, { method: "POST", headers: this.headers(token), body: JSON.stringify(body), signal: abort.signal });
      if (!res.ok) throw new EtcdError(await this.httpFailure(res));
      const text = await res.text();
      const parsed = parseJson(text, this.endpoint, path);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw this.malformed(`${path} answered ${text.slice(0, 80)}`);
      return parsed as Record<string, Json>;
    } catch (e) {
      if (timedOut) throw new EtcdError({ kind: "timeout", endpoint: this.endpoint, ms: this.timeoutMs });
      throw new EtcdError(this.failureOf(e));
    } finally {
      clearTimeout(timer);
    }
  }

  private failureOf(e: unknown): EtcdFailure {
    if (e instanceof EtcdError) return e.failure;
    return { kind: "unreachable", endpoint: this.endpoint, detail: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }

  private async httpFailure(res: Response): Promise<EtcdFailure> {
    const text = await res.text().catch(() => "");
    let grpcCode: number | null = null;
    let message = text.slice(0, 200);
    try {
      const j = JSON.parse(text) as { code?: unknown; message?: unknown };
      if (typeof j.code === "number") grpcCode = j.code;
      if (typeof j.message === "string") message = j.message;
    } catch {
      /* not JSON: the raw text is the message */
    }
    return { kind: "http", endpoint: this.endpoint, status: res.status, grpcCode, message };
  }
}
