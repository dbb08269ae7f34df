import { expect } from "vitest";
import type { ClientMsg, ToClientMsg } from "../../../src/ft/protocol/index.ts";
import type { FtHostConfig, FtHostEvents, HostControl } from "../../../src/host/ft-api.ts";
import type { HostStatus } from "../../../src/host/status.ts";
import type { LockRecord } from "../../../src/storage/index.ts";
import type { Cancel, ClusterClock, ClusterStorage, DiskCopies, HostHandle, HostMachines, LocalLink, LoggingChannelEnd } from "../../../src/cluster/ports.ts";
import { InMemoryHub, type InMemoryTransport } from "../../../src/cluster/adapters/in-memory-transport.ts";
import { ClusterService, type ClusterOptions } from "../../../src/cluster/service.ts";

/** Lets queued messages and resolved promises run (the in-memory hub delivers in microtasks). */
export const flush = () => new Promise<void>((r) => setImmediate(r));

/** Virtual time: timers fire as `advance` moves the clock, in order, with the promises they start settled in between. */
export class FakeClock implements ClusterClock {
  t = 0;
  private readonly wallBase: number;
  private timers: { id: number; at: number; every: number | null; fn: () => void }[] = [];
  private ids = 0;

  constructor(wallBase = 1_700_000_000_000) {
    this.wallBase = wallBase;
  }

  now(): number {
    return this.t;
  }

  wallNow(): number {
    return this.wallBase + this.t;
  }

  every(ms: number, fn: () => void): Cancel {
    return this.add(ms, ms, fn);
  }

  after(ms: number, fn: () => void): Cancel {
    return this.add(ms, null, fn);
  }

  async advance(ms: number): Promise<void> {
    await flush();
    const end = this.t + ms;
    for (;;) {
      const next = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!next) break;
      this.t = next.at;
      if (next.every === null) this.timers = this.timers.filter((x) => x !== next);
      else next.at += next.every;
      next.fn();
      await flush();
    }
    this.t = end;
    await flush();
  }

  private add(ms: number, every: number | null, fn: () => void): Cancel {
    const timer = { id: ++this.ids, at: this.t + ms, every, fn };
    this.timers.push(timer);
    return () => (this.timers = this.timers.filter((x) => x !== timer));
  }
}

export function status(hostId: string, role: HostStatus["role"], state: HostStatus["state"], epoch = 1): HostStatus {
  return { hostId, role, state, frame: 0, icount: "0", lagMs: 0, logBytesPerSec: 0, unackedBytes: 0, heldOutputs: 0, epoch, verifiedFrame: 0, speed: 1 };
}

/** A host that does what the test says it did. */
export class FakeHost implements HostHandle {
  readonly controls: HostControl[] = [];
  readonly heard: ClientMsg[] = [];
  readonly channels: { peer: string; end: LoggingChannelEnd }[] = [];
  killed = false;
  private start!: { resolve: () => void; reject: (e: unknown) => void };
  readonly started = new Promise<void>((resolve, reject) => (this.start = { resolve, reject }));

  constructor(
    readonly config: FtHostConfig,
    private readonly events: FtHostEvents,
  ) {}

  get id(): string {
    return this.config.hostId;
  }

  boot(): void {
    this.start.resolve();
  }

  fail(e: unknown): void {
    this.start.reject(e);
  }

  report(role: HostStatus["role"], state: HostStatus["state"], epoch = 1): void {
    this.events.status(status(this.id, role, state, epoch));
  }

  event(e: Parameters<FtHostEvents["event"]>[0]): void {
    this.events.event(e);
  }

  release(msg: ToClientMsg): void {
    this.events.toClient(msg);
  }

  attachLoggingChannel(peer: string, end: LoggingChannelEnd): void {
    this.channels.push({ peer, end });
  }

  client(msg: ClientMsg): void {
    this.heard.push(msg);
  }

  control(c: HostControl): void {
    this.controls.push(c);
  }

  recording(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array([this.id.charCodeAt(0)]));
  }

  kill(): void {
    this.killed = true;
  }

  sent<T extends HostControl["t"]>(t: T): Extract<HostControl, { t: T }>[] {
    return this.controls.filter((c): c is Extract<HostControl, { t: T }> => c.t === t);
  }
}

/** The servers of one member; hosts boot at once unless `manualBoot`. */
export class FakeMachines implements HostMachines {
  readonly hosts: FakeHost[] = [];
  readonly links: { a: string; b: string; closed: boolean }[] = [];
  manualBoot = false;

