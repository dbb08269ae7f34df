import { AUTH_MESSAGES, authProblem } from "./auth.ts";

/**
 * What can go wrong talking to etcd, as data: the page shows it and the host treats every kind
 * as "storage unreachable" for the protocol (wait and retry, never go live on a guess).
 * A record etcd holds that is not one we wrote (`malformed`) is the same: nobody can decide
 * go-live from it, so nobody does, and the page says which key is bad.
 */
export type EtcdFailure =
  /** No answer at all: connection refused, DNS, CORS refused, network down. */
  | { kind: "unreachable"; endpoint: string; detail: string }
  /** No answer within the client's deadline. */
  | { kind: "timeout"; endpoint: string; ms: number }
  /** An answer that is an error: the gateway's HTTP status and gRPC code (e.g. 11 = compacted). */
  | { kind: "http"; endpoint: string; status: number; grpcCode: number | null; message: string }
  /** An answer, or a stored record, that is not what the protocol says it must be. */
  | { kind: "malformed"; endpoint: string; what: string };

export class EtcdError extends Error {
  override name = "EtcdError";
  constructor(readonly failure: EtcdFailure) {
    super(describeEtcdFailure(failure));
  }
}

export function describeEtcdFailure(f: EtcdFailure): string {
  switch (f.kind) {
    case "unreachable":
      return `etcd at ${f.endpoint} unreachable (${f.detail})`;
    case "timeout":
      return `etcd at ${f.endpoint} did not answer within ${f.ms} ms`;
    case "http": {
      const auth = authProblem(f);
      if (auth) return `etcd at ${f.endpoint}: ${AUTH_MESSAGES[auth]} (${f.message})`;
      return `etcd at ${f.endpoint} answered HTTP ${f.status}${f.grpcCode === null ? "" : ` (code ${f.grpcCode})`}: ${f.message}`;
    }
    case "malformed":
      return `etcd at ${f.endpoint} holds or sent something malformed: ${f.what}`;
  }
}
