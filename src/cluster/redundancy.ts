import type { HostEvent, PageNoteKind } from "../host/events.ts";
import type { HostStatus } from "../host/status.ts";
import type { ClusterClock, ClusterTransport, LinkOffer, RemoteLink } from "./ports.ts";
import type { LocalHost, LocalHosts } from "./local-hosts.ts";
import type { Membership } from "./membership.ts";
import type { VmIdentity } from "./messages.ts";
import { chooseNextBackup, type BackupPlace } from "./next-backup.ts";

/** A clone that has not produced a backup by then is abandoned (and retried). */
export const CLONE_GIVE_UP_MS = 60_000;
/** Still alone this long after start-clone: the snapshot was dropped or never taken. */
export const CLONE_RETRY_MS = 20_000;

/** The FT VMotion in progress, from this member's live primary to `target`. */
interface Clone {
  primary: string;
  target: string;
  /** The member whose host `target` is; null: a host of this member. */
  member: string | null;
  /** The logging channel to another member's host, until it reports it is up. */
  link: string | null;
  since: number;
  /** When the primary was told to clone (null: the channel is not up yet). */
  startedAt: number | null;
  /** The primary shipped the snapshot (it records again). Shipped is not restored: that takes the target replaying. */
  sent: boolean;
}

export interface RedundancyDeps {
  clock: ClusterClock;
  transport: ClusterTransport;
  hosts: LocalHosts;
  membership: Membership;
  vm(): VmIdentity | null;
  autoRestore(): boolean;
  /** Whether this member may add a host of its own as the next backup. */
  spawnLocal(): boolean;
  note(kind: PageNoteKind, text: string): void;
  changed(): void;
}

/**
 * Redundancy restoration (paper §3.1): the member whose host is the live primary running alone
 * picks the next backup and clones the primary into it by FT VMotion, watches the clone, and
 * gives up and retries when it stalls. One decision maker without an election: if that primary
 * fails, the backup that takes over makes the next decision. A user's request to restore is an
 * intent kept until it is carried out, or refused at once with the reason (`refusal`).
 */
export class Redundancy {
  /** Latest clone progress line and measured guest pause, for the UI. */
  progress: string | null = null;
  pauseMs: number | null = null;
  private clone: Clone | null = null;
  private intent = false;
  private links: RemoteLink[] = [];
  /**
   * Hosts a clone was shipped to that did not become the backup, and when (see chooseNextBackup).
   * Passed over for CLONE_RETRY_MS, not for good: by then their beats tell what they are, and
   * one that never got the snapshot (it was lost, or the channel closed) is a standby again.
   */
  private readonly spent = new Map<string, number>();

  constructor(private readonly d: RedundancyDeps) {
    d.transport.on("link-up", (m) => m.to === d.transport.self && this.onLinkUp(m.link));
    d.transport.onLinkOffer((offer) => this.onLinkOffer(offer));
  }

  /** Why a restore cannot be asked for now, or null when it can. */
  refusal(): string | null {
    const p = this.d.hosts.livePrimary();
    if (!p) return "no live primary to clone";
    if (this.clone) return `an FT VMotion to ${this.clone.target} is in progress`;
    const backup = this.liveBackup();
    if (backup) return `backup ${backup} replays: the VM is fault tolerant`;
    if (this.intent) return `requested: it starts when ${p.id} notices it runs alone`;
    if (!this.place()) return "no standby host to clone into";
    return null;
  }

  /** The user asks for redundancy: carried out as soon as the primary runs alone, or refused. */
  request(): void {
    const why = this.refusal();
    if (why) return this.d.note("info", `restore redundancy refused: ${why}`);
    this.intent = true;
    const p = this.d.hosts.livePrimary()!;
    if (p.status!.state !== "alone") this.d.note("cluster", `restore redundancy requested: it starts when ${p.id} notices it runs alone`);
    this.check();
    this.d.changed();
  }

  /** Called on every status of this member's hosts and every beat: start, watch or give up. */
  check(): void {
    const p = this.d.hosts.livePrimary();
    if (this.clone) return this.watch(p);
    if (p?.status!.state !== "alone" || (!this.d.autoRestore() && !this.intent)) return;
    const place = this.place();
    if (place?.kind === "member") this.cloneToMember(p, place);
    else if (place) this.cloneToLocal(p);
  }

  /** A host's status, of this member or from another member's beat. */
  observe(hostId: string | null, s: HostStatus | null): void {
    const c = this.clone;
    if (!c || !s) return;
    if (hostId === c.primary && s.role === "primary" && s.state === "recording") c.sent = true;
    if (hostId === c.target && s.role === "backup" && s.state === "replaying") this.done();
  }

  hostEvent(e: HostEvent): void {
    if (e.kind === "clone-progress") this.progress = `receiving snapshot: ${e.percent}%`;
    else if (e.kind === "clone-snapshot") this.pauseMs = Math.round(e.pauseMs);
    else return;
    this.d.changed();
  }

  memberLeft(tab: string): void {
    if (this.clone?.member === tab) this.abandon("the standby tab left");
  }

  /** A new VM or the end: nothing in progress, nothing asked. */
  reset(): void {
    this.closeLinks();
    this.clone = null;
    this.intent = false;
    this.progress = null;
  }

