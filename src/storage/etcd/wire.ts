import { fromBase64, fromUtf8 } from "./base64.ts";
import type { KeyValue } from "./client.ts";
import { EtcdError } from "./errors.ts";

/** The gateway's JSON: protobuf int64 as strings, fields with default values left out. */
export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

export function parseJson(text: string, endpoint: string, what: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch {
    throw new EtcdError({ kind: "malformed", endpoint, what: `${what}: not JSON: ${text.slice(0, 80)}` });
  }
}

function int(v: Json | undefined, endpoint: string, what: string): number {
  if (v === undefined) return 0;
  const n = typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : typeof v === "number" && Number.isInteger(v) ? v : NaN;
  if (Number.isNaN(n)) throw new EtcdError({ kind: "malformed", endpoint, what: `${what} is ${JSON.stringify(v)}, not an integer` });
  return n;
}

/** Every answer carries the store's revision in its header; one without is not etcd's. */
export function parseRevision(header: Json | undefined, endpoint: string): number {
  if (typeof header !== "object" || header === null || Array.isArray(header) || header.revision === undefined) {
    throw new EtcdError({ kind: "malformed", endpoint, what: "an answer without a header revision" });
  }
  return int(header.revision, endpoint, "header revision");
}

export function parseKvs(raw: Json[], endpoint: string): KeyValue[] {
  return raw.map((kv) => {
    if (typeof kv !== "object" || kv === null || Array.isArray(kv) || typeof kv.key !== "string") {
      throw new EtcdError({ kind: "malformed", endpoint, what: `a key-value without a key: ${JSON.stringify(kv)}` });
    }
    let key: string;
    let value: Uint8Array;
    try {
      key = fromUtf8(fromBase64(kv.key));
      value = typeof kv.value === "string" ? fromBase64(kv.value) : new Uint8Array(0);
    } catch {
      throw new EtcdError({ kind: "malformed", endpoint, what: `a key-value that is not base64: ${JSON.stringify(kv).slice(0, 80)}` });
    }
    return {
      key,
      value,
      createRevision: int(kv.create_revision, endpoint, "create_revision"),
      modRevision: int(kv.mod_revision, endpoint, "mod_revision"),
      version: int(kv.version, endpoint, "version"),
      lease: typeof kv.lease === "string" && /^\d+$/.test(kv.lease) && kv.lease !== "0" ? kv.lease : null,
    };
  });
}
