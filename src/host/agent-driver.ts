import { blockHash, FtAgent, type AgentInit, type FtAction, type FtEvent } from "../ft/protocol/index.ts";
import type { CloneTransfer } from "./clone-transfer.ts";
import type { FrameLoop } from "./frame-loop.ts";
import type { HostContext } from "./host-context.ts";
import type { HostStatusReporter } from "./host-status.ts";
import type { LogBatcher } from "./log-batcher.ts";
import type { PeerLink } from "./peer-link.ts";
import type { ReplayFeed } from "./replay-feed.ts";
import type { StorageOps } from "./storage-ops.ts";

/** The parts an action may land on. */
export interface DriverParts {
  link: PeerLink;
  storage: StorageOps;
  batcher: LogBatcher;
  replay: ReplayFeed;
  clone: CloneTransfer;
  loop: FrameLoop;
  status: HostStatusReporter;
  /** Go-live and halt change the whole host (host.ts). */
  goLive(from: "primary" | "backup", epoch: number): void;
  halt(reason: string): void;
}

/**
 * The agent driver: the one place where protocol events go in (`feed`) and protocol actions are
 * performed (`perform`), in order, each before the next event (src/ft/protocol/api.ts). Everything
 * the paper calls the hypervisor's job is dispatched from here to the part that does it.
 */
export class AgentDriver {
  agent: FtAgent | null = null;

  constructor(
    private readonly ctx: HostContext,
    private readonly parts: DriverParts,
  ) {}

  start(now: number, init: AgentInit = this.ctx.ports.init): void {
    const p = this.ctx.ports;
    this.agent = new FtAgent(p.ft, p.hostId, init, now);
  }

  feed(ev: FtEvent): void {
    if (this.ctx.stopped || !this.agent) return;
    const observe = this.ctx.ports.observe;
    observe?.fed(ev);
    const actions = this.agent.step(this.ctx.scheduler.now(), ev);
    for (const a of actions) {
      observe?.performing(a);
      this.perform(a);
    }
  }

  private perform(a: FtAction): void {
    const { link, storage, batcher, replay, clone, loop, status } = this.parts;
    const flow = status.flow;
    switch (a.type) {
      case "send":
        if (link.send(a.to, a.msg)) status.sent(a.msg);
        break;
      case "releaseOutput":
        flow.released++;
        this.ctx.ports.events.toClient(a.msg);
        break;
      case "transmitPacket":
        flow.released++;
        flow.packetsOut++;
        this.ctx.ports.events.toNetwork?.(a.frame);
        break;
      case "injectPacket":
        flow.packetsIn++;
        this.ctx.withEngine((e) => e.receivePacket(a.frame));
        loop.wake();
        break;
      case "writeBlock":
        flow.diskWrites++;
        flow.lastWrite = { block: a.block, epoch: a.epoch };
        storage.perform(a);
        break;
      case "reissueDiskIo":
        if (a.io.kind === "write") {
          flow.diskWrites++;
          flow.lastWrite = { block: a.io.block, epoch: a.epoch };
        }
        this.ctx.event({ kind: "reissue", ioId: a.io.ioId, op: a.io.kind, offset: a.io.block, bytes: a.io.data?.length ?? 0, epoch: a.epoch, issuedAt: a.io.position.frame });
        storage.perform(a);
        break;
      case "readBlock":
      case "testAndSet":
        storage.perform(a);
        break;
      case "completeIo":
        // Backup-reads mode: the backup checks what it reads itself against this hash (paper 4.2).
        if (a.data && this.ctx.ports.ft.readMode === "backup-reads") {
          batcher.readHash(a.ioId, blockHash(a.data));
        }
        if (a.data) {
          status.reads.count++;
          status.reads.bytes += a.data.length;
        }
        this.ctx.withEngine((e) => e.complete(a.ioId, a.data));
        loop.wake();
        break;
      case "provideReadData":
        status.backupReadCount++;
        this.ctx.withEngine((e) => e.provideRead(a.ioId, a.data));
        break;
      case "injectInput":
        this.ctx.withEngine((e) => e.sendSerial(a.bytes));
        batcher.inputInjected(a.seq);
        loop.wake();
        break;
      case "replay":
        replay.onReplay(a.records);
        break;
      case "goLive":
        this.parts.goLive(a.from, a.epoch);
        break;
      case "halt":
        this.parts.halt(a.reason);
        break;
      case "pauseExecution":
        if (a.reason === "power-off") {
          loop.powerOff();
          break;
        }
        loop.pauseForFlow();
        this.ctx.event({ kind: "flow-control" });
        break;
      case "resumeExecution":
        loop.resumeAfterFlow();
        break;
      case "setSpeed":
        loop.setSpeed(a.factor);
        break;
      case "snapshotForClone":
        clone.requested(a.cloneId, a.includeDisk);
        break;
      case "restoreSnapshot":
        clone.restore(a.clone.snapshot);
        break;
      case "stateChanged":
        this.ctx.event({ kind: "state", role: a.role, state: a.state, epoch: a.epoch });
        this.ctx.reportStatus();
        break;
    }
  }
}
