import type { ChannelMsg, FtAgent } from "../ft/protocol/index.ts";
import type { HostContext } from "./host-context.ts";
import type { PeerLink } from "./peer-link.ts";
import type { LoopProbe } from "./loop-probe.ts";
import { RemusMeter } from "./remus-meter.ts";
import type { ReplayFeed } from "./replay-feed.ts";
import type { StorageRefusal } from "../storage/index.ts";
import { emptyFlowKinds, type FlowCounters, type FlowKinds, type HostStatus, type ReadCounters } from "./status.ts";

/**
 * Status and metrics: what the host reports to the page several times a second (HostStatus),
 * the counters behind it, and the Remus meter. Nothing here feeds back into the protocol.
 */
export class HostStatusReporter {
  /** Teaching figure: cumulative counts, reported with the status (never per frame). */
  readonly flow: FlowCounters = { sent: emptyFlowKinds(), received: emptyFlowKinds(), released: 0, packetsOut: 0, packetsIn: 0, diskWrites: 0, diskWritesRejected: 0, lastWrite: null };
  readonly reads: ReadCounters = { count: 0, bytes: 0, inLog: 0, inLogBytes: 0, byBackup: 0, cached: 0 };
  /** Disk reads this host did itself as a backup (backup-reads mode), checked by hash. */
  backupReadCount = 0;
  /** The browser refuses this host's storage operations now (StorageOps says when it starts and ends). */
  storageRefused: StorageRefusal | null = null;
  private remus: RemusMeter | null = null;
  private logBytesWindow: { at: number; bytes: number }[] = [];
  /** The counter the log rate was last taken from (the link's totals, by direction) and its value. */
  private lastLogCount: { dir: "out" | "in"; bytes: number } | null = null;
  private diskBlocks = 0;
  private diskCountedAt = -Infinity;

  constructor(
    private readonly ctx: HostContext,
    private readonly link: PeerLink,
    private readonly replay: ReplayFeed,
    /** The teaching controls' state, for a VM this host runs live. */
    private readonly vm: () => { paused: boolean; pace: number | "max"; replaySpeed: number },
    private readonly probe: LoopProbe,
  ) {}

  sent(msg: ChannelMsg): void {
    countMsg(this.flow.sent, msg);
  }

  received(msg: ChannelMsg): void {
    countMsg(this.flow.received, msg);
  }

  /**
   * Teaching measurement "lockstep vs shipping state": start (epochMs) or stop (null) counting what
   * a Remus-style checkpointing primary would ship (remus-meter.ts). Off by default: it keeps a
   * copy of guest RAM and compares all of it every epoch.
   */
  setRemus(epochMs: number | null): void {
    const engine = this.ctx.engine;
    const on = epochMs !== null && engine?.mode === "record";
    this.remus = on ? new RemusMeter(epochMs, engine.cpuStateBytes, () => this.ctx.scheduler.now(), this.link.bytesOut) : null;
    this.ctx.event({ kind: "remus", epochMs: on ? epochMs : null });
  }

  /** Remus meter on: a bounded piece of its RAM compare (we are at a frame boundary). */
  remusEpoch(): void {
    const engine = this.ctx.engine;
    if (this.remus && engine) this.remus.step(engine.guestRam(), this.ctx.timing.remusBudgetMs);
  }

