// A bench for the host driver: real hosts (src/host/host.ts) on the simulator's toy engine and
// machine threads (src/sim), over in-memory storage and channels the tests control. Time is the
// event queue's, so every test is deterministic and takes no real time.
import type { LoggingChannel } from "../../../src/channel/logging-channel.ts";
import { decodeChannelMsg } from "../../../src/channel/wire.ts";
import { makeConfig, WORKER_DEFAULTS, type AgentInit, type ChannelMsg, type FtAction, type FtConfig, type FtEvent, type ToClientMsg } from "../../../src/ft/protocol/index.ts";
import { LockStoreCore } from "../../../src/ft/protocol/lock-store.ts";
import type { HostEvent } from "../../../src/host/events.ts";
import type { HostStatus } from "../../../src/host/status.ts";
import { Host } from "../../../src/host/host.ts";
import type { HostDisk, HostStorage } from "../../../src/host/ports.ts";
import { EventQueue } from "../../../src/sim/event-queue.ts";
import { SIM_TIMING } from "../../../src/sim/sim-hosts.ts";
import { SimNode } from "../../../src/sim/sim-node.ts";
import { SIM_FT } from "../../../src/sim/sim-config.ts";
import { ToyEngine } from "../../../src/sim/toy-engine.ts";
import { StaleEpochError } from "../../../src/storage/index.ts";

/** The protocol on the simulator's time scale: the simulator's own settings (src/sim/sim-config.ts). */
export const RIG_FT: Partial<FtConfig> = SIM_FT;

export interface RigHost {
  node: SimNode;
  host: Host;
  /** Everything the host fed its agent, performed, reported, and sent to the client. */
  fed: { at: number; ev: FtEvent }[];
  performed: FtAction[];
  events: HostEvent[];
  /** This host's own-disk writes as they landed (non-shared disk). */
  landed: { block: number; data: Uint8Array; at: number }[];
  toClient: ToClientMsg[];
  /** Channel messages this host put on the wire. */
  sent: ChannelMsg[];
  /** Every status the host reported. */
  statuses: HostStatus[];
  /** What its session recorder heard from the engine (frame numbers, checkpoint frames). */
  recorded: { frames: number[]; checkpoints: number[] };
}

export class Rig {
  readonly q = new EventQueue();
  readonly store = new LockStoreCore({ owner: "A#1", epoch: 1 }, 4);
  readonly hosts = new Map<string, RigHost>();
  private rdrand = 1;

  constructor(readonly ft: FtConfig = makeConfig(RIG_FT, WORKER_DEFAULTS)) {}

  /** The usual pair: primary A#1 and its backup B#1, linked and started (not yet run). */
  pair(opts: { backupDiskMs?: number } = {}): { a: RigHost; b: RigHost } {
    const a = this.add("A#1", { role: "primary", epoch: 1, backup: "B#1" });
    const b = this.add("B#1", { role: "backup", epoch: 1, primary: "A#1" }, { diskMs: opts.backupDiskMs });
    this.link(a, b);
    this.start(a, b);
    return { a, b };
  }

  /** `diskMs`: each way to this host's disk (own copy or shared); the lock record is 0.5 ms away. */
  add(id: string, init: AgentInit, opts: { diskMs?: number } = {}): RigHost {
    const node = new SimNode(this.q, id.split("#")[0]!, id, "disk");
    const h: RigHost = { node, host: null!, fed: [], performed: [], events: [], toClient: [], sent: [], landed: [], statuses: [], recorded: { frames: [], checkpoints: [] } };
    const settled = <T>(v: T): Promise<T> => {
      this.q.markAsync();
      return Promise.resolve(v);
    };
    const env = {
      diskReads: this.ft.readMode === "backup-reads" ? ("backup" as const) : ("log" as const),
      draw: () => this.rdrand++,
      burn: (ms: number) => node.thread.burn(ms),
      frameCostMs: 2,
      settled,
      frameRun: () => undefined,
    };
    h.host = new Host({
      hostId: id,
      init,
      ft: this.ft,
      engines: {
        boot: (mode, hooks) => settled(new ToyEngine(mode, env, hooks)),
        restore: (snapshot, hooks) => settled(new ToyEngine("replay", env, hooks, { snapshot })),
        recorder: () => ({
          frames: (fs) => void h.recorded.frames.push(...fs.map((f) => f.frame)),
          checkpoint: (c) => void h.recorded.checkpoints.push(c.frame),
          encode: () => new Uint8Array(0),
        }),
      },
      ...this.storage(node, opts.diskMs ?? 0.5, h.landed),
      diskName: id,
      events: { toClient: (m) => h.toClient.push(m), status: (st) => h.statuses.push(st), event: (e) => h.events.push(e) },
      scheduler: node.thread.scheduler(),
      timing: SIM_TIMING,
      observe: { fed: (ev) => h.fed.push({ at: node.thread.now(), ev }), performing: (a) => h.performed.push(a) },
    });
    node.host = h.host;
    this.hosts.set(id, h);
    return h;
  }

