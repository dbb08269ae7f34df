import type { FtHostConfig } from "../../host/ft-api.ts";
import type { LoadProgress } from "../../host/images.ts";
import type { HostStatus } from "../../host/status.ts";
import type { RemoteControl } from "../../cluster/messages.ts";
import type { Member } from "../../cluster/membership.ts";
import { ClusterService, type ClusterPart } from "../../cluster/service.ts";
import { BroadcastTransport } from "../../cluster/adapters/broadcast-transport.ts";
import { browserPorts, etcdBrowserPorts } from "./browser-ports.ts";
import { EtcdTransport } from "../../cluster/adapters/etcd-transport.ts";
import { describeEtcdFailure, EtcdClient, EtcdError, EtcdStorage, etcdClientOptions, type EtcdCredentials, type EtcdFailure } from "../../storage/etcd/index.ts";
import { workerClock } from "./worker-clock.ts";
import { ClusterShell } from "./cluster-shell.svelte.ts";
import type { HostView } from "../../cluster/local-hosts.ts";
import type { MetricSample } from "../../cluster/metrics.ts";
import { MACHINE_DEFAULTS, TAB_DEFAULTS } from "../../ft/protocol/config.ts";
import type { ClusterView, HostPlace, Measurement } from "./cluster-view.ts";
import { SilenceWatch, TabHosts } from "./tab-view.ts";
import { failoverStory, type Departure, type FailoverStory } from "./failover-story.ts";

/** A tab of the cluster as this tab knows it (from its beats, or itself). */
export type TabMember = Member;

export interface TabClusterOptions {
  imagesUrl: string;
  dbName: string;
  diskMode: FtHostConfig["diskMode"];
  readMode: FtHostConfig["readMode"];
  /** Start the VM in this tab if no tab of the origin runs one (after a short discovery). */
  autoStart: boolean;
  /** How FT VMotion snapshots travel between tabs (`?snapshot=channel` to compare). */
  snapshotVia: FtHostConfig["snapshotVia"];
  /** `?cluster=etcd`: members on several computers meet in this etcd, which is also the shared storage. */
  etcd?: { endpoint: string; credentials?: EtcdCredentials } | null;
  /** Between computers: the name of the computer this page runs on, said to the other members. */
  computer?: string;
  /** `?boot=cold`: the VM boots the kernel instead of restoring the boot image. */
  start?: FtHostConfig["start"];
}

/** The storage panel's view of etcd: where, its revision, and what failed if it cannot be reached. */
export interface EtcdView {
  endpoint: string;
  revision: number | null;
  failure: string | null;
  /** A record this page found malformed and does not use (the classroom's ICE config), said until reload. */
  notice: string | null;
}

const tabId = () => Math.random().toString(36).slice(2, 6).toUpperCase();

/**
 * The cluster service (src/cluster) spread over the tabs of one origin: each tab is one member
 * running at most one host worker (one "physical server"), reached over BroadcastChannel. A
 * reactive shell over this tab's part of the service.
 */
export class TabCluster extends ClusterShell implements ClusterView {
  readonly tab: string;
  readonly joinedAt: number;
  members = $state.raw<TabMember[]>([]);
  /** This tab's host. */
  hostId = $state<string | null>(null);
  status = $state.raw<HostStatus | null>(null);
  progress = $state.raw<LoadProgress | null>(null);
  /** Whether any tab runs (or this tab knows of) a VM; false ⇒ "Start VM" is offered. */
  vmKnown = $state(false);
  /** The second host worker of this tab, while there is one. */
  sibling = $state.raw<{ hostId: string; status: HostStatus | null } | null>(null);
  /** Latest clone progress line and measured guest pause, for the UI. */
  cloneProgress = $state<string | null>(null);
  clonePauseMs = $state<number | null>(null);
  #localStandby = $state(false);