  report(): void {
    const ctx = this.ctx;
    const now = ctx.scheduler.now();
    const agent = ctx.agent;
    // The log flows primary → backup: count what the primary sends and what the backup receives.
    // Both totals only grow (peer-link.ts: they span every channel this host had). A promoted
    // backup switches from one to the other: that report starts the new count, it adds nothing.
    const dir = agent?.role === "primary" ? "out" : "in";
    const total = dir === "out" ? this.link.bytesOut : this.link.bytesIn;
    const prev = this.lastLogCount;
    this.logBytesWindow.push({ at: now, bytes: prev && prev.dir === dir ? total - prev.bytes : 0 });
    this.lastLogCount = { dir, bytes: total };
    while (this.logBytesWindow.length > 0 && now - this.logBytesWindow[0]!.at > 1000) this.logBytesWindow.shift();
    const rate = this.logBytesWindow.reduce((a, w) => a + w.bytes, 0);
    if (!agent) return;
    const st = agent.status();
    const engine = ctx.engine;
    const p = engine?.position() ?? { frame: 0, icount: 0 };
    const primary = agent.primary;
    const guest = engine?.nowMs() ?? 0;
    const record = engine?.mode === "record";
    const { paused, pace, replaySpeed } = this.vm();
    ctx.ports.events.status({
      hostId: ctx.ports.hostId,
      role: st.role,
      state: ctx.stopped && st.state !== "halted" ? "stopped" : st.state,
      frame: p.frame,
      icount: String(p.icount),
      // A backup made by FT VMotion has no engine while its snapshot is restored: its replay then
      // stands at the snapshot's guest time (the agent's), not at 0 (which showed the primary's
      // whole uptime as lag, 20-24 s in bench:net).
      lagMs: st.role === "backup" ? Math.max(0, this.replay.lastPrimaryGuestTime - (engine && !this.replay.restoring ? guest : (agent.backup?.guestTime ?? guest))) : 0,
      logBytesPerSec: rate,
      // Alone, nothing is owed to anyone: what the dead backup never acknowledged no longer counts.
      unackedBytes: primary && primary.state !== "alone" ? primary.unackedLogBytes : 0,
      heldOutputs: primary?.heldOutputs ?? 0,
      pendingIo: (primary ?? agent.backup)?.io.size ?? 0,
      epoch: st.epoch ?? 0,
      verifiedFrame: st.role === "backup" ? this.replay.verifiedFrame : 0,
      speed: primary?.speed ?? 1,
      ...(primary ? { flowControl: primary.flowControl } : {}),
      flow: { ...this.flow, sent: { ...this.flow.sent }, received: { ...this.flow.received } },
      console: consoleOf(agent),
      disk: { mode: ctx.ports.ft.diskMode, name: ctx.ports.diskName, blocks: this.diskBlocks },
      ...(st.role === "primary" ? { logBytesSent: this.link.bytesOut, reads: { ...this.reads } } : {}),
      vm: record ? { paused, pace } : undefined,
      ...(replaySpeed < 1 ? { replaySpeed } : {}),
      channel: !this.link.connected ? "none" : this.link.isCut ? "cut" : "up",
      ...(ctx.frozen ? { frozen: true } : {}),
      ...(this.remus && record ? { remus: this.remus.report(this.link.bytesOut) } : {}),
      ...(this.storageRefused ? { storageRefused: this.storageRefused } : {}),
      ...(this.probe.running ? { loop: this.probe.report() } : {}),
    });
    if (now - this.diskCountedAt >= ctx.timing.diskCountMs) {
      this.diskCountedAt = now;
      void ctx.ports.disk.blockCount().then(
        (n) => (this.diskBlocks = n),
        () => undefined,
      );
    }
  }
}

function consoleOf(agent: FtAgent): HostStatus["console"] {
  const c = agent.primary?.console ?? agent.backup?.console;
  return c ? { produced: c.produced, nextInputSeq: c.nextInputSeq } : undefined;
}

/** Counts one channel message (and the log records it carries) for the teaching figure. */
function countMsg(k: FlowKinds, msg: ChannelMsg): void {
  switch (msg.t) {
    case "log":
      k.log++;
      for (const r of msg.records) {
        if (r.kind === "entry") {
          k.entry++;
          k.entryBytes += r.bytes.byteLength;
        } else if (r.kind === "frame-end") k.frameEnd++;
        else k.control++;
      }
      break;
    case "ack":
      k.ack++;
      break;
    case "heartbeat":
      k.heartbeat++;
      break;
    case "clone-start":
      k.clone++;
      break;
  }
}