  spawn(config: FtHostConfig, events: FtHostEvents): { handle: HostHandle; started: Promise<void> } {
    const h = new FakeHost(config, events);
    this.hosts.push(h);
    if (!this.manualBoot) h.boot();
    return { handle: h, started: h.started };
  }

  link(a: HostHandle, b: HostHandle): LocalLink {
    const l = { a: a.id, b: b.id, closed: false };
    this.links.push(l);
    return { connected: Promise.resolve(), close: () => (l.closed = true) };
  }

  host(id: string): FakeHost {
    const h = this.hosts.find((x) => x.id === id);
    if (!h) throw new Error(`no host ${id} (have ${this.hosts.map((x) => x.id).join(", ")})`);
    return h;
  }
}

/** The lock record every member shares, in memory, with the IndexedDB record's semantics. */
export class FakeStorage {
  record: LockRecord = { owner: null, epoch: 0 };
  readonly lock: ClusterStorage["lock"] = {
    peek: async () => ({ ...this.record }),
    reset: async () => void (this.record = { owner: null, epoch: 0 }),
    testAndSet: async (expected, owner) => {
      if (this.record.epoch !== expected) return { ok: false, reason: "conflict", record: this.record };
      this.record = { owner, epoch: expected + 1 };
      return { ok: true, record: this.record };
    },
  };
  open = async (): Promise<ClusterStorage> => ({ lock: this.lock, close: () => {} });
}

export class FakeDisks implements DiskCopies {
  readonly deleted: string[] = [];
  cleared = 0;
  async delete(diskId: string, hostId: string): Promise<void> {
    this.deleted.push(`${diskId}/${hostId}`);
  }
  async clearAll(): Promise<void> {
    this.cleared++;
  }
}

const settings = { imagesUrl: "/images/", dbName: "test", readMode: "log", diskMode: "shared" } as const;

export const PAGE: ClusterOptions = { ...settings, placement: "page", transport: "workers", pair: true, autoStart: false, autoRestore: false, localStandby: true, metrics: true };
export const TAB: ClusterOptions = { ...settings, placement: "tab", transport: "tabs", pair: false, autoStart: true, autoRestore: true, localStandby: false, metrics: false };

export interface Member {
  svc: ClusterService;
  machines: FakeMachines;
  disks: FakeDisks;
  transport: InMemoryTransport;
}

/** Members of one simulated cluster: one clock, one hub, one shared storage. */
export class World {
  readonly clock = new FakeClock();
  readonly hub = new InMemoryHub(() => [{ fake: "a" } as unknown as MessagePort, { fake: "b" } as unknown as MessagePort]);
  readonly storage = new FakeStorage();

  member(self: string, options: Partial<ClusterOptions> & Pick<ClusterOptions, "placement">): Member {
    const machines = new FakeMachines();
    const disks = new FakeDisks();
    const base = options.placement === "page" ? PAGE : TAB;
    const transport = this.hub.join(self);
    const svc = new ClusterService({ ...base, ...options }, { clock: this.clock, machines, transport, openStorage: this.storage.open, disks });
    return { svc, machines, disks, transport };
  }

  /** Every feed line of a member, as text. */
  static feed(m: Member): string[] {
    return m.svc.log.events.map((e) => e.text);
  }
}

/** Opens a tab: it listens for a running VM, then starts one or joins as a standby. */
export async function openTab(w: World, self: string, options: Parameters<World["member"]>[1] = { placement: "tab" }): Promise<Member> {
  const m = w.member(self, options);
  const joined = m.svc.join();
  await w.clock.advance(800);
  await joined;
  return m;
}

/** Tab A runs the VM alone; tab B joined as a standby and became the backup by FT VMotion. */
export async function pairOfTabs(): Promise<{ w: World; a: Member; b: Member }> {
  const w = new World();
  const a = await openTab(w, "A");
  a.machines.host("A#1").report("primary", "alone");
  const b = await openTab(w, "B");
  b.machines.host("B#1").report("standby", "waiting", 0);
  await w.clock.advance(250);
  expect(a.machines.host("A#1").sent("start-clone")).toEqual([{ t: "start-clone", target: "B#1" }]);
  a.machines.host("A#1").report("primary", "recording");
  b.machines.host("B#1").report("backup", "replaying");
  await w.clock.advance(250);
  return { w, a, b };
}
