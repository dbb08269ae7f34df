import type { HostSettings, Placement } from "./local-hosts.ts";
import type { VmIdentity } from "./messages.ts";

/** What one member of the cluster service is started with. */
export interface ClusterOptions extends HostSettings {
  placement: Placement;
  diskMode: VmIdentity["diskMode"];
  /** A new VM boots a primary and a backup together (page); false: the primary alone. */
  pair: boolean;
  /** Start the VM in this member if no member runs one (after a short discovery). */
  autoStart: boolean;
  autoRestore: boolean;
  /** A member may add a host of its own as the next backup (always in a page; a tab's switch). */
  localStandby: boolean;
  /** Sample the metrics plots (the teaching UI; in tab mode from every member's host). */
  metrics: boolean;
  /** The name of the computer this member runs on, said in its beats (between computers on etcd). */
  computer?: string;
}

/** What changed, so a reactive shell copies only that. */
export type ClusterPart = "hosts" | "members" | "events" | "lock" | "client" | "clone" | "controls" | "samples" | "vm";
