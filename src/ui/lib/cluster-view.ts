import type { LockRecord } from "../../storage/index.ts";
import type { ProtocolEvent } from "../../host/events.ts";
import type { HostView } from "../../cluster/local-hosts.ts";
import type { MetricSample } from "../../cluster/metrics.ts";
import type { ClientNetwork } from "../../cluster/client-network.ts";

/** A number a tour measured, shown side by side with others in the metrics panel. */
export interface Measurement {
  /** Groups the bars that are compared with each other (one tour's comparison). */
  group: string;
  label: string;
  bitsPerSec: number;
  /** What was measured, in a few words (bytes, duration, mode). */
  detail: string;
}

/** Where a host runs, in tab mode: its tab, and whether that is the tab showing it. */
export interface HostPlace {
  tab: string;
  me: boolean;
}

/**
 * What the teaching UI (the live Figure 1, the metrics, the feed) reads of a cluster, whichever
 * mode runs it: the one page (`Cluster`: every host a worker of this page) or the kill-tab mode
 * (`TabCluster`: one host per tab, the others known from their beats over the cluster service's
 * transport). Read-only: the views never act on the cluster through it.
 */
export interface ClusterView {
  /** Every host of the cluster, failed ones included (the most recent failure last). */
  readonly hosts: readonly HostView[];
  readonly lock: LockRecord | null;
  readonly events: readonly ProtocolEvent[];
  /** Contiguous console bytes the client holds. */
  readonly clientBytes: number;
  /** Count of client inputs sent (the Figure animates them). */
  readonly typed: number;
  /** Metrics history for the plots. */
  readonly samples: readonly MetricSample[];
  /** The lecture's pause (one page only). */
  readonly frozen: boolean;
  /** Whether the hosts reach the shared storage (the one page's teaching switch). */
  readonly storageAvailable: boolean;
  /** Side-by-side measurements the tours made. */
  readonly measurements: readonly Measurement[];
  /** Remus meter epoch (ms) while it is on, else null. */
  readonly remusEpochMs: number | null;
  /** The client's network (switch and TCP/IP): the Figure draws its TCP's counters at the client. */
  readonly network: ClientNetwork;
  /** The live primary (never a halted former one). */
  livePrimary(): HostView | undefined;
  /** Every protocol event as it is noted; returns the unsubscribe. */
  onEvent(fn: (e: ProtocolEvent) => void): () => void;
  /** The tab a host runs in (tab mode), or null (the one page: every host is this page's). */
  placeOf(hostId: string): HostPlace | null;
}
