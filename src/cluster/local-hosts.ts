import type { ToClientMsg } from "../ft/protocol/index.ts";
import type { FtHostConfig } from "../host/ft-api.ts";
import type { LoadProgress } from "../host/images.ts";
import type { HostStatus } from "../host/status.ts";
import type { HostEvent, PageNoteKind } from "../host/events.ts";
import type { HostHandle, HostMachines, LocalLink } from "./ports.ts";
import type { VmIdentity } from "./messages.ts";

/** A host of this member as the UI shows it. */
export interface HostView {
  id: string;
  status: HostStatus | null;
  progress: LoadProgress | null;
  /** The service pulled its plug: it reports nothing any more. */
  dead: boolean;
}

export interface LocalHost extends HostView {
  /** The role it was started in (a standby learns its role from the clone). */
  readonly startedAs: FtHostConfig["role"];
  readonly handle: HostHandle;
  readonly started: Promise<void>;
}

/**
 * Where this member's hosts run. `page`: every host a server of its own (the one-page demo
 * starts a pair and adds a host per FT VMotion; failed hosts stay on show). `tab`: the tab is
 * one server with one host, plus at most one second worker as a local standby, taken out when
 * it halts and made the tab's host when it goes live.
 */
export type Placement = "page" | "tab";

/** What every host of the cluster is started with, whatever its role. */
export interface HostSettings {
  imagesUrl: string;
  dbName: string;
  transport: FtHostConfig["transport"];
  readMode: FtHostConfig["readMode"];
  snapshotVia?: FtHostConfig["snapshotVia"];
  /** The shared storage is this etcd rather than IndexedDB `dbName` (several computers). */
  etcd?: FtHostConfig["etcd"];
  noOutputRule?: boolean;
  diskCache?: boolean;
  /** How a pair started together gets its guest running (the boot image, or a cold boot). */
  start?: FtHostConfig["start"];
}

/** A primary or backup booting with the VM (a standby takes both from its clone). */
export interface Boot {
  epoch: number;
  sessionEpochMs: number;
  peer?: string;
}

export interface HostSink {
  status(h: LocalHost, s: HostStatus): void;
  event(h: LocalHost, e: HostEvent): void;
  toClient(msg: ToClientMsg): void;
  /** A packet a host put on the network (released by its Output Rule). */
  toNetwork?(h: LocalHost, frame: Uint8Array): void;
  progress(h: LocalHost): void;
  note(hostId: string, kind: PageNoteKind, text: string): void;
}

export const isLive = (h: HostView): boolean => !h.dead && !!h.status && h.status.state !== "halted" && h.status.state !== "stopped";

/** The hosts this member runs: host-config assembly, links between them, kill and take-out. */
export class LocalHosts {
  private list: LocalHost[] = [];
  private links: { ids: [string, string]; link: LocalLink }[] = [];
  private letters = 0;
  private extras = 0;
  /** Tab placement: a host is never named as an earlier one of this tab (a VM lost, a new one started). */
  private mains = 0;
  /** The member's own host: the one its beats announce (tab placement: the tab's host). */
  main: LocalHost | null = null;
  /** The lecture's pause is on: a host spawned now starts frozen too. */
  frozen = false;
  /** The latest image download progress of any host of this member. */
  lastProgress: LoadProgress | null = null;

  constructor(
    readonly placement: Placement,
    private readonly self: string,
    private readonly machines: HostMachines,
    private readonly settings: () => HostSettings,
    private readonly sink: HostSink,
  ) {}

  all(): readonly LocalHost[] {
    return this.list;
  }

  get(id: string): LocalHost | undefined {
    return this.list.find((h) => h.id === id);
  }

  livePrimary(): LocalHost | undefined {
    return this.list.find((h) => isLive(h) && h.status!.role === "primary");
  }

  liveBackup(): LocalHost | undefined {
    return this.list.find((h) => isLive(h) && h.status!.role === "backup");
  }

  /** The next host's name: letters in a page; the tab's id, then its second workers, in a tab. */
  nextId(): string {
    if (this.placement === "page") return `${String.fromCharCode(65 + (this.letters++ % 26))}#1`;
    return this.main ? `${this.self}#W${++this.extras}` : `${this.self}#${++this.mains}`;
  }

  /** Where a host this member adds runs, in words for the feed. */
  describeExtra(): string {
    return this.placement === "page" ? "a new host of this page" : "a second worker of this tab";
  }

