import { ConsoleClient, type ToClientMsg } from "../../ft/protocol/index.ts";
import { SharedStorage, type LockRecord } from "../../storage/index.ts";
import { connectHostsOverWebRtc, type DataChannelPair } from "../../channel/webrtc-pair.ts";
import type { FtHostConfig, HostControl } from "../../host/ft-api.ts";
import type { LoadProgress } from "../../host/images.ts";
import type { HostStatus } from "../../host/status.ts";
import { hostEventLine, pageNoteLine, type PageNoteKind, type ProtocolEvent } from "../../host/events.ts";
import { FtHostClient } from "./ft-host-client.ts";
import { isGarbage, OwnDiskCollector } from "../../cluster/disk-gc.ts";

export interface HostView {
  id: string;
  status: HostStatus | null;
  progress: LoadProgress | null;
  dead: boolean;
}

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
}

/** A number a tour measured, shown side by side with others in the metrics panel. */
export interface Measurement {
  /** Groups the bars that are compared with each other (one tour's comparison). */
  group: string;
  label: string;
  bitsPerSec: number;
  /** What was measured, in a few words (bytes, duration, mode). */
  detail: string;
}

/** One point of the metrics plots, sampled by the page from the hosts' status reports. */
export interface MetricSample {
  /** Page clock, ms. */
  t: number;
  lagMs: number | null;
  /** Log bandwidth the primary sends, bits per second. */
  logBitsPerSec: number | null;
  /** Remus meter on: what shipping dirty pages would need, bits per second (counted, not sent). */
  remusBitsPerSec: number | null;
  unackedBytes: number | null;
  heldOutputs: number | null;
  primaryFrame: number | null;
  verifiedFrame: number | null;
}

const SAMPLE_MS = 250;
const SAMPLES_KEPT = 240;

const CLIENT_TICK_MS = 100;
const LOCK_POLL_MS = 250;

/**
 * The cluster service of the paper (§3.1) for hosts that are workers of this page: it starts
 * hosts, wires logging channels, relays the outside world (the client panel) to every host, and
 * restores redundancy after a failure. It never decides who is live: only the lock record does.
 */
export class Cluster {
  hosts = $state<HostView[]>([]);
  events = $state<ProtocolEvent[]>([]);
  lock = $state<LockRecord | null>(null);
  storageAvailable = $state(true);
  autoRestore = $state(false);
  /** Contiguous console bytes the client holds, and anomalies it saw (must stay 0). */
  clientBytes = $state(0);
  clientConflicts = $state(0);
  /** Count of client inputs sent (the figure animates them). */
  typed = $state(0);
  /** Metrics history for the plots (replaced, not mutated, each sample). */
  samples = $state.raw<MetricSample[]>([]);
  /** Side-by-side measurements the tours made (disk reads in the log vs by the backup, Remus vs log). */
  measurements = $state<Measurement[]>([]);
  /** Remus meter epoch (ms) while it is on, else null. */
  remusEpochMs = $state<number | null>(null);
  private remusAsked = new Set<string>();
  /** The options the running hosts were started with (a restart may change them). */
  config = $state<ClusterOptions>(null!);
  private listeners: ((e: ProtocolEvent) => void)[] = [];

  client = new ConsoleClient(250);
  private readonly handles = new Map<string, FtHostClient>();
  private readonly channels = new Map<string, DataChannelPair>();
  private storage: SharedStorage | null = null;
  private timers: ReturnType<typeof setInterval>[] = [];
  private nextLetter = 0;
  private diskId = "";
  private sessionEpochMs = 0;
  private epoch = 0;
  private display: (bytes: Uint8Array) => void = () => {};
  private readonly diskGc: OwnDiskCollector;
  /** Bumped by restart(): an older start() still in flight stops there. */
  private generation = 0;

  constructor(private opts: ClusterOptions) {
    this.config = { ...opts };
    this.diskGc = new OwnDiskCollector(opts.dbName, (text) => this.note("page", "disk-gc", text));
  }

  onConsole(display: (bytes: Uint8Array) => void): void {
    this.display = display;
  }