  private place(): BackupPlace | null {
    const now = this.d.clock.now();
    for (const [host, at] of this.spent) if (now - at > CLONE_RETRY_MS) this.spent.delete(host);
    return chooseNextBackup(this.d.membership.members, this.d.spawnLocal(), new Set(this.spent.keys()));
  }

  private liveBackup(): string | null {
    const local = this.d.hosts.liveBackup();
    if (local) return local.id;
    const s = this.d.membership.others().find((m) => m.status?.role === "backup" && m.status.state !== "halted" && m.status.state !== "stopped");
    return s?.hostId ?? null;
  }

  private watch(p: LocalHost | undefined): void {
    const c = this.clone!;
    const now = this.d.clock.now();
    const alone = p?.status!.state === "alone";
    if (!p || p.id !== c.primary) this.abandon("the primary is gone");
    else if (now - c.since > CLONE_GIVE_UP_MS) this.abandon("timed out");
    // Back to alone after shipping the snapshot: the primary declared the new backup failed.
    else if (c.sent && alone) this.abandon("the new backup was declared failed; retrying");
    // Still alone long after start-clone: the protocol dropped the snapshot (frames ran after
    // it) or never took one. Once the snapshot is sent the primary records, so a retry here
    // never cuts a transfer in progress.
    else if (c.startedAt !== null && alone && now - c.startedAt > CLONE_RETRY_MS) this.abandon("no snapshot came; retrying");
    // Another member's standby is up and waiting, so its logging channel comes up in seconds,
    // or never: the offer or its answer was lost, or the standby ignored it (it did not know our
    // member yet). Offer again rather than wait for the give-up. (A new host of our own may take
    // longer: it first loads its images.)
    else if (c.member !== null && c.startedAt === null && now - c.since > CLONE_RETRY_MS) this.abandon("the logging channel did not come up; retrying");
  }

  private cloneToMember(p: LocalHost, place: Extract<BackupPlace, { kind: "member" }>): void {
    this.d.hosts.dropExtras();
    this.d.note("cluster", `restoring redundancy: FT VMotion to ${place.hostId} (tab ${place.member})`);
    this.closeLinks();
    const link = this.d.transport.offerLink(place.member, place.hostId, (end) => p.handle.attachLoggingChannel(place.hostId, end));
    this.links.push(link);
    this.clone = { primary: p.id, target: place.hostId, member: place.member, link: link.id, since: this.d.clock.now(), startedAt: null, sent: false };
    this.d.changed();
  }

  private cloneToLocal(p: LocalHost): void {
    const vm = this.d.vm();
    if (!vm) return;
    this.d.hosts.dropExtras();
    const id = this.d.hosts.nextId();
    this.d.note("cluster", `restoring redundancy: FT VMotion to ${id}, ${this.d.hosts.describeExtra()}`);
    const standby = this.d.hosts.spawn(id, "standby", vm);
    const link = this.d.hosts.link(p, standby);
    this.clone = { primary: p.id, target: id, member: null, link: null, since: this.d.clock.now(), startedAt: null, sent: false };
    this.progress = "starting the worker…";
    this.d.changed();
    Promise.all([standby.started, link.connected]).then(
      () => this.clone?.target === id && this.clone.startedAt === null && this.startClone(),
      () => this.clone?.target === id && this.abandon(`${id} did not start`),
    );
  }

  /** The standby side: another member's primary opens a logging channel to our waiting host. */
  private onLinkOffer(offer: LinkOffer): void {
    const host = this.d.hosts.main;
    const peerHost = this.d.membership.find(offer.from)?.hostId;
    if (!host || host.id !== offer.host || host.status?.role !== "standby" || !peerHost) return;
    this.closeLinks();
    this.links.push(
      offer.answer((end) => {
        host.handle.attachLoggingChannel(peerHost, end);
        this.d.transport.post({ t: "link-up", link: offer.link, from: this.d.transport.self, to: offer.from });
      }),
    );
    this.d.note("cluster", `logging channel from ${peerHost}: waiting for the clone`);
  }

  private onLinkUp(link: string): void {
    const c = this.clone;
    if (!c || c.link !== link || c.startedAt !== null) return;
    if (!c.member || !this.d.membership.find(c.member)?.hostId) return this.abandon("the standby tab left");
    this.startClone();
  }

  private startClone(): void {
    const c = this.clone!;
    c.startedAt = this.d.clock.now();
    this.progress = "snapshotting…";
    this.d.hosts.get(c.primary)?.handle.control({ t: "start-clone", target: c.target });
    this.d.changed();
  }

  private done(): void {
    const c = this.clone!;
    this.clone = null;
    this.intent = false;
    this.progress = null;
    this.d.note("cluster", `redundancy restored: ${c.target} replays as the new backup`);
    this.d.changed();
  }

  private abandon(why: string): void {
    const c = this.clone;
    if (!c) return;
    this.d.note("cluster", `FT VMotion abandoned: ${why}`);
    this.clone = null;
    if (c.sent) this.spent.set(c.target, this.d.clock.now());
    this.progress = null;
    // A host of ours that did not become the backup is taken out: it would only wait, or halt.
    if (c.member === null) this.d.hosts.drop(c.target);
    this.d.changed();
  }

  private closeLinks(): void {
    for (const l of this.links.splice(0)) l.close();
  }
}
