import type { FtHostConfig } from "../../host/ft-api.ts";
import { ClusterService, type ClusterPart } from "../../cluster/service.ts";
import { isLive, type HostView } from "../../cluster/local-hosts.ts";
import type { MetricSample } from "../../cluster/metrics.ts";
import { InMemoryHub } from "../../cluster/adapters/in-memory-transport.ts";
import { browserPorts } from "./browser-ports.ts";
import { ClusterShell } from "./cluster-shell.svelte.ts";
import type { ClusterView, HostPlace, Measurement } from "./cluster-view.ts";

export type { HostView, MetricSample, Measurement };

export interface ClusterOptions {
  imagesUrl: string;
  dbName: string;
  diskMode: FtHostConfig["diskMode"];
  readMode: FtHostConfig["readMode"];
  /** false: the primary alone, without a backup (the baseline FT is measured against). */
  ft: boolean;
  /** Teaching counterfactual ("why the Output Rule"): hosts release outputs without waiting for acks. */
  noOutputRule?: boolean;
  /** false: hosts run without the engine's disk cache (every read a real read, as in the paper). */
  diskCache?: boolean;
  /** `?boot=cold`: pairs boot the kernel instead of restoring the boot image. */
  start?: FtHostConfig["start"];
}

/**
 * The one-page cluster: every host a worker of this page, the page the only member of its
 * cluster service (src/cluster), with the teaching controls. A reactive shell over the service.
 */
export class Cluster extends ClusterShell implements ClusterView {
  hosts = $state.raw<HostView[]>([]);
  storageAvailable = $state(true);
  /** Count of client inputs sent (the figure animates them). */
  typed = $state(0);
  /** Metrics history for the plots. */
  samples = $state.raw<MetricSample[]>([]);
  /** Side-by-side measurements the tours made (disk reads in the log vs by the backup, Remus vs log). */
  measurements = $state<Measurement[]>([]);
  /** Remus meter epoch (ms) while it is on, else null. */
  remusEpochMs = $state<number | null>(null);
  /** Why Restore redundancy is refused now (the button is disabled and says so), or null. */
  restoreRefusal = $state<string | null>(null);
  /** FT VMotion in progress, in words (starting, snapshotting, receiving N%), or null. */
  cloneProgress = $state<string | null>(null);
  /** The lecture's pause: both VMs, every host's timers and the service's stand still. */
  frozen = $state(false);
  /** The options the running hosts were started with (a restart may change them). */
  config = $state<ClusterOptions>(null!);

  /** The options the page was opened with, and the Output Rule switch (New pair goes back to them). */
  readonly initial: ClusterOptions;

  constructor(opts: ClusterOptions) {
    const { ft, ...hostOpts } = opts;
    const options = { ...hostOpts, placement: "page", transport: "workers", pair: ft, autoStart: false, autoRestore: false, localStandby: true, metrics: true } as const;
    super(new ClusterService({ ...options }, browserPorts(new InMemoryHub().join("page"), opts.dbName)));
    this.config = { ...opts };
    this.initial = { ...opts };
    this.restoreRefusal = this.svc.redundancy.refusal();
  }

  /** A fresh VM: new disk, lock record at epoch 1 owned by the primary, backup replaying from boot. */
  start(): Promise<void> {
    return this.svc.start();
  }

  /**
   * New pair: every host powered off, a fresh primary and backup booted with the options the
   * page was opened with (new disk, lock record at epoch 1). The lecturer's button, and a tour's
   * first step when an earlier tour left the pair changed (tours back to back, no reload).
   */
  newPair(): Promise<void> {
    const { readMode, diskMode, diskCache, noOutputRule } = this.initial;
    return this.restart({ readMode, diskMode, diskCache: diskCache !== false, noOutputRule: noOutputRule === true });
  }

  /**
   * The counterfactual switch (Output Rule on or off): hosts take it when they start, so a new
   * pair boots with it, no reload. It is the page's setting from now on (New pair keeps it).
   */
  setOutputRule(on: boolean): Promise<void> {
    this.initial.noOutputRule = !on;
    return this.newPair();
  }