  /** A fresh VM: new disk, lock record at epoch 1 owned by the primary, backup replaying from boot. */
  async start(): Promise<void> {
    // A restart while this is still opening storage makes this start stale: it must not spawn.
    const generation = this.generation;
    const storage = await SharedStorage.open(this.opts.dbName);
    if (generation !== this.generation) return storage.close();
    this.storage = storage;
    await storage.lock.reset();
    if (this.opts.diskMode === "non-shared") await this.diskGc.clearAll();
    const primaryId = this.newHostId();
    const backupId = this.newHostId();
    const epoch = (await storage.lock.testAndSet(0, primaryId)).record.epoch;
    if (generation !== this.generation) return;
    this.epoch = epoch;
    this.diskId = `disk-${Date.now()}`;
    this.sessionEpochMs = Date.now();
    if (!this.opts.ft) {
      const solo = this.spawn(primaryId, { role: "primary" });
      this.startTimers();
      await solo.started;
      return;
    }
    const primary = this.spawn(primaryId, { role: "primary", peer: backupId });
    const backup = this.spawn(backupId, { role: "backup", peer: primaryId });
    this.link(primary.handle, backup.handle);
    this.startTimers();
    await Promise.all([primary.started, backup.started]);
  }

  private startTimers(): void {
    this.timers.push(setInterval(() => this.clientTick(), CLIENT_TICK_MS));
    this.timers.push(setInterval(() => void this.pollLock(), LOCK_POLL_MS));
    this.timers.push(setInterval(() => this.sample(), SAMPLE_MS));
  }

  /** Every protocol event as it is noted (the embed API forwards them to the parent page). */
  onEvent(fn: (e: ProtocolEvent) => void): () => void {
    this.listeners.push(fn);
    return () => (this.listeners = this.listeners.filter((l) => l !== fn));
  }

  /** The client's whole console stream as text. */
  clientText(): string {
    return new TextDecoder().decode(this.client.stream());
  }

  private sample(): void {
    const live = this.hosts.filter((h) => !h.dead && h.status);
    const p = live.find((h) => h.status!.role === "primary")?.status ?? null;
    const b = live.find((h) => h.status!.role === "backup")?.status ?? null;
    const s: MetricSample = {
      t: performance.now(),
      lagMs: b ? b.lagMs : null,
      logBitsPerSec: p ? p.logBytesPerSec * 8 : null,
      remusBitsPerSec: p?.remus ? p.remus.bytesPerSec * 8 : null,
      unackedBytes: p ? p.unackedBytes : null,
      heldOutputs: p ? p.heldOutputs : null,
      primaryFrame: p ? p.frame : null,
      verifiedFrame: b ? b.verifiedFrame : null,
    };
    const next = this.samples.length >= SAMPLES_KEPT ? this.samples.slice(1) : this.samples.slice();
    next.push(s);
    this.samples = next;
  }

  type(text: string): void {
    this.typed++;
    this.broadcast(this.client.type(new TextEncoder().encode(text)));
  }

  kill(id: string): void {
    const h = this.handles.get(id);
    if (!h || h.dead) return;
    h.kill();
    this.view(id).dead = true;
    this.note(id, "kill", "worker terminated: this host has failed (fail-stop)");
    for (const [key, ch] of this.channels) if (key.includes(id)) ch.close();
  }

  cutChannel(): void {
    for (const h of this.liveHandles()) h.control({ t: "cut-channel" });
    this.note("page", "cut", "logging channel cut: both hosts keep running (split-brain attempt)");
  }

  setStorageAvailable(available: boolean): void {
    this.storageAvailable = available;
    for (const h of this.liveHandles()) h.control({ t: "storage", available });
    this.note("page", "storage", available ? "shared storage reachable again" : "shared storage unreachable");
  }

  /** The live primary (the host whose VM the teaching controls pause, step and pace). */
  livePrimary(): HostView | undefined {
    return this.hosts.find((h) => !h.dead && h.status?.role === "primary" && h.status.state !== "halted");
  }

