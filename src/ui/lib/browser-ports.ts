import type { ClusterClock, ClusterPorts, ClusterTransport } from "../../cluster/ports.ts";
import { browserClock } from "../../cluster/adapters/browser-clock.ts";
import { idbDiskCopies, openIdbStorage } from "../../cluster/adapters/idb.ts";
import { etcdClusterStorage } from "../../cluster/adapters/etcd-storage.ts";
import type { EtcdLocation } from "../../host/ft-api.ts";
import { StorageRefusedError, storageRefusal, type StorageRefusal } from "../../storage/index.ts";
import { workerMachines } from "./ft-host-client.ts";

/**
 * The cluster service's ports in a browser page: its clock, host workers, IndexedDB. A tab in
 * tab mode keeps time with a worker, so that hidden it still beats at its pace (worker-clock.ts).
 */
export function browserPorts(transport: ClusterTransport, dbName: string, clock: ClusterClock = browserClock): ClusterPorts {
  return { clock, machines: workerMachines, transport, openStorage, disks: idbDiskCopies(dbName) };
}

/** The same with the shared storage on etcd (several computers, issue 14): no IndexedDB at all. */
export function etcdBrowserPorts(transport: ClusterTransport, at: EtcdLocation, clock: ClusterClock = browserClock): ClusterPorts {
  const { openStorage, disks } = etcdClusterStorage(at);
  return { clock, machines: workerMachines, transport, openStorage, disks };
}

/** Opening IndexedDB is where a browser that refuses it says so: keep what it said. */
async function openStorage(dbName: string) {
  try {
    return await openIdbStorage(dbName);
  } catch (e) {
    throw new StorageRefusedError(storageRefusal(e) ?? { cause: "refused", error: String(e) });
  }
}

/**
 * The refusal behind a start that failed, if storage was why: from the page's own open, or from
 * a host worker's (its error crosses comlink as name and message only).
 */
export function refusalOf(e: unknown): StorageRefusal | null {
  if (e instanceof StorageRefusedError) return e.refusal;
  if (e instanceof Error && e.name === "StorageRefusedError") {
    const error = /\((.*)\)$/.exec(e.message)?.[1] ?? e.message;
    return { cause: error.startsWith("QuotaExceededError") ? "quota" : "refused", error };
  }
  return null;
}
