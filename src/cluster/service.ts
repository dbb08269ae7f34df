import { ClientNetwork, tabNetworkOptions } from "./client-network.ts";
import type { ClientMsg } from "../ft/protocol/index.ts";
import type { HostStatus } from "../host/status.ts";
import type { PageNoteKind } from "../host/events.ts";
import type { Cancel, ClusterPorts, ClusterStorage } from "./ports.ts";
import { beatStatus, type MemberBeat, type RemoteControl, type VmIdentity } from "./messages.ts";
import { EventLog } from "./event-log.ts";
import { Membership } from "./membership.ts";
import { LocalHosts, type HostView, type LocalHost } from "./local-hosts.ts";
import { Redundancy } from "./redundancy.ts";
import { ClientMirror } from "./client-mirror.ts";
import { Controls } from "./controls.ts";
import { running } from "./vm-lost.ts";
import { LockWatch } from "./lock-watch.ts";
import { DiskGarbage, diskCandidates } from "./disk-gc.ts";
import { MemberVm } from "./member-vm.ts";
import { appendSample, sampleOf, SAMPLE_MS, type MetricSample } from "./metrics.ts";
import { freezableClock, type FreezableClock } from "./freezable-clock.ts";
import { WorldFreeze } from "./world-freeze.ts";
import { RecordingRelay } from "./recording-relay.ts";
import type { ClusterOptions, ClusterPart } from "./options.ts";

const BEAT_MS = 250;
const CLIENT_TICK_MS = 100;
/**
 * A new member listens this long for a running VM before it may start one. A beat from a host
 * that runs a VM ends it at once: the member stands by for that VM, as it would after the span.
 */
const DISCOVERY_MS = 800;

export type { ClusterOptions, ClusterPart } from "./options.ts";

/**
 * The cluster service of the paper (§3.1), one member's part of it: the hosts this member runs,
 * membership of the others, the next backup and redundancy restoration, the new-VM sequence,
 * disk-copy collection, the outside world's client mirrored in every member, and the feed. Who
 * is live is never decided here: only the lock record's test-and-set does that, in the hosts.
 */
export class ClusterService {
  readonly self: string;
  readonly joinedAt: number;
  readonly log: EventLog;
  readonly membership: Membership;
  readonly hosts: LocalHosts;
  readonly mirror: ClientMirror;
  readonly network: ClientNetwork;
  readonly redundancy: Redundancy;
  readonly controls: Controls;
  readonly lock: LockWatch;
  /** The live primary's session recording, from whichever member runs it (the timeline). */
  readonly recordings: RecordingRelay;
  samples: MetricSample[] = [];
  private readonly garbage: DiskGarbage;
  /** The service's timers and protocol time, which the lecture's pause stops (freezeWorld). */
  private readonly clock: FreezableClock;
  private readonly world: WorldFreeze;
  private storage: ClusterStorage | null = null;
  private timers: Cancel[] = [];
  /** The VM this member is part of: booting, standing by for, forgetting it. */
  private readonly member: MemberVm;
  /** Bumped by restart(): an older start still in flight stops there. */
  private generation = 0;
  private disposed = false;
  private listeners: ((part: ClusterPart) => void)[] = [];
  /** While joining: ends the discovery span early (a running VM was heard of). */
  private discovered: (() => void) | null = null;

  constructor(
    readonly options: ClusterOptions,
    private readonly ports: ClusterPorts,
  ) {
    const { transport } = ports;
    const clock = (this.clock = freezableClock(ports.clock));
    this.self = transport.self;
    this.joinedAt = clock.wallNow();
    // The feed and the plots keep the page's own clock: their times are when things were seen.
    this.log = new EventLog(ports.clock, transport);
    this.log.onEvent(() => this.changed("events"));
    this.membership = new Membership(this.self, this.joinedAt, clock.now());
    this.hosts = new LocalHosts(options.placement, this.self, ports.machines, () => this.options, {
      status: (h, s) => this.onHostStatus(h, s),
      event: (h, e) => {
        this.redundancy.hostEvent(e);
        this.log.host(h.id, e);
        // A host that failed on purpose has gone silent already: take its worker away as a kill does.
        if (e.kind === "fail-stop") this.controls.kill(h.id);
      },
      toClient: (msg) => this.mirror.released(msg),
      toNetwork: (h, frame) => this.network.fromHost(h.id, frame),
      progress: () => this.changed("hosts"),
      note: (hostId, kind, text) => this.note(hostId, kind, text),
    });
    const tabs = options.placement === "tab" ? tabNetworkOptions(transport, () => this.membership.others().map((m) => m.tab)) : {};
    this.network = new ClientNetwork(clock, () => this.hosts.all(), () => this.changed("client"), tabs);
    this.mirror = new ClientMirror(clock, transport, () => this.membership.members, (m) => this.toHosts(m), () => this.changed("client"));
    this.redundancy = new Redundancy({
      clock,
      transport,
      hosts: this.hosts,
      membership: this.membership,
      vm: () => this.member.vm,
      autoRestore: () => this.options.autoRestore,
      spawnLocal: () => this.options.localStandby,
      note: (kind, text) => this.note("page", kind, text),
      changed: () => this.changed("clone"),
    });
    this.controls = new Controls(this.hosts, (id, kind, text) => this.note(id, kind, text), (part) => this.changed(part ?? "controls"));
    this.world = new WorldFreeze(clock, (on) => this.controls.freezeWorld(on), (text) => this.note("page", "world", text));
    this.lock = new LockWatch(clock, () => this.changed("lock"));
    this.recordings = new RecordingRelay(clock, transport, this.hosts);
    this.garbage = new DiskGarbage(ports.disks, (text) => this.note("page", "disk-gc", text));
    this.member = new MemberVm({
      options: () => this.options,
      clock: ports.clock,
      transport,
      hosts: this.hosts,
      membership: this.membership,
      storage: () => this.storage,
      generation: () => this.generation,
      clearDiskCopies: () => this.garbage.clearAll(),
      changed: (part) => this.changed(part),
      beat: () => this.beat(),
      note: (text) => this.note("page", "cluster", text),
    });
    transport.on("beat", (b) => this.onBeat(b));
    transport.on("bye", (m) => this.onBye(m.tab));
    transport.on("control", (m) => m.to === this.self && this.remote(this.self, m.control, m.ms));
    transport.on("frame", (m) => m.to === this.self && this.network.fromMember(m.from, m.frame));
  }