  /** Pause or resume the live primary's VM; the backup follows through the log, no host stops. */
  setVmPaused(paused: boolean): void {
    this.controlPrimary({ t: "vm-pause", paused });
  }

  /** Run exactly one frame of the paused live primary's VM. */
  stepVm(): void {
    this.controlPrimary({ t: "vm-step" });
  }

  setVmPace(pace: number | "max"): void {
    this.controlPrimary({ t: "vm-pace", pace });
  }

  /** The live primary's session recording (timeline export); rejects when no primary is live. */
  async recording(): Promise<Uint8Array> {
    const p = this.livePrimary();
    const h = p && this.handles.get(p.id);
    if (!h) throw new Error("no live primary to record from");
    return h.recording();
  }

  private controlPrimary(c: HostControl): void {
    const p = this.livePrimary();
    if (p) this.handles.get(p.id)?.control(c);
  }

  /** Every halted host that is still running tries to write at its old epoch. */
  zombieWrite(): void {
    for (const h of this.hosts) {
      if (!h.dead && h.status?.state === "halted") this.handles.get(h.id)?.control({ t: "zombie-write" });
    }
  }

  /** FT VMotion (§3.1): clone the live primary into a new backup host. */
  restoreRedundancy(): void {
    const primary = this.hosts.find((h) => !h.dead && h.status?.role === "primary" && h.status.state === "alone");
    if (!primary) {
      this.note("page", "info", "no primary running alone: nothing to restore");
      return;
    }
    const p = this.handles.get(primary.id)!;
    const standbyId = this.newHostId();
    const standby = this.spawn(standbyId, { role: "standby" });
    this.link(p, standby.handle);
    void standby.started.then(() => p.control({ t: "start-clone", target: standbyId }));
  }

  dispose(): void {
    for (const t of this.timers) clearInterval(t);
    for (const h of this.handles.values()) h.kill();
    for (const c of this.channels.values()) c.close();
    this.storage?.close();
  }

  /**
   * Powers every host off and boots a fresh pair (new disk, new lock record) with changed
   * options: a tour that compares two modes of the protocol runs them one after the other in
   * this page. The client starts a new console stream; measurements are kept.
   */
  async restart(changes: Partial<Pick<ClusterOptions, "readMode" | "diskMode" | "diskCache">>): Promise<void> {
    this.generation++;
    this.dispose();
    this.timers = [];
    this.handles.clear();
    this.channels.clear();
    this.storage = null;
    this.opts = { ...this.opts, ...changes };
    this.config = { ...this.opts };
    this.hosts = [];
    this.samples = [];
    this.lock = null;
    this.client = new ConsoleClient(250);
    this.clientBytes = 0;
    this.clientConflicts = 0;
    const what = `reads ${this.opts.readMode === "backup-reads" ? "by the backup" : "in the log"}, disk cache ${this.opts.diskCache === false ? "off" : "on"}`;
    this.display(new TextEncoder().encode(`\r\n\x1b[2m--- new pair: ${what} ---\x1b[0m\r\n`));
    this.note("page", "restart", `cluster restarted: ${what}`);
    await this.start();
  }

  /**
   * The Remus meter (lockstep vs shipping state): the primary counts, every `epochMs`, the RAM
   * pages a Remus-style checkpoint would ship (src/host/remus-meter.ts). null turns it off.
   * Off by default: it costs a copy of guest RAM and a compare of all of it per epoch.
   */
  setRemus(epochMs: number | null): void {
    this.remusEpochMs = epochMs;
    this.remusAsked.clear();
    for (const h of this.hosts) {
      if (h.dead || !h.status) continue;
      if (h.status.role === "primary" || epochMs === null) {
        this.remusAsked.add(h.id);
        this.handles.get(h.id)?.control({ t: "remus", epochMs });
      }
    }
  }

  /** Records a tour's measurement (replacing an earlier one with the same group and label). */
  measure(m: Measurement): void {
    this.measurements = [...this.measurements.filter((x) => x.group !== m.group || x.label !== m.label), m];
  }