  start(...hs: RigHost[]): void {
    for (const h of hs) this.q.after(0, () => void h.host.start());
  }

  /**
   * A logging channel between two hosts: ordered, 0.2 ms each way. `drop` loses the messages it
   * returns true for (then the channel is not lossless).
   */
  link(a: RigHost, b: RigHost, drop?: (from: RigHost, msg: ChannelMsg) => boolean): void {
    const mk = (owner: RigHost): LoggingChannel & { peer?: LoggingChannel & { closed?: boolean }; closed?: boolean } => ({
      lossless: !drop,
      bufferedAmount: 0,
      open: true,
      onmessage: null,
      onclose: null,
      ondrain: null,
      send(bytes: Uint8Array) {
        const msg = decodeChannelMsg(bytes.subarray(1));
        if (!owner.node.alive) return;
        owner.sent.push(msg);
        if (drop?.(owner, msg)) return;
        const to = this.peer!;
        owner.node.thread.at(0.2, () => !to.closed && to.onmessage?.(bytes));
      },
      close() {
        this.closed = true;
      },
    });
    const ca = mk(a);
    const cb = mk(b);
    ca.peer = cb;
    cb.peer = ca;
    a.host.attachChannel(b.node.id, ca);
    b.host.attachChannel(a.node.id, cb);
  }

  /** The machine dies: its thread runs nothing again. */
  crash(h: RigHost): void {
    h.node.thread.alive = false;
    h.host.stop();
  }

  async run(ms: number): Promise<void> {
    await this.q.run(this.q.now + ms);
  }

  /** Storage `ms` away each way: the shared lock record and disk, or the host's own copy. */
  private storage(node: SimNode, ms: number, landed: RigHost["landed"]): { storage: HostStorage; disk: HostDisk } {
    const store = this.store;
    const op = <T>(apply: () => T | Error, away = ms): Promise<T> =>
      new Promise((resolve, reject) =>
        node.thread.at(away, () => {
          const r = apply();
          this.q.after(away, () =>
            node.thread.run(() => {
              this.q.markAsync();
              if (r instanceof Error) reject(r);
              else resolve(r);
            }),
          );
        }),
      );
    return {
      storage: {
        lock: {
          readLock: () => op(() => ({ ...store.lock }), 0.5),
          testAndSet: (expect, owner) => op(() => store.testAndSet(expect, owner), 0.5),
        },
      },
      disk:
        this.ft.diskMode === "shared"
          ? {
              sizeBytes: 256,
              read: (offset) => op(() => (store.readBlock(offset) as { data: Uint8Array }).data),
              write: (offset, data, epoch) => op<void>(() => (store.writeBlock(offset, data, epoch).ok ? undefined : new StaleEpochError(epoch, store.lock.epoch))),
              exportBlocks: () => Promise.reject(new Error("the shared disk is never exported")),
              importBlocks: () => Promise.reject(new Error("the shared disk is never imported")),
              blockCount: () => op(() => store.blocks.size),
            }
          : {
              sizeBytes: 256,
              read: (offset) => op(() => (node.ownDisk.get(offset) ?? new Uint8Array(4)).slice()),
              write: (offset, data) =>
                op<void>(() => {
                  node.ownDisk.set(offset, data.slice());
                  landed.push({ block: offset, data: data.slice(), at: this.q.now });
                }),
              exportBlocks: () => op(() => [...node.ownDisk].sort((x, y) => x[0] - y[0]).map(([index, data]) => ({ index, data: data.slice() }))),
              importBlocks: (blocks) => op<void>(() => void (node.ownDisk = new Map(blocks.map((b) => [b.index, b.data.slice()])))),
              blockCount: () => op(() => node.ownDisk.size),
            },
    };
  }
}

export const state = (h: RigHost): string => {
  const s = h.host.agent?.status();
  return s ? `${s.role}/${s.state}` : "starting";
};
