import { ConsoleClient, type ClientMsg, type ToClientMsg } from "../../ft/protocol/index.ts";
import { SharedStorage, type LockRecord } from "../../storage/index.ts";
import { BroadcastBus, type BusMsg, type TabBeat } from "../../cluster/broadcast-bus.ts";
import { Signalling, type TabLink } from "../../cluster/broadcast-signalling.ts";
import type { FtHostConfig } from "../../host/ft-api.ts";
import type { LoadProgress } from "../../host/images.ts";
import type { HostStatus } from "../../host/status.ts";
import { hostEventLine, pageNoteLine, type HostEvent, type PageNoteKind, type ProtocolEvent } from "../../host/events.ts";
import { FtHostClient } from "./ft-host-client.ts";
import { connectHostsOverWebRtc, type DataChannelPair } from "../../channel/webrtc-pair.ts";
import { isGarbage, OwnDiskCollector } from "../../cluster/disk-gc.ts";

export interface TabClusterOptions {
  imagesUrl: string;
  dbName: string;
  diskMode: FtHostConfig["diskMode"];
  readMode: FtHostConfig["readMode"];
  /** Start the VM in this tab if no tab of the origin runs one (after a short discovery). */
  autoStart: boolean;
  /** How FT VMotion snapshots travel between tabs (`?snapshot=channel` to compare). */
  snapshotVia: FtHostConfig["snapshotVia"];
}

/** A tab of the cluster as this tab knows it (from its beats, or itself). */
export interface TabMember {
  tab: string;
  joinedAt: number;
  hostId: string | null;
  status: HostStatus | null;
  lastSeen: number;
  me: boolean;
}

const BEAT_MS = 250;
/** A tab silent this long has left (closed, crashed or hung). Membership only: the FT failure
 * detector is the hosts' own heartbeat on the logging channel. Background tabs beat at ~1 Hz. */
const MEMBER_TIMEOUT_MS = 2500;
const DISCOVERY_MS = 800;
const CLIENT_TICK_MS = 100;
const LOCK_POLL_MS = 250;
/** A clone that has not produced a backup by then is abandoned and retried. */
const CLONE_GIVE_UP_MS = 60_000;
const CLONE_RETRY_MS = 20_000;