  private spawn(id: string, cfg: Pick<FtHostConfig, "role" | "peer">): { handle: FtHostClient; started: Promise<void> } {
    const handle = new FtHostClient(id);
    this.handles.set(id, handle);
    this.hosts.push({ id, status: null, progress: null, dead: false });
    const started = handle.start(
      {
        hostId: id,
        imagesUrl: this.opts.imagesUrl,
        dbName: this.opts.dbName,
        transport: "workers",
        diskMode: this.opts.diskMode,
        readMode: this.opts.readMode,
        diskId: this.diskId,
        epoch: this.epoch,
        sessionEpochMs: this.sessionEpochMs,
        noOutputRule: this.opts.noOutputRule === true,
        diskCache: this.opts.diskCache !== false,
        ...cfg,
      },
      {
        progress: (p) => (this.view(id).progress = p),
        status: (s) => this.onStatus(id, s),
        event: (e) => this.push(hostEventLine(id, performance.now(), e)),
        toClient: (msg) => this.onToClient(msg),
      },
    );
    return { handle, started };
  }

  private link(a: FtHostClient, b: FtHostClient): void {
    const pair = connectHostsOverWebRtc(
      (ch) => a.attachLoggingChannel(b.id, ch),
      (ch) => b.attachLoggingChannel(a.id, ch),
    );
    this.channels.set(`${a.id}|${b.id}`, pair);
    pair.connected.catch((e: unknown) => this.note("page", "error", `logging channel failed: ${String(e)}`));
  }

  private onStatus(id: string, s: HostStatus): void {
    const v = this.view(id);
    const wasLive = v.status?.role === "primary";
    v.status = s;
    // The Remus meter follows the primary role (a promoted backup starts measuring too).
    if (this.remusEpochMs !== null && s.role === "primary" && !s.remus && !this.remusAsked.has(id)) {
      this.remusAsked.add(id);
      this.handles.get(id)?.control({ t: "remus", epochMs: this.remusEpochMs });
    }
    if (this.opts.diskMode === "non-shared" && s.role === "primary" && (s.state === "alone" || s.state === "recording")) {
      for (const h of this.hosts) if (h.id !== id && isGarbage(h, s.epoch)) this.diskGc.collect(this.diskId, h.id);
    }
    if (this.autoRestore && !wasLive && s.role === "primary" && s.state === "alone") {
      this.note("page", "info", "auto-restore: starting FT VMotion to a new backup");
      this.restoreRedundancy();
    }
  }

  private onToClient(msg: ToClientMsg): void {
    const fresh = this.client.onMessage(msg);
    if (fresh) this.display(fresh);
    this.clientBytes = this.client.length;
    this.clientConflicts = this.client.conflicts;
  }

  private clientTick(): void {
    for (const m of this.client.tick(performance.now())) this.broadcast(m);
  }

  private broadcast(msg: Parameters<FtHostClient["client"]>[0]): void {
    for (const h of this.liveHandles()) h.client(msg);
  }

  private async pollLock(): Promise<void> {
    try {
      // The page reads the lock record for display only; availability is a host-side switch.
      this.lock = (await this.storage?.lock.peek()) ?? null;
    } catch {
      /* the page's own view is best effort */
    }
  }

  private liveHandles(): FtHostClient[] {
    return [...this.handles.values()].filter((h) => !h.dead);
  }

  private view(id: string): HostView {
    return this.hosts.find((h) => h.id === id)!;
  }

  private newHostId(): string {
    return `${String.fromCharCode(65 + (this.nextLetter++ % 26))}#1`;
  }

  /** A line in the protocol feed from the page itself (teaching UI, embed API). */
  noteEvent(hostId: string, kind: PageNoteKind, text: string): void {
    this.note(hostId, kind, text);
  }

  private note(hostId: string, kind: PageNoteKind, text: string): void {
    this.push(pageNoteLine(hostId, performance.now(), kind, text));
  }

  private push(e: ProtocolEvent): void {
    this.events.push(e);
    for (const l of this.listeners) l(e);
    if (this.events.length > 500) this.events.splice(0, this.events.length - 500);
  }
}
