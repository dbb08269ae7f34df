import { peekBatchHeader } from "../ft/log/codec.ts";
import type { ChannelMsg, FtAction, FtEvent } from "../ft/protocol/index.ts";
import { decodeEnvelope } from "../host/log-envelope.ts";
import type { RunStats } from "./sim-config.ts";
import type { SimNode } from "./sim-node.ts";
import type { ToyEngine } from "./toy-engine.ts";

/**
 * Invariant 1, no split brain: at most one host produces externally visible effects (client
 * output, shared-disk writes that land) per epoch.
 */
export class SplitBrainCheck {
  private owners = new Map<number, string>();

  constructor(private readonly violation: (s: string) => void) {}

  effect(epoch: number, id: string, what: () => string): void {
    const owner = this.owners.get(epoch);
    if (owner === undefined) this.owners.set(epoch, id);
    else if (owner !== id) this.violation(`two live primaries in epoch ${epoch}: ${owner} and ${id} (${what()})`);
  }
}

/** Every frame a backup replays must leave its VM in the state its primary's was in after that frame. */
export class StateCheck {
  private digests = new Map<string, number[]>();

  constructor(private readonly violation: (s: string) => void) {}

  recorded(id: string, frame: number, digest: number): void {
    let m = this.digests.get(id);
    if (!m) this.digests.set(id, (m = []));
    m[frame] = digest;
  }

  replayed(id: string, primary: string, frame: number, digest: number): void {
    const expect = this.digests.get(primary)?.[frame];
    if (expect !== undefined && expect !== digest) this.violation(`${id} state differs from primary ${primary} after frame ${frame} (${digest} != ${expect})`);
    // Once a backup takes over it records its own history under its own id.
    this.recorded(id, frame, digest);
  }
}

/**
 * Invariant 2a, the Output Rule itself (paper 2.2), end to end: when a primary with a backup
 * releases an output, the backup must already have sent an acknowledgement covering the log of
 * the frame that produced it (with backup reads, a disk write also waits until the backup has
 * replayed past it). Frames are the toy engine's; acknowledgements and log records are what the
 * hosts really sent, whatever positions the host driver computed.
 */
export class OutputRuleCheck {
  /** primary>backup: the clone the log belongs to, and (seq, frames covered) of its frame-ends. */
  private links = new Map<string, { cloneId: number; ends: [number, number][] }>();
  /** Per backup: frames acknowledged, frames replayed, and frames it started with (a clone's). */
  private acked = new Map<string, number>();
  private replayed = new Map<string, number>();
  private start = new Map<string, number>();

  constructor(
    private readonly violation: (s: string) => void,
    private readonly mode: { shared: boolean; backupReads: boolean },
    private readonly counted: { packetsRuleChecked: number },
  ) {}

  /** Every protocol action of every host, before the host performs it. */
  performing(node: SimNode, a: FtAction): void {
    if (a.type === "send") return this.sent(node.id, a.to, a.msg);
    const p = node.host.agent?.primary;
    if (!p || p.state !== "recording" || !p.backup) return;
    const engine = node.engine;
    if (!engine) return;
    if (a.type === "releaseOutput") {
      const m = a.msg;
      const frame = m.t === "console" ? frameOfConsole(engine, m.offset + m.bytes.length) : engine.inputFrame.get(m.nextSeq - 1);
      const what = m.t === "console" ? `console bytes ${m.offset}..${m.offset + m.bytes.length}` : `input-ack ${m.nextSeq}`;
      if (frame !== undefined) this.check(node.id, p.backup, frame, false, what);
    } else if (a.type === "transmitPacket") {
      const frame = engine.packetFrame.get(a.frame);
      if (frame === undefined) return this.violation(`${node.id} transmits a packet its VM never produced`);
      this.counted.packetsRuleChecked++;
      this.check(node.id, p.backup, frame, false, `packet ${new TextDecoder().decode(a.frame)}`);
    } else if (a.type === "writeBlock" && this.mode.shared) {
      const frame = engine.ioFrame.get(a.ioId);
      if (frame !== undefined) this.check(node.id, p.backup, frame, this.mode.backupReads, `disk write io${a.ioId}`);
    }
  }

  private sent(from: string, to: string, msg: ChannelMsg): void {
    if (msg.t === "clone-start") {
      // The protocol resends the same clone until acknowledged: only a new one starts a new log.
      if (this.links.get(`${from}>${to}`)?.cloneId === msg.clone.cloneId) return;
      this.links.set(`${from}>${to}`, { cloneId: msg.clone.cloneId, ends: [] });
      this.start.set(to, msg.clone.position.frame);
    } else if (msg.t === "log") {
      const link = this.link(from, to);
      for (const r of msg.records) {
        const last = link.ends[link.ends.length - 1];
        if (r.kind === "frame-end" && (!last || r.seq > last[0])) link.ends.push([r.seq, r.position.frame]);
      }
    } else if (msg.t === "ack") {
      const link = this.links.get(`${to}>${from}`);
      if (!link || link.cloneId !== msg.cloneId) return;
      let covered = -1;
      for (const [seq, frames] of link.ends) if (seq <= msg.ackSeq) covered = frames;
      this.acked.set(from, Math.max(this.acked.get(from) ?? 0, covered));
      this.replayed.set(from, Math.max(this.replayed.get(from) ?? 0, msg.replayed.frame));
    }
  }