  spawn(id: string, role: FtHostConfig["role"], vm: VmIdentity, boot: Boot = { epoch: 0, sessionEpochMs: 0 }): LocalHost {
    const s = this.settings();
    const config: FtHostConfig = {
      hostId: id,
      role,
      ...boot,
      imagesUrl: s.imagesUrl,
      dbName: s.dbName,
      diskId: vm.diskId,
      transport: s.transport,
      diskMode: vm.diskMode,
      readMode: s.readMode,
      ...(s.snapshotVia ? { snapshotVia: s.snapshotVia } : {}),
      ...(s.etcd ? { etcd: s.etcd } : {}),
      noOutputRule: s.noOutputRule === true,
      diskCache: s.diskCache !== false,
      ...(s.start ? { start: s.start } : {}),
    };
    let host: LocalHost | null = null;
    const known = () => host !== null && this.list.includes(host);
    const { handle, started } = this.machines.spawn(config, {
      progress: (p) => {
        if (!known()) return;
        host!.progress = this.lastProgress = p;
        this.sink.progress(host!);
      },
      status: (st) => known() && this.onStatus(host!, st),
      event: (e) => known() && this.sink.event(host!, e),
      toClient: (msg) => known() && this.sink.toClient(msg),
      toNetwork: (frame) => known() && this.sink.toNetwork?.(host!, frame),
    });
    host = { id, startedAs: role, status: null, progress: null, dead: false, handle, started };
    if (this.frozen) handle.control({ t: "freeze-world", on: true });
    started.catch((e: unknown) => this.sink.note(id, "error", `host failed to start: ${String(e)}`));
    this.list.push(host);
    if (!this.main) this.main = host;
    return host;
  }

  /** A logging channel between two hosts of this member. */
  link(a: LocalHost, b: LocalHost): LocalLink {
    const link = this.machines.link(a.handle, b.handle);
    this.links.push({ ids: [a.id, b.id], link });
    link.connected.catch((e: unknown) => this.sink.note("page", "error", `logging channel failed: ${String(e)}`));
    void link.fellBack?.then((text) => this.sink.note("page", "info", text));
    return link;
  }

  /** Fail-stop: the host's plug is pulled and its logging channels close. */
  kill(id: string): boolean {
    const h = this.get(id);
    if (!h || h.dead) return false;
    h.handle.kill();
    h.dead = true;
    this.closeLinks(id);
    return true;
  }

  /** Takes a host out: killed, and in a tab no longer shown (a page shows it killed). */
  drop(id: string): void {
    this.kill(id);
    if (this.placement === "tab") this.forget(id);
  }

  /** Tab placement: the second worker, if any, is taken out. */
  dropExtras(): void {
    if (this.placement !== "tab") return;
    for (const h of this.list.filter((x) => x !== this.main)) this.drop(h.id);
  }

  closeAll(): void {
    for (const h of this.list) h.handle.kill();
    for (const l of this.links) l.link.close();
    this.list = [];
    this.links = [];
    this.main = null;
    this.lastProgress = null;
  }

  private onStatus(h: LocalHost, s: HostStatus): void {
    h.status = s;
    if (this.placement === "tab" && h !== this.main) {
      if (s.state === "halted") return this.drop(h.id);
      if (s.role === "primary") this.promote(h);
    }
    this.sink.status(h, s);
  }

  /**
   * The tab's main worker failed and its second worker went live: that is the tab's host now.
   * The failed worker is stopped, as a failed server is taken out (it would only halt on
   * waking); the logging channel lives on inside the new host, so it stays open.
   */
  private promote(h: LocalHost): void {
    const old = this.main;
    this.sink.note("page", "cluster", `${h.id} (this tab's second worker) is live: it becomes the tab's host`);
    this.main = h;
    this.links = this.links.filter((l) => !l.ids.includes(h.id));
    if (!old) return;
    old.handle.kill();
    old.dead = true;
    this.forget(old.id);
  }

  private forget(id: string): void {
    this.list = this.list.filter((h) => h.id !== id);
    if (this.main?.id === id) this.main = null;
  }

  private closeLinks(id: string): void {
    for (const l of this.links.filter((x) => x.ids.includes(id))) l.link.close();
    this.links = this.links.filter((x) => !x.ids.includes(id));
  }
}