  // The whole cluster, as every tab shows it (ClusterView): every tab's host from the beats.
  hosts = $state.raw<HostView[]>([]);
  typed = $state(0);
  samples = $state.raw<MetricSample[]>([]);
  /** The lecture's pause, the storage switch, tours' measurements and Remus: one-page only. */
  readonly frozen = false;
  readonly storageAvailable = true;
  readonly measurements: readonly Measurement[] = [];
  readonly remusEpochMs = null;
  /** The latest tab that left the cluster with a host, and the failover that followed, as told here. */
  departure = $state.raw<Departure | null>(null);
  story = $state.raw<FailoverStory | null>(null);
  /** The failure detector's silence as the hosts' receive counters show it (the countdown). */
  silence = $state.raw<ReturnType<SilenceWatch["observe"]>>(null);
  /** The failure detector's timeout between tabs, or between computers on etcd (paper §2.3). */
  readonly failureTimeoutMs: number;
  /** Between computers: the name of this page's computer (the other members' come with their beats). */
  computer = $state<string | null>(null);
  /** `?cluster=etcd`: the storage panel's etcd, refreshed every second; null in one browser. */
  etcd = $state.raw<EtcdView | null>(null);
  #stopEtcdWatch: () => void = () => undefined;
  #places = new Map<string, HostPlace>();
  readonly #tabHosts = new TabHosts();
  readonly #silence = new SilenceWatch();

  constructor(opts: TabClusterOptions) {
    const tab = tabId();
    const etcd = opts.etcd ? { endpoint: opts.etcd.endpoint, cluster: opts.dbName, ...etcdClientOptions(opts.etcd) } : undefined;
    const { etcd: _given, ...rest } = opts;
    const options = { ...rest, ...(etcd ? { etcd } : {}), placement: "tab", transport: "tabs", pair: false, autoRestore: true, localStandby: false, metrics: true } as const;
    const clock = workerClock();
    // A malformed record the transport meets while joining (it goes on without it) is said on the
    // page; joining is asynchronous, so the sink is wired below before any report can come.
    const sink = { malformed: (_what: string) => {} };
    const onFailure = (f: EtcdFailure) => f.kind === "malformed" && sink.malformed(describeEtcdFailure(f));
    // Between computers (issue 14) the members meet in etcd; in one browser, on BroadcastChannel.
    const ports = etcd
      ? etcdBrowserPorts(EtcdTransport.connect(new EtcdClient(etcd.endpoint, etcdClientOptions(etcd)), etcd.cluster, tab, { clock, onFailure }), etcd, clock)
      : browserPorts(new BroadcastTransport(tab), opts.dbName, clock);
    super(new ClusterService({ ...options }, ports));
    this.failureTimeoutMs = (etcd ? MACHINE_DEFAULTS : TAB_DEFAULTS).failureTimeoutMs;
    this.computer = opts.computer ?? null;
    if (etcd) this.#watchEtcd(EtcdStorage.open(etcd.endpoint, etcd.cluster, etcdClientOptions(etcd)), clock);
    sink.malformed = (what) => this.etcd && (this.etcd = { ...this.etcd, notice: what });
    this.tab = tab;
    this.joinedAt = this.svc.joinedAt;
    this.sync("members");
  }

  /** The panel's etcd line: what the page sees, never a decision (the hosts decide on their own calls). */
  /** Renamed on the page: the next beats carry the new name. */
  renameComputer(name: string): void {
    this.svc.options.computer = name;
    this.computer = name;
  }