const tabId = () => Math.random().toString(36).slice(2, 6).toUpperCase();
const empty = new Uint8Array(0);
/** What a terminal sends by itself in answer to the guest: cursor position and device reports. */
const TERMINAL_REPORT = /^\x1b\[[\d;?>]*[Rcn]$/;

/**
 * The cluster service of the paper (§3.1) spread over the tabs of one origin. Each tab runs at
 * most one host worker (one "physical server"). Tabs find each other over BroadcastChannel,
 * exchange WebRTC signalling for the logging channel, and the tab whose host is the live primary
 * running alone picks the oldest standby tab and clones itself into it (FT VMotion). Who is live
 * is never decided here: only the lock record's test-and-set does that, inside the hosts.
 *
 * The outside world: every tab runs its own ConsoleClient. Output a live primary releases is
 * broadcast to every tab; typed input is broadcast once and mirrored into every tab's client
 * (same sequence numbers), so whichever tab survives keeps retransmitting unacknowledged input
 * to its own host, and exactly-once holds across the loss of any tab.
 */
export class TabCluster {
  readonly tab = tabId();
  readonly joinedAt = Date.now();
  members = $state<TabMember[]>([]);
  events = $state<ProtocolEvent[]>([]);
  lock = $state<LockRecord | null>(null);
  /** This tab's host. */
  hostId = $state<string | null>(null);
  status = $state<HostStatus | null>(null);
  progress = $state<LoadProgress | null>(null);
  /** Whether any tab runs (or this tab knows of) a VM; false ⇒ "Start VM" is offered. */
  vmKnown = $state(false);
  autoRestore = $state(true);
  /**
   * The "if enabled, a local worker": with no standby tab, the primary's tab clones into
   * a second host worker of its own. It survives its sibling worker failing (freeze), not the tab
   * closing: the paper puts the backup on another physical server for a reason.
   */
  localStandby = $state(false);
  /** The second host worker of this tab, while there is one. */
  sibling = $state<{ hostId: string; status: HostStatus | null } | null>(null);
  /** Latest clone progress line and measured guest pause, for the UI. */
  cloneProgress = $state<string | null>(null);
  clonePauseMs = $state<number | null>(null);
  clientBytes = $state(0);
  clientConflicts = $state(0);

  readonly client = new ConsoleClient(250);
  private readonly bus = new BroadcastBus();
  private readonly signalling: Signalling;
  private host: FtHostClient | null = null;
  private siblingHost: FtHostClient | null = null;
  private siblingLink: DataChannelPair | null = null;
  private siblings = 0;
  private storage: SharedStorage | null = null;
  private vm: TabBeat["vm"] = null;
  private links: TabLink[] = [];
  /** The FT VMotion in progress: `sent` once our primary has shipped the snapshot (it is then `recording`). */
  private cloning: { target: string; link: string; since: number; started: boolean; startedAt: number; sent: boolean } | null = null;
  private readonly acks = new Map<string, { offset: number; at: number }>();
  /** Every input seen (mirror of the client's unacknowledged ones), for peers that sync. */
  private readonly inputs = new Map<number, Uint8Array>();
  private lastSyncReq = -Infinity;
  /** The tab the user last typed in (the one client whose terminal answers the guest's queries). */
  private typist: string | null = null;
  private timers: ReturnType<typeof setInterval>[] = [];
  private display: (bytes: Uint8Array) => void = () => {};
  private disposed = false;
  /** Non-shared disk: hosts of tabs that left, by their last status, until their copy is collected. */
  private departed: { hostId: string; status: HostStatus | null }[] = [];
  private readonly diskGc: OwnDiskCollector;

  constructor(private readonly opts: TabClusterOptions) {
    this.signalling = new Signalling(this.bus, this.tab);
    this.diskGc = new OwnDiskCollector(opts.dbName, (text) => this.note("page", "disk-gc", text));
    this.signalling.onOffer = (link, from, sdp) => this.onOffer(link, from, sdp);
    this.members.push({ tab: this.tab, joinedAt: this.joinedAt, hostId: null, status: null, lastSeen: Date.now(), me: true });
    this.bus.on("beat", (m) => this.onBeat(m));
    this.bus.on("bye", (m) => this.onBye(m.tab));
    this.bus.on("link-up", (m) => m.to === this.tab && this.onLinkUp(m.link));
    this.bus.on("client-input", (m) => {
      this.typist = m.tab;
      this.onRemoteInput(m.seq, m.bytes);
    });
    this.bus.on("client-ack", (m) => this.noteAck(m.tab, m.offset));
    this.bus.on("to-client", (m) => this.onToClient(m.msg));
    this.bus.on("sync-req", (m) => this.onSyncReq(m.tab, m.from));
    this.bus.on("sync", (m) => m.to === this.tab && this.onSync(m));
    this.bus.on("event", (m) => this.pushEvent({ ...m.ev, at: m.ev.at - performance.timeOrigin }));
    this.bus.on("control", (m) => {
      if (m.to !== this.tab) return;
      if (m.control === "freeze") this.freeze(m.ms ?? 6000);
      else this.zombieWrite();
    });
  }

  onConsole(display: (bytes: Uint8Array) => void): void {
    this.display = display;
  }

  /** Join the cluster: beat, discover, then start the VM or become a standby host. */
  async open(): Promise<void> {
    this.storage = await SharedStorage.open(this.opts.dbName);
    this.beat();
    this.timers.push(setInterval(() => this.beat(), BEAT_MS));
    this.timers.push(setInterval(() => this.clientTick(), CLIENT_TICK_MS));
    this.timers.push(setInterval(() => void this.pollLock(), LOCK_POLL_MS));
    this.bus.post({ t: "sync-req", tab: this.tab, from: 0 });
    addEventListener("pagehide", () => this.bus.post({ t: "bye", tab: this.tab }));
    await new Promise((r) => setTimeout(r, DISCOVERY_MS)); // a span of listening, not a synchronisation
    if (this.vm) return this.joinAsStandby();
    if (!this.opts.autoStart) return;
    // Two tabs opened at once must not both start a VM: decide under a Web Lock, and announce
    // the VM (beat) before releasing it, so the next tab to hold the lock sees it.
    await navigator.locks.request("lockstep-tabs-start", async () => {
      if (this.vm || this.hostId) return;
      await this.startVm();
    });
    if (this.vm && !this.hostId) this.joinAsStandby();
  }

  /** A fresh VM in this tab: new disk, lock record at epoch 1 owned by our host, running alone. */
  async startVm(): Promise<void> {
    if (this.hostId || !this.storage) return;
    const hostId = `${this.tab}#1`;
    await this.storage.lock.reset();
    if (this.opts.diskMode === "non-shared") await this.diskGc.clearAll();
    const epoch = (await this.storage.lock.testAndSet(0, hostId)).record.epoch;
    this.vm = { diskId: `disk-${Date.now()}`, diskMode: this.opts.diskMode };
    this.vmKnown = true;
    this.host = this.spawn(hostId, { role: "primary", epoch, sessionEpochMs: Date.now() });
    this.beat();
  }

  /** An empty host that waits for an FT VMotion (paper §3.1: a standby server). */
  joinAsStandby(): void {
    if (this.hostId || !this.vm) return;
    this.host = this.spawn(`${this.tab}#1`, { role: "standby", epoch: 0, sessionEpochMs: 0 });
    this.beat();
  }

  type(text: string): void {
    // Every tab's terminal answers the guest's queries (cursor position reports to the shell's
    // ESC[6n): only the tab the user types in may, or each tab would inject its own copy.
    if (TERMINAL_REPORT.test(text)) {
      if (!this.isTypist()) return;
    } else {
      this.typist = this.tab;
    }
    const msg = this.client.type(new TextEncoder().encode(text));
    if (msg.t !== "client-input") return;
    this.inputs.set(msg.seq, msg.bytes);
    this.bus.post({ t: "client-input", tab: this.tab, seq: msg.seq, bytes: msg.bytes });
    this.toHost(msg);
  }

  /** Stall this tab's host worker (a hung machine): no heartbeats, no log, nothing. */
  freeze(ms: number): void {
    if (!this.host) return;
    this.note("page", "freeze", `host worker frozen for ${ms} ms`);
    this.host.control({ t: "freeze", ms });
  }

  zombieWrite(): void {
    this.host?.control({ t: "zombie-write" });
  }

  /** Controls addressed to another tab's host. */
  remote(tab: string, control: "freeze" | "zombie-write", ms?: number): void {
    if (tab === this.tab) return control === "freeze" ? this.freeze(ms ?? 6000) : this.zombieWrite();
    this.bus.post({ t: "control", to: tab, control, ms });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.bus.post({ t: "bye", tab: this.tab });
    for (const t of this.timers) clearInterval(t);
    for (const l of this.links) l.close();
    this.host?.kill();
    this.dropSibling();
    this.bus.close();
    this.storage?.close();
  }

  // ------------------------------------------------------------------ host

  private spawn(hostId: string, cfg: Pick<FtHostConfig, "role" | "epoch" | "sessionEpochMs">): FtHostClient {
    const host = new FtHostClient(hostId);
    if (cfg.role !== "standby" || !this.host) this.hostId = hostId;
    const started = host
      .start(
        {
          hostId,
          imagesUrl: this.opts.imagesUrl,
          dbName: this.opts.dbName,
          transport: "tabs",
          diskMode: this.vm!.diskMode,
          readMode: this.opts.readMode,
          snapshotVia: this.opts.snapshotVia,
          diskId: this.vm!.diskId,
          ...cfg,
        },
        {
          progress: (p) => (this.progress = p),
          status: (s) => (host === this.host ? this.onStatus(s) : host === this.siblingHost ? this.onSiblingStatus(s) : undefined),
          event: (e) => this.onHostEvent(hostId, e),
          toClient: (msg) => {
            // Released by the live primary: the outside world sees it, in every tab.
            this.bus.post({ t: "to-client", msg });
            this.onToClient(msg);
          },
        },
      )
      .catch((e: unknown) => {
        this.note(hostId, "error", `host failed to start: ${String(e)}`);
      });
    this.started.set(host, started);
    return host;
  }

  private readonly started = new WeakMap<FtHostClient, Promise<void>>();

  /** No standby tab: FT VMotion into a second worker of this tab, over an in-page data channel. */
  private cloneIntoSibling(): void {
    this.dropSibling();
    const host = this.host!;
    const primaryId = this.hostId!;
    const id = `${this.tab}#W${++this.siblings}`;
    this.note("page", "cluster", `no standby tab: FT VMotion to ${id}, a second worker of this tab`);
    const sibling = this.spawn(id, { role: "standby", epoch: 0, sessionEpochMs: 0 });
    this.siblingHost = sibling;
    this.sibling = { hostId: id, status: null };
    this.siblingLink = connectHostsOverWebRtc(
      (dc) => host.attachLoggingChannel(id, dc),
      (dc) => sibling.attachLoggingChannel(primaryId, dc),
    );
    this.cloning = { target: this.tab, link: "sibling", since: Date.now(), started: true, startedAt: Date.now(), sent: false };
    this.cloneProgress = "starting the worker…";
    void Promise.all([this.started.get(sibling), this.siblingLink.connected]).then(
      () => this.siblingHost === sibling && host.control({ t: "start-clone", target: id }),
      (e: unknown) => this.note("page", "error", `local standby failed: ${String(e)}`),
    );
  }

  private onSiblingStatus(s: HostStatus): void {
    this.sibling = { hostId: s.hostId, status: s };
    if (s.role === "backup" && s.state === "replaying") this.cloneDone();
    if (s.state === "halted") return this.dropSibling();
    if (s.role !== "primary") return;
    // Our main worker failed and the sibling went live: it is this tab's host now. The failed
    // worker is stopped, as a failed server is taken out (it would only halt on waking).
    this.note("page", "cluster", `${s.hostId} (this tab's second worker) is live: it becomes the tab's host`);
    this.host?.kill();
    this.host = this.siblingHost;
    this.hostId = s.hostId;
    this.siblingHost = null;
    this.sibling = null;
    this.siblingLink = null; // its data channel lives on inside the new host
    this.onStatus(s);
  }

  private dropSibling(): void {
    this.siblingHost?.kill();
    this.siblingLink?.close();
    this.siblingHost = null;
    this.siblingLink = null;
    this.sibling = null;
  }

  private onStatus(s: HostStatus): void {
    const was = this.status;
    this.status = s;
    const me = this.members.find((m) => m.me)!;
    me.status = s;
    me.hostId = s.hostId;
    if (was?.role !== s.role || was?.state !== s.state) this.beat();
    // Shipped is not restored: redundancy is back only when the target reports it replays.
    if (this.cloning && s.role === "primary" && s.state === "recording") this.cloning.sent = true;
    if (this.vm?.diskMode === "non-shared" && s.role === "primary" && (s.state === "alone" || s.state === "recording")) this.collectDisks(s.epoch);
  }

  private onHostEvent(hostId: string, e: HostEvent): void {
    if (e.kind === "clone-progress") this.cloneProgress = `receiving snapshot: ${e.percent}%`;
    if (e.kind === "clone-snapshot") this.clonePauseMs = Math.round(e.pauseMs);
    const ev = hostEventLine(hostId, performance.now(), e);
    this.pushEvent(ev);
    // Page clocks differ per tab: events cross the bus in absolute time.
    this.bus.post({ t: "event", ev: { ...ev, at: ev.at + performance.timeOrigin } });
  }

  // ------------------------------------------------------------------ membership and the cluster service

  private beat(): void {
    if (this.disposed) return;
    const now = Date.now();
    this.bus.post({
      t: "beat",
      tab: this.tab,
      joinedAt: this.joinedAt,
      vm: this.vm,
      hostId: this.hostId,
      status: this.status ? $state.snapshot(this.status) : null,
      clientLength: this.client.length,
    });
    this.noteAck(this.tab, this.client.length);
    this.members.find((m) => m.me)!.lastSeen = now;
    for (const m of this.members) if (!m.me && now - m.lastSeen > MEMBER_TIMEOUT_MS) this.removeMember(m.tab);
    this.restoreRedundancy();
  }

  private onBeat(b: TabBeat): void {
    if (b.vm && !this.vm) {
      this.vm = b.vm;
      this.vmKnown = true;
    }
    const m = this.members.find((x) => x.tab === b.tab);
    if (m) {
      m.hostId = b.hostId;
      m.status = b.status;
      m.lastSeen = Date.now();
    } else {
      this.members.push({ tab: b.tab, joinedAt: b.joinedAt, hostId: b.hostId, status: b.status, lastSeen: Date.now(), me: false });
      this.members.sort((x, y) => x.joinedAt - y.joinedAt);
    }
    if (this.cloning && b.tab === this.cloning.target && b.status?.role === "backup" && b.status.state === "replaying") this.cloneDone();
  }

  /**
   * A closing tab says goodbye (pagehide). Its host is going with it, so our host need not wait
   * out the failure timeout to suspect it; a tab that crashes or hangs says nothing, and there
   * the heartbeats decide. Who goes live is still the lock record's test-and-set.
   */
  private onBye(tab: string): void {
    const host = this.members.find((m) => m.tab === tab && !m.me)?.hostId;
    if (host && this.host) {
      this.note("page", "cluster", `tab ${tab} closed: ${host} is gone (a hint to the failure detector)`);
      this.host.control({ t: "peer-left", host });
    }
    this.removeMember(tab);
  }

  private removeMember(tab: string): void {
    const i = this.members.findIndex((m) => m.tab === tab && !m.me);
    if (i >= 0) {
      this.note("page", "membership", `tab ${tab} left the cluster`);
      const m = this.members[i]!;
      if (m.hostId) this.departed.push({ hostId: m.hostId, status: m.status });
      this.members.splice(i, 1);
    }
    this.acks.delete(tab);
    if (this.cloning?.target === tab) this.abandonClone("the standby tab left");
  }

  /**
   * §3.1: the live primary running alone restores redundancy on a standby host. Only the tab
   * of that primary acts, so there is one decision maker without an election; if it dies, the
   * backup that takes over becomes the one.
   */
  private restoreRedundancy(): void {
    const s = this.status;
    if (!this.host || s?.role !== "primary") return;
    if (this.cloning) {
      const c = this.cloning;
      if (Date.now() - c.since > CLONE_GIVE_UP_MS) this.abandonClone("timed out");
      // Back to alone after shipping the snapshot: the primary declared the new backup failed.
      else if (c.sent && s.state === "alone") this.abandonClone("the new backup was declared failed; retrying");
      // Still alone long after start-clone: the protocol dropped the snapshot (frames ran after
      // it) or never took one. Once the snapshot is sent the primary is `recording`, so a retry
      // here never cuts a transfer in progress.
      else if (c.started && s.state === "alone" && Date.now() - c.startedAt > CLONE_RETRY_MS) this.abandonClone("no snapshot came; retrying");
      return;
    }
    if (s.state !== "alone" || !this.autoRestore) return;
    const standby = this.members.find((m) => !m.me && m.status?.role === "standby" && m.status.state === "waiting" && m.hostId);
    if (!standby) {
      if (this.localStandby) this.cloneIntoSibling();
      return;
    }
    this.dropSibling();
    this.note("page", "cluster", `restoring redundancy: FT VMotion to ${standby.hostId} (tab ${standby.tab})`);
    this.closeLinks();
    const host = this.host;
    const targetHost = standby.hostId!;
    const link = this.signalling.offer(standby.tab, (dc) => host.attachLoggingChannel(targetHost, dc));
    this.links.push(link);
    this.cloning = { target: standby.tab, link: link.id, since: Date.now(), started: false, startedAt: 0, sent: false };
  }

  /** Our host is the live primary: delete the own disk copies of hosts that can never be live again. */
  private collectDisks(liveEpoch: number): void {
    const diskId = this.vm!.diskId;
    for (const m of this.members) if (!m.me && m.hostId && isGarbage({ status: m.status, dead: false }, liveEpoch)) this.diskGc.collect(diskId, m.hostId);
    this.departed = this.departed.filter((d) => {
      if (!isGarbage({ status: d.status, dead: false }, liveEpoch)) return true;
      this.diskGc.collect(diskId, d.hostId);
      return false;
    });
  }

  private onOffer(link: string, from: string, sdp: RTCSessionDescriptionInit): void {
    const host = this.host;
    const fromMember = this.members.find((m) => m.tab === from);
    if (!host || this.status?.role !== "standby" || !fromMember?.hostId) return;
    const peerHost = fromMember.hostId;
    this.closeLinks();
    this.links.push(
      this.signalling.answer(link, from, sdp, (dc) => {
        host.attachLoggingChannel(peerHost, dc);
        this.bus.post({ t: "link-up", link, from: this.tab, to: from });
      }),
    );
    this.note("page", "cluster", `logging channel from ${peerHost}: waiting for the clone`);
  }

  private onLinkUp(link: string): void {
    const c = this.cloning;
    if (!c || c.link !== link || c.started) return;
    const target = this.members.find((m) => m.tab === c.target)?.hostId;
    if (!target) return this.abandonClone("the standby tab left");
    c.started = true;
    c.startedAt = Date.now();
    this.cloneProgress = "snapshotting…";
    this.host?.control({ t: "start-clone", target });
  }

  private cloneDone(): void {
    if (!this.cloning) return;
    this.cloning = null;
    this.cloneProgress = null;
    this.note("page", "cluster", "redundancy restored: a backup replays in another tab");
  }

  private abandonClone(why: string): void {
    this.note("page", "cluster", `FT VMotion abandoned: ${why}`);
    this.cloning = null;
    this.cloneProgress = null;
  }

  private closeLinks(): void {
    for (const l of this.links.splice(0)) l.close();
  }

  // ------------------------------------------------------------------ the outside world

  private onToClient(msg: ToClientMsg): void {
    if (msg.t === "input-ack") {
      // Input typed in a tab that died before its broadcast reached us: the host consumed it,
      // so catch our sequence numbers up (the bytes are not needed: they are acknowledged).
      while (this.client.sentInputs < msg.nextSeq) this.client.type(this.inputs.get(this.client.sentInputs) ?? empty);
    } else if (msg.offset > this.client.length) {
      this.requestSync();
    }
    const fresh = this.client.onMessage(msg);
    if (fresh) this.display(fresh);
    if (msg.t === "input-ack") for (const s of this.inputs.keys()) if (s < this.client.inputAcked) this.inputs.delete(s);
    this.clientBytes = this.client.length;
    this.clientConflicts = this.client.conflicts;
  }

  private onRemoteInput(seq: number, bytes: Uint8Array): void {
    if (seq < this.client.sentInputs) return;
    if (seq > this.client.sentInputs) return this.requestSync();
    const msg = this.client.type(bytes);
    this.inputs.set(seq, bytes);
    this.toHost(msg);
  }

  /** The typist, or if it is gone (or nobody typed yet), the oldest tab. */
  private isTypist(): boolean {
    if (this.typist && this.members.some((m) => m.tab === this.typist)) return this.typist === this.tab;
    return this.members[0]?.tab === this.tab;
  }

  private noteAck(tab: string, offset: number): void {
    this.acks.set(tab, { offset, at: Date.now() });
  }

  /** Hosts may forget console bytes only once every tab's client holds them. */
  private minAck(): number {
    const now = Date.now();
    let min = this.client.length;
    for (const [tab, a] of this.acks) {
      if (now - a.at > MEMBER_TIMEOUT_MS) this.acks.delete(tab);
      else if (a.offset < min) min = a.offset;
    }
    return min;
  }

  private clientTick(): void {
    for (const m of this.client.tick(performance.now())) {
      if (m.t === "client-ack") {
        this.noteAck(this.tab, m.consoleOffset);
        this.bus.post({ t: "client-ack", tab: this.tab, offset: m.consoleOffset });
        this.toHost({ t: "client-ack", consoleOffset: this.minAck() });
      } else {
        this.toHost(m);
      }
    }
  }

  /** Every host of this tab hears the client; only a live primary acts on it. */
  private toHost(m: ClientMsg): void {
    this.host?.client(m);
    this.siblingHost?.client(m);
  }

  private requestSync(): void {
    const now = performance.now();
    if (now - this.lastSyncReq < 500) return;
    this.lastSyncReq = now;
    this.bus.post({ t: "sync-req", tab: this.tab, from: this.client.length });
  }

  private onSyncReq(tab: string, from: number): void {
    if (this.client.length <= from && this.client.sentInputs === 0) return;
    const stream = this.client.stream();
    this.bus.post({
      t: "sync",
      to: tab,
      offset: Math.min(from, stream.length),
      bytes: stream.slice(Math.min(from, stream.length)),
      sentInputs: this.client.sentInputs,
      inputAcked: this.client.inputAcked,
      unacked: [...this.inputs].filter(([s]) => s >= this.client.inputAcked),
    });
  }

  private onSync(m: Extract<BusMsg, { t: "sync" }>): void {
    if (m.bytes.length > 0) this.onToClient({ t: "console", epoch: 0, from: "sync", offset: m.offset, bytes: m.bytes });
    const unacked = new Map(m.unacked);
    while (this.client.sentInputs < m.sentInputs) {
      const seq = this.client.sentInputs;
      const bytes = unacked.get(seq) ?? empty;
      const msg = this.client.type(bytes);
      if (unacked.has(seq)) {
        this.inputs.set(seq, bytes);
        this.toHost(msg);
      }
    }
    if (m.inputAcked > this.client.inputAcked) this.onToClient({ t: "input-ack", epoch: 0, from: "sync", nextSeq: m.inputAcked });
  }

  // ------------------------------------------------------------------ display

  private async pollLock(): Promise<void> {
    try {
      this.lock = (await this.storage?.lock.peek()) ?? null;
    } catch {
      /* display only */
    }
  }

  private note(hostId: string, kind: PageNoteKind, text: string): ProtocolEvent {
    const ev = pageNoteLine(hostId, performance.now(), kind, text);
    this.pushEvent(ev);
    return ev;
  }

  private pushEvent(ev: ProtocolEvent): void {
    this.events.push(ev);
    if (this.events.length > 500) this.events.splice(0, this.events.length - 500);
  }
}