  onChange(fn: (part: ClusterPart) => void): void {
    this.listeners.push(fn);
  }

  /** The one page: open storage and boot a new VM here. */
  async start(): Promise<void> {
    if (!(await this.open())) return;
    await this.startVm();
    await Promise.all(this.hosts.all().map((h) => h.started));
  }

  /** A tab: join the cluster, listen for a running VM, then become a standby host or start the VM. */
  async join(): Promise<void> {
    if (!(await this.open())) return;
    this.ports.transport.post({ t: "sync-req", tab: this.self, from: 0 });
    this.log.requestHistory();
    // A span of listening, not a synchronisation: whatever was heard by its end decides.
    await new Promise<void>((r) => {
      const cancel = this.clock.after(DISCOVERY_MS, r);
      this.discovered = () => {
        cancel();
        r();
      };
    });
    this.discovered = null;
    await this.member.afterDiscovery();
  }

  /** The VM this member is part of, if any. */
  get vm(): VmIdentity | null {
    return this.member.vm;
  }

  /** A fresh VM in this member, unless one runs (member-vm.ts: the start lock and the VM lock). */
  startVm(): Promise<void> {
    return this.member.start();
  }

  /** An empty host that waits for an FT VMotion (paper §3.1: a standby server). */
  joinAsStandby(): void {
    this.member.standBy();
  }

  /**
   * The one page: powers every host off and boots a fresh VM with changed options (a tour that
   * compares two modes runs them one after the other). The client starts a new console stream.
   */
  async restart(changes: Partial<Pick<ClusterOptions, "readMode" | "diskMode" | "diskCache" | "noOutputRule">>, what: string): Promise<void> {
    this.generation++;
    this.stop();
    Object.assign(this.options, changes);
    this.member.vm = null;
    this.samples = [];
    this.mirror.reset();
    // New hosts reach the storage (a fresh worker's is reachable): the switch says so again.
    this.controls.storageAvailable = true;
    this.changed("controls");
    this.mirror.show(new TextEncoder().encode(`\r\n\x1b[2m--- new pair: ${what} ---\x1b[0m\r\n`));
    this.note("page", "restart", `cluster restarted: ${what}`);
    this.changed("hosts");
    this.changed("samples");
    await this.start();
  }

  get frozen(): boolean {
    return this.world.frozen;
  }

  /** The lecture's pause: see world-freeze.ts. */
  freezeWorld(on: boolean): void {
    if (this.world.set(on)) this.changed("controls");
  }

  /**
   * Auto-restore (paper §3.1): on, a primary that runs alone is cloned into a new backup. Acts at
   * once when one runs alone now, and says in the feed what it did or will do.
   */
  setAutoRestore(on: boolean): void {
    if (on === this.options.autoRestore) return;
    this.options.autoRestore = on;
    const p = this.hosts.livePrimary();
    const alone = p?.status?.state === "alone";
    this.note("page", "cluster", !on ? "auto-restore off" : alone ? `auto-restore on: ${p!.id} runs alone, restoring redundancy now` : "auto-restore on: a primary that runs alone will be cloned into a new backup");
    this.redundancy.check();
    this.changed("controls");
  }

  /** Controls addressed to a host of any member (this one, or another over the transport). */
  remote(tab: string, control: RemoteControl, ms?: number): void {
    if (tab !== this.self) return this.ports.transport.post({ t: "control", to: tab, control, ms });
    if (control === "freeze") this.controls.freeze(ms ?? 6000);
    else this.controls.zombieWrite();
  }

  note(hostId: string, kind: PageNoteKind, text: string): void {
    this.log.note(hostId, kind, text);
  }