  #watchEtcd(storage: EtcdStorage, clock: { every(ms: number, fn: () => void): () => void }): void {
    this.etcd = { endpoint: storage.client.endpoint, revision: null, failure: null, notice: null };
    let busy = false;
    const look = () => {
      if (busy) return;
      busy = true;
      // The lock record itself, decoded: an unreachable etcd and a record we did not write both show.
      storage.lock
        .read()
        .then((stored) => stored.revision)
        .then(
          (revision) => (this.etcd = { endpoint: storage.client.endpoint, revision, failure: null, notice: this.etcd?.notice ?? null }),
          (e: unknown) =>
            (this.etcd = {
              endpoint: storage.client.endpoint,
              revision: this.etcd?.revision ?? null,
              failure: e instanceof EtcdError ? describeEtcdFailure(e.failure) : String(e),
              notice: this.etcd?.notice ?? null,
            }),
        )
        .finally(() => (busy = false));
    };
    look();
    this.#stopEtcdWatch = clock.every(1000, look);
  }

  override dispose(): void {
    this.#stopEtcdWatch();
    super.dispose();
  }

  /**
   * The primary of the newest epoch: a tab that closed may still be heard for a moment after its
   * goodbye (a last beat re-adds it until it times out), its host still saying "primary" of the
   * epoch before the failover.
   */
  livePrimary(): HostView | undefined {
    let best: HostView | undefined;
    for (const h of this.hosts) {
      if (h.dead || h.status?.role !== "primary" || h.status.state === "halted" || h.status.state === "stopped") continue;
      if (!best || h.status.epoch > best.status!.epoch) best = h;
    }
    return best;
  }

  placeOf(hostId: string): HostPlace | null {
    return this.#places.get(hostId) ?? null;
  }

  /**
   * The "if enabled, a local worker": with no standby tab, the primary's tab clones into
   * a second host worker of its own. It survives its sibling worker failing (freeze), not the tab
   * closing: the paper puts the backup on another physical server for a reason.
   */
  get localStandby(): boolean {
    return this.#localStandby;
  }

  set localStandby(on: boolean) {
    this.svc.options.localStandby = this.#localStandby = on;
  }

  /** Join the cluster: beat, discover, then start the VM or become a standby host. */
  open(): Promise<void> {
    addEventListener("pagehide", () => this.svc.goodbye());
    return this.svc.join();
  }

  startVm(): Promise<void> {
    return this.svc.startVm();
  }

  /** Stall this tab's host worker (a hung machine): no heartbeats, no log, nothing. */
  freeze(ms: number): void {
    this.svc.controls.freeze(ms);
  }

  zombieWrite(): void {
    this.svc.controls.zombieWrite();
  }

  /** The live primary's session recording, from the tab it runs in (the timeline's export and replay). */
  recording(): Promise<Uint8Array> {
    return this.svc.recordings.recording();
  }

  /** Controls addressed to another tab's host. */
  remote(tab: string, control: RemoteControl, ms?: number): void {
    this.svc.remote(tab, control, ms);
  }

  /** Every tab's host, the ones that went, the failure detector's silence and the failover story. */
  private syncCluster(): void {
    const svc = this.svc;
    const before = this.hosts;
    const view = this.#tabHosts.update(svc.membership.members, svc.hosts.all());
    this.#places = view.places;
    this.hosts = view.hosts;
    const now = performance.now();
    // A host that was on show and is gone now: its tab left (closed, crashed, or silent too long).
    for (const h of view.hosts) {
      const was = before.find((b) => b.id === h.id);
      if (h.dead && was && !was.dead && !view.places.get(h.id)?.me) {
        this.departure = { tab: view.places.get(h.id)!.tab, hostId: h.id, role: was.status?.role ?? null, at: now };
      }
    }
    this.silence = this.#silence.observe(view.hosts, now);
    this.story = this.departure ? failoverStory(this.departure, this.events, this.silence, this.failureTimeoutMs) : null;
    this.typed = this.client.sentInputs;
  }

  protected override sync(part: ClusterPart): void {
    super.sync(part);
    const svc = this.svc;
    if (part === "members" || part === "hosts") this.syncCluster();
    else if (part === "events" && this.departure) this.story = failoverStory(this.departure, this.events, this.silence, this.failureTimeoutMs);
    else if (part === "samples") this.samples = svc.samples;
    else if (part === "client") this.typed = this.client.sentInputs;
    if (part === "members") this.members = svc.membership.members.map((m) => ({ ...m }));
    else if (part === "vm") this.vmKnown = svc.vm !== null;
    else if (part === "clone") {
      this.cloneProgress = svc.redundancy.progress;
      this.clonePauseMs = svc.redundancy.pauseMs;
    } else if (part === "hosts") {
      const main = svc.hosts.main;
      const second = svc.hosts.all().find((h) => h !== main);
      this.hostId = main?.id ?? null;
      this.status = main?.status ?? null;
      this.progress = svc.hosts.lastProgress;
      this.sibling = second ? { hostId: second.id, status: second.status } : null;
    }
  }
}
