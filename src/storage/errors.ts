import { EtcdError } from "./etcd/errors.ts";

/** The storage could not be reached; the paper's rule is to wait and retry, never to guess. */
export class StorageUnavailableError extends Error {
  override name = "StorageUnavailableError";
}

/** A write from a primary whose epoch is no longer current: a zombie, fenced off. */
export class StaleEpochError extends Error {
  override name = "StaleEpochError";
  constructor(
    readonly writerEpoch: number,
    readonly currentEpoch: number,
  ) {
    super(`write fenced: writer epoch ${writerEpoch}, current epoch ${currentEpoch}`);
  }
}

/**
 * The browser refused the storage itself (as opposed to the simulated outage above, or fencing):
 * IndexedDB disabled or denied (private windows, blocked third-party storage, some privacy
 * settings), the origin's quota exhausted, the database closed under us (site data cleared).
 */
export interface StorageRefusal {
  cause: "quota" | "refused";
  /** The error as the browser named it, e.g. "QuotaExceededError: …". */
  error: string;
}

export function storageRefusal(e: unknown): StorageRefusal | null {
  // etcd's failures are the network's or etcd's, not this browser refusing IndexedDB: the page's
  // storage panel names them (what failed, at which address) while the hosts wait and retry.
  if (e instanceof StorageUnavailableError || e instanceof StaleEpochError || e instanceof EtcdError) return null;
  const name = e instanceof Error || e instanceof DOMException ? e.name : "Error";
  const message = e instanceof Error || e instanceof DOMException ? e.message : String(e);
  return { cause: name === "QuotaExceededError" ? "quota" : "refused", error: message ? `${name}: ${message}` : name };
}

/** Opening the storage failed at start: what the browser said, as a refusal the page can explain. */
export class StorageRefusedError extends Error {
  override name = "StorageRefusedError";
  constructor(readonly refusal: StorageRefusal) {
    super(`the browser refused IndexedDB (${refusal.error})`);
  }
}
