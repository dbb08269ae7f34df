import type { ClusterPorts, ClusterTransport } from "../../cluster/ports.ts";
import { browserClock } from "../../cluster/adapters/browser-clock.ts";
import { idbDiskCopies, openIdbStorage } from "../../cluster/adapters/idb.ts";
import { workerMachines } from "./ft-host-client.ts";

/** The cluster service's ports in a browser page: its clock, host workers, IndexedDB. */
export function browserPorts(transport: ClusterTransport, dbName: string): ClusterPorts {
  return { clock: browserClock, machines: workerMachines, transport, openStorage: openIdbStorage, disks: idbDiskCopies(dbName) };
}