  /** This member leaves on purpose (its tab closes): the others need not wait for a timeout. */
  goodbye(): void {
    this.ports.transport.post({ t: "bye", tab: this.self });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.goodbye();
    this.stop();
    this.ports.transport.close();
  }

  private async open(): Promise<boolean> {
    const generation = this.generation;
    const storage = await this.ports.openStorage(this.options.dbName);
    if (generation !== this.generation || this.disposed) {
      storage.close();
      return false;
    }
    this.storage = storage;
    const { clock } = this;
    this.timers.push(clock.every(BEAT_MS, () => this.beat()));
    this.timers.push(clock.every(CLIENT_TICK_MS, () => this.mirror.tick()));
    if (this.options.metrics) this.timers.push(clock.every(SAMPLE_MS, () => this.sample()));
    this.lock.start(storage);
    this.beat();
    return true;
  }

  private stop(): void {
    for (const cancel of this.timers.splice(0)) cancel();
    this.lock.stop();
    this.redundancy.reset();
    this.hosts.closeAll();
    this.storage?.close();
    this.storage = null;
  }

  /** Membership with heartbeats: say who we are, drop the silent, then look at redundancy. */
  private beat(): void {
    if (this.disposed) return;
    const main = this.hosts.main;
    const now = this.clock.now();
    const me = this.membership.me;
    me.hostId = main?.id ?? null;
    me.status = main?.status ?? null;
    me.lastSeen = now;
    const computer = this.options.computer;
    if (computer !== undefined) me.computer = computer;
    this.ports.transport.post({ t: "beat", tab: this.self, joinedAt: this.joinedAt, vm: this.vm, hostId: me.hostId, status: beatStatus(me.status), clientLength: this.mirror.client.length, ...(computer !== undefined ? { computer } : {}) });
    this.mirror.beat();
    for (const m of this.membership.silent(now)) this.removeMember(m.tab);
    this.redundancy.check();
  }

  private onBeat(b: MemberBeat): void {
    const runs = b.status !== null && running(b.status);
    this.member.heard(b.vm, runs);
    const m = this.membership.onBeat(b, this.clock.now());
    this.redundancy.observe(m.hostId, m.status);
    this.changed("members");
    this.member.forgetIfLost();
    // Joining, and a host runs the VM we now know: nothing more to wait for.
    if (runs && this.member.vm) this.discovered?.();
  }

  /**
   * A closing member says goodbye. Its host is going with it, so ours need not wait out the
   * failure timeout to suspect it; a member that crashes or hangs says nothing, and there the
   * heartbeats decide. Who goes live is still the lock record's test-and-set.
   */
  private onBye(tab: string): void {
    const host = this.membership.others().find((m) => m.tab === tab)?.hostId;
    const main = this.hosts.main;
    if (host && main) {
      this.note("page", "cluster", `tab ${tab} closed: ${host} is gone (a hint to the failure detector)`);
      main.handle.control({ t: "peer-left", host });
    }
    this.removeMember(tab);
  }

  private removeMember(tab: string): void {
    if (this.membership.remove(tab)) this.note("page", "membership", `tab ${tab} left the cluster`);
    this.mirror.forget(tab);
    this.redundancy.memberLeft(tab);
    this.changed("members");
    this.member.forgetIfLost();
  }

  private onHostStatus(h: LocalHost, s: HostStatus): void {
    const me = this.membership.me;
    const announced = h === this.hosts.main && (me.status?.role !== s.role || me.status?.state !== s.state);
    this.redundancy.observe(h.id, s);
    this.controls.onStatus(h, s);
    if (this.member.vm?.diskMode === "non-shared" && s.role === "primary" && (s.state === "alone" || s.state === "recording")) this.collectDisks(h, s.epoch);
    this.changed("hosts");
    this.member.forgetIfLost();
    // A change of role or state is told at once (a beat); the beat also looks at redundancy.
    if (announced) this.beat();
    else this.redundancy.check();
  }

  /** Our host is the live primary: delete the own disk copies of hosts that can never be live again. */
  private collectDisks(primary: LocalHost, liveEpoch: number): void {
    const own = this.hosts.all().filter((h) => h !== primary).map((h) => ({ hostId: h.id, status: h.status, dead: h.dead }));
    const candidates = diskCandidates(own, this.membership.others(), this.membership.departed);
    const collected = this.garbage.collect(this.member.vm!.diskId, candidates, liveEpoch);
    this.membership.departed = this.membership.departed.filter((d) => !collected.includes(d.hostId));
  }

  private toHosts = (m: ClientMsg): void => this.hosts.all().forEach((h) => !h.dead && h.handle.client(m));

  /** Every host of the cluster as this member knows it: its own, and the others' from their beats. */
  clusterHosts(): HostView[] {
    const others = this.membership.others().flatMap((m) => (m.hostId ? [{ id: m.hostId, status: m.status, progress: null, dead: false }] : []));
    return [...this.hosts.all(), ...others];
  }

  private sample(): void {
    this.samples = appendSample(this.samples, sampleOf(this.clusterHosts(), this.ports.clock.now()));
    this.changed("samples");
  }

  private changed(part: ClusterPart): void {
    for (const l of this.listeners) l(part);
  }
}
