import type { Cancel, ClusterClock, ClusterPorts } from "../cluster/ports.ts";
import type { EventQueue } from "./event-queue.ts";
import { ClusterService, type ClusterOptions } from "../cluster/service.ts";
import type { BusMember } from "./sim-bus.ts";
import { spawnSimHost } from "./sim-hosts.ts";
import type { StorageClient } from "./sim-storage.ts";
import type { World } from "./world.ts";

/**
 * Simulated ms per product ms on the cluster service's clock. The service's constants are the
 * product's (beats every 250 ms, a member silent 2.5 s has left, a clone retried after 20 s and
 * given up after 60 s); the hosts' failure timeout is 3 s between tabs and 24 ms here, so the
 * service's clock runs at that ratio: every timeout keeps its proportion to the hosts'.
 */
export const CLUSTER_TIME_SCALE = 24 / 3000;
const WALL_EPOCH = 1_700_000_000_000;

/**
 * The timers of every tab's cluster service. Like a browser's, they fire a little late: at the
 * next multiple of GRID_MS product ms. So the tabs' beats, polls and ticks fall in step, and
 * those due at one instant fire in one simulator event, in the order they were set.
 */
export class PageTimers {
  static readonly GRID_MS = 50;

  /** When a timer set at product time `nowMs` for `ms` fires. */
  static due(nowMs: number, ms: number): number {
    return Math.ceil((nowMs + ms) / PageTimers.GRID_MS - 1e-9) * PageTimers.GRID_MS;
  }

  private readonly due = new Map<number, (() => void)[]>();

  constructor(private readonly q: EventQueue) {}

  /** `fn` at product time `atMs` (a whole number). */
  at(atMs: number, fn: () => void): void {
    const list = this.due.get(atMs);
    if (list) return void list.push(fn);
    this.due.set(atMs, [fn]);
    this.q.at(atMs * CLUSTER_TIME_SCALE, () => this.fire(atMs));
  }

  private fire(atMs: number): void {
    const list = this.due.get(atMs)!;
    this.due.delete(atMs);
    for (const fn of list) fn();
  }
}

/** Tab placement, as src/ui/lib/tab-cluster.svelte.ts builds it (one host per tab, no second worker). */
const TAB: Omit<ClusterOptions, "autoStart" | "diskMode" | "readMode"> = {
  imagesUrl: "/images/",
  dbName: "sim",
  placement: "tab",
  transport: "tabs",
  pair: false,
  autoRestore: true,
  localStandby: false,
  metrics: false,
};

/**
 * One member of the cluster: a tab (`A2`: machine A's second) running the real cluster service
 * (src/cluster/service.ts) through its ports on the simulated world: a clock on simulated time,
 * the machine's hosts (spawnSimHost), the bus to the other tabs (sim-bus.ts), the lock record
 * and the own disk copies (sim-storage.ts). It dies with its machine, or closes (a goodbye).
 */
export class SimMember implements BusMember, StorageClient {
  alive = true;
  readonly svc: ClusterService;
  /** The VM (disk) this tab is part of, and those it was part of and forgot (lost, powered off). */
  private vmDisk: string | null = null;
  private readonly forgotten = new Set<string>();
  private readonly readopted = new Map<string, number>();

