// The gateway's JSON bodies of range, txn compares and ops (keys and values base64), kept out of
// the client so it stays about calls, deadlines and tokens.
import { toBase64, utf8, fromUtf8 } from "./base64.ts";
import type { Compare, RangeOpts, TxnOp } from "./client.ts";

const OPS: Record<string, string> = { "=": "EQUAL", "!=": "NOT_EQUAL", "<": "LESS", ">": "GREATER" };
const TARGETS: Record<string, string> = { version: "VERSION", create: "CREATE", mod: "MOD", value: "VALUE" };

/** The first key after every key starting with `prefix` (etcd's prefix range end). */
export function prefixEnd(prefix: string): string {
  const bytes = utf8(prefix);
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 0xff) {
      const end = bytes.slice(0, i + 1);
      end[i]!++;
      return fromUtf8(end);
    }
  }
  return "\0";
}

export function endOf(key: string, end: string | "prefix" | undefined): { range_end?: string } {
  if (end === undefined) return {};
  return { range_end: toBase64(utf8(end === "prefix" ? prefixEnd(key) : end)) };
}

export function rangeBody(key: string, o: RangeOpts): object {
  return {
    key: toBase64(utf8(key)),
    ...endOf(key, o.end),
    ...(o.keysOnly ? { keys_only: true } : {}),
    ...(o.countOnly ? { count_only: true } : {}),
    ...(o.limit ? { limit: String(o.limit) } : {}),
  };
}

export function compareBody(c: Compare): object {
  const base = { key: toBase64(utf8(c.key)), target: TARGETS[c.target], result: OPS[c.op] };
  switch (c.target) {
    case "value":
      return { ...base, value: toBase64(c.value) };
    case "version":
      return { ...base, version: String(c.revision) };
    case "create":
      return { ...base, create_revision: String(c.revision) };
    case "mod":
      return { ...base, mod_revision: String(c.revision) };
  }
}

export function opBody(op: TxnOp): object {
  if ("put" in op) return { request_put: { key: toBase64(utf8(op.put.key)), value: toBase64(op.put.value), ...(op.put.lease ? { lease: op.put.lease } : {}) } };
  if ("range" in op) return { request_range: rangeBody(op.range.key, op.range) };
  return { request_delete_range: { key: toBase64(utf8(op.deleteRange.key)), ...endOf(op.deleteRange.key, op.deleteRange.end) } };
}