  /** The pair runs with other options than the page was opened with (a tour restarted it so). */
  get optionsChanged(): boolean {
    const c = this.config;
    const i = this.initial;
    return (
      c.readMode !== i.readMode ||
      c.diskMode !== i.diskMode ||
      (c.diskCache !== false) !== (i.diskCache !== false) ||
      (c.noOutputRule === true) !== (i.noOutputRule === true)
    );
  }

  /** Powers every host off and boots a fresh pair with changed options; measurements are kept. */
  restart(changes: Partial<Pick<ClusterOptions, "readMode" | "diskMode" | "diskCache" | "noOutputRule">>): Promise<void> {
    this.config = { ...this.config, ...changes };
    const c = this.config;
    const what = `reads ${c.readMode === "backup-reads" ? "by the backup" : "in the log"}, disk cache ${c.diskCache === false ? "off" : "on"}${c.noOutputRule ? ", Output Rule OFF" : ""}`;
    return this.svc.restart(changes, what);
  }

  /** The live primary and backup: the hosts the controls act on (never a halted former one). */
  livePrimary(): HostView | undefined {
    return this.hosts.find((h) => isLive(h) && h.status!.role === "primary");
  }

  /** Every host is a worker of this page. */
  placeOf(): HostPlace | null {
    return null;
  }

  liveBackup(): HostView | undefined {
    return this.hosts.find((h) => isLive(h) && h.status!.role === "backup");
  }

  /** Freezes (true) or thaws the whole world: the tour runner's pause and slow motion. */
  freezeWorld(on: boolean): void {
    this.svc.freezeWorld(on);
  }

  failAfterOutput(id: string, line: string): void {
    this.svc.controls.failAfterOutput(id, line);
  }

  kill(id: string): void {
    this.svc.controls.kill(id);
  }

  /** Paper §3.3: power the VM off (the backup stops too, it does not go live). */
  powerOff(): void {
    this.svc.controls.powerOff();
  }

  cutChannel(): void {
    this.svc.controls.cutChannel();
  }

  setStorageAvailable(available: boolean): void {
    this.svc.controls.setStorageAvailable(available);
  }

  setVmPaused(paused: boolean): void {
    this.svc.controls.vm({ t: "vm-pause", paused });
  }

  stepVm(): void {
    this.svc.controls.vm({ t: "vm-step" });
  }

  setVmPace(pace: number | "max"): void {
    this.svc.controls.vm({ t: "vm-pace", pace });
  }

  /** Paper §3.2: a slow backup (its replay gets `factor` of the CPU; 1 = full speed). */
  slowBackup(factor: number): void {
    this.svc.controls.slowBackup(factor);
  }

  recording(): Promise<Uint8Array> {
    return this.svc.controls.recording();
  }

  zombieWrite(): void {
    this.svc.controls.zombieWrite();
  }

  /** FT VMotion (§3.1): clone the live primary into a new backup host, now or once it runs alone. */
  restoreRedundancy(): void {
    this.svc.redundancy.request();
  }

  setRemus(epochMs: number | null): void {
    this.svc.controls.setRemus(epochMs);
  }

  /** Records a tour's measurement (replacing an earlier one with the same group and label). */
  measure(m: Measurement): void {
    this.measurements = [...this.measurements.filter((x) => x.group !== m.group || x.label !== m.label), m];
  }

  /** A host's view, the same object while nothing in it changed (only its card re-renders). */
  private view({ id, status, progress, dead }: HostView): HostView {
    const old = this.hosts.find((v) => v.id === id);
    return old && old.status === status && old.progress === progress && old.dead === dead ? old : { id, status, progress, dead };
  }

  protected override sync(part: ClusterPart): void {
    super.sync(part);
    const svc = this.svc;
    if (part === "hosts") this.hosts = svc.hosts.all().map((h) => this.view(h));
    else if (part === "samples") this.samples = svc.samples;
    else if (part === "client") this.typed = svc.mirror.typed;
    else if (part === "controls") {
      this.storageAvailable = svc.controls.storageAvailable;
      this.remusEpochMs = svc.controls.remusEpochMs;
      this.frozen = svc.frozen;
    }
    if (part === "hosts" || part === "clone" || part === "members" || part === "controls") this.restoreRefusal = svc.redundancy.refusal();
    if (part === "clone") this.cloneProgress = svc.redundancy.progress;
  }
}