  constructor(
    private readonly w: World,
    /** The machine: partitions and crashes are per machine. */
    readonly name: string,
    readonly id: string,
    autoStart: boolean,
  ) {
    const ports: ClusterPorts = {
      clock: this.clock(),
      machines: {
        spawn: (config, events) => {
          // Tabs see a loss one after another: one still naming the lost VM must not bring it back
          // again and again. A host that runs it, unheard for a while (a partition), may; so may
          // one that halted while its beat was on its way, once or twice.
          if (config.role === "standby" && this.forgotten.has(config.diskId) && !w.runsSomewhere(config.diskId)) {
            const n = (this.readopted.get(config.diskId) ?? 0) + 1;
            this.readopted.set(config.diskId, n);
            if (n > 2) w.violation(`${id} stands by for the VM of disk ${config.diskId} again (${n} times) after it saw it lost`);
          }
          return spawnSimHost(w, this, name, config, events);
        },
        link: () => {
          throw new Error("tab placement without a second worker links no two hosts of one member");
        },
      },
      transport: w.bus.join(this),
      openStorage: () => Promise.resolve(w.storage.clusterStorage(this)),
      disks: {
        delete: (_diskId, hostId) => {
          w.trace(`cluster: ${id} deletes ${hostId}'s own disk copy`);
          return w.storage.deleteCopy(this, w.nodes.get(hostId));
        },
        // Every run is a fresh origin: no copies of earlier VMs.
        clearAll: () => Promise.resolve(),
      },
    };
    this.svc = new ClusterService({ ...TAB, autoStart, diskMode: w.sc.diskMode, readMode: w.sc.readMode }, ports);
    this.svc.onChange((part) => {
      if (part !== "vm") return;
      const now = this.svc.vm?.diskId ?? null;
      if (this.vmDisk !== null && now !== this.vmDisk) this.forgotten.add(this.vmDisk);
      this.vmDisk = now;
    });
    // The service's own notes (membership, redundancy, disk collection): counted, and traced.
    this.svc.log.onEvent((e) => {
      if (e.hostId !== "page" || !this.alive) return;
      if (e.kind === "membership") w.stats.membersLeft++;
      else if (e.text.startsWith("FT VMotion abandoned")) w.stats.cloneRetries++;
      w.trace(`${id}: ${e.text}`);
    });
  }

  /** The tab opens: it listens for a running VM, then starts one (autoStart) or waits as a standby. */
  open(): void {
    this.w.trace(`${this.id} opens${this.svc.options.autoStart ? " (may start the VM)" : ""}`);
    this.w.q.markAsync();
    this.svc.join().catch((e: unknown) => this.startFailed(e));
  }

  /** Starting the VM failed (storage unreachable): the user presses Start VM again a little later. */
  private startFailed(e: unknown): void {
    this.w.trace(`${this.id}: starting the VM failed: ${String(e)}`);
    this.w.q.after(10, () => {
      if (!this.alive || this.svc.vm || this.svc.hosts.main) return;
      this.w.trace(`${this.id}: Start VM pressed again`);
      this.w.q.markAsync();
      this.svc.startVm().catch((err: unknown) => this.startFailed(err));
    });
  }

  /** The tab closes on purpose: it says goodbye and its host goes with it. */
  close(): void {
    if (!this.alive) return;
    this.w.trace(`${this.id} closes`);
    this.svc.dispose();
    this.alive = false;
  }

  /** The machine crashed: the tab says nothing more, unless it got a goodbye out as it went. */
  crash(goodbye: boolean): void {
    if (!this.alive) return;
    if (goodbye) this.svc.goodbye();
    this.alive = false;
  }

  now(): number {
    return this.w.q.now;
  }

  receive(fn: () => void): void {
    if (this.alive) fn();
  }

  /** The product's page clock, on simulated time scaled by CLUSTER_TIME_SCALE; a dead tab's timers stop. */
  private clock(): ClusterClock {
    const q = this.w.q;
    const timers = this.w.pageTimers;
    const timer = (ms: number, fn: () => void, repeat: boolean): Cancel => {
      let on = true;
      let due = PageTimers.due(q.now / CLUSTER_TIME_SCALE, ms);
      const fire = (): void => {
        if (!on || !this.alive) return;
        if (repeat) timers.at((due = PageTimers.due(due, ms)), fire);
        else {
          on = false;
          q.markAsync();
        }
        fn();
      };
      timers.at(due, fire);
      return () => (on = false);
    };
    return {
      now: () => q.now / CLUSTER_TIME_SCALE,
      wallNow: () => WALL_EPOCH + q.now / CLUSTER_TIME_SCALE,
      every: (ms, fn) => timer(ms, fn, true),
      after: (ms, fn) => timer(ms, fn, false),
    };
  }
}