  private link(from: string, to: string): { cloneId: number; ends: [number, number][] } {
    const key = `${from}>${to}`;
    let l = this.links.get(key);
    if (!l) this.links.set(key, (l = { cloneId: 0, ends: [] }));
    return l;
  }

  private check(primary: string, backup: string, frame: number, needsReplay: boolean, what: string): void {
    const start = this.start.get(backup) ?? 0;
    const acked = Math.max(start, this.acked.get(backup) ?? 0);
    if (frame >= acked) {
      this.violation(`Output Rule: ${primary} released ${what} of frame ${frame}; ${backup} had acknowledged the log of frames < ${acked} only`);
    } else if (needsReplay && frame >= Math.max(start, this.replayed.get(backup) ?? 0)) {
      this.violation(`Output Rule: ${primary} released ${what} of frame ${frame} before ${backup} replayed past it`);
    }
  }
}

/**
 * The host's side of the Output Rule (src/ft/protocol/api.ts): a recording host feeds the log
 * entries of a batch before the events of its frames (outputs, inputs applied, disk requests and
 * completions), so an output reaches the Output Rule only with its frame's entries in the log.
 */
export class FeedOrderCheck {
  /** Per host: frames < this have their log entries fed. */
  private logged = new Map<string, number>();

  constructor(private readonly violation: (s: string) => void) {}

  fed(node: SimNode, ev: FtEvent): void {
    if (node.engine?.mode !== "record") return;
    if (ev.type === "logEntriesProduced") {
      for (const item of decodeEnvelope(ev.entries[0]!.bytes)) {
        if (item.k !== "batch") continue;
        // The header says which frames the batch holds (the backup decodes and checks it all).
        const h = peekBatchHeader(item.bytes);
        this.logged.set(node.id, h.firstFrame + h.frameCount);
      }
      return;
    }
    // A console output names its frame; the others name the boundary after it.
    const frame =
      ev.type === "outputProduced" && ev.kind === "console"
        ? ev.position.frame
        : ev.type === "outputProduced" || ev.type === "inputApplied" || ev.type === "ioCompleted" || ev.type === "diskReadIssued"
          ? ev.position.frame - 1
          : null;
    const logged = this.logged.get(node.id) ?? 0;
    if (frame !== null && frame >= logged) this.violation(`${node.id} fed ${ev.type} of frame ${frame} before the log entries of that frame (logged: frames < ${logged})`);
  }
}

/**
 * Paper 3.3: once a power-off settled (the backup acknowledged the entry, or the primary took the
 * lock record, or there was no backup: src/ft/protocol/power-off.ts), no host of that VM goes live,
 * and none runs it at the end. One that came too late (the backup went live first) settles nothing.
 */
export class PowerOffCheck {
  /** When and which VM (disk) was powered off; null: none yet. */
  at: number | null = null;
  vm: string | null = null;

  constructor(
    private readonly violation: (s: string) => void,
    private readonly stats: RunStats,
    private readonly trace: (line: string) => void,
    private readonly now: () => number,
  ) {}

  performing(node: SimNode, a: FtAction): void {
    if (a.type === "goLive" && this.at !== null && node.vm === this.vm) this.violation(`${node.id} went live (epoch ${a.epoch}) after the VM was powered off @${this.at.toFixed(2)}ms`);
    if (a.type !== "halt") return;
    const outcome = node.host.agent?.primary?.powerOff?.outcome;
    if (!outcome) return;
    this.trace(`${node.id} power-off settled: ${outcome}`);
    if (outcome === "overtaken") this.stats.powerOffsOvertaken++;
    else if (this.at === null) {
      this.at = this.now();
      this.vm = node.vm;
    }
    if (outcome === "fenced") this.stats.powerOffsFenced++;
  }

  /** `holders`: the hosts that may still run a VM at the end of the run. */
  atEnd(holders: SimNode[]): void {
    const running = holders.filter((n) => this.at !== null && n.vm === this.vm).map((n) => n.id);
    if (running.length > 0) this.violation(`${running.join(", ")} still run(s) the VM at the end, powered off @${this.at!.toFixed(2)}ms`);
  }
}

/** The frame whose output ends at or after console offset `end`. */
function frameOfConsole(engine: ToyEngine, end: number): number | undefined {
  const ends = engine.consoleEnds;
  let lo = 0;
  let hi = ends.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ends[mid]!.end < end) lo = mid + 1;
    else hi = mid;
  }
  return ends[lo]?.frame;
}
