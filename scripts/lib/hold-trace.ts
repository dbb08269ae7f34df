// Measurement only (net-held): where the Output Rule's hold of a transmitted packet goes. Wraps
// AgentDriver.feed/perform and the engine's runFrame in the thread that calls `installHoldTrace`
// (the primary's, and the backup's thread when it has its own), stamping with a clock that threads
// share (`performance.timeOrigin + performance.now()`), so a backup on a worker thread can be
// compared with its primary. Nothing in src/ changes.
import { AgentDriver } from "../../src/host/agent-driver.ts";
import { LockstepEngine } from "../../src/engine/engine.ts";
import type { FtAction, FtEvent } from "../../src/ft/protocol/index.ts";

/** Milliseconds since the Unix epoch, comparable between worker threads. */
export const sharedNow = (): number => performance.timeOrigin + performance.now();

/** What one host did that a packet's hold is made of, each stamped with `sharedNow`. */
export interface HostTrace {
  /** Primary: a transmitted packet fed to the agent (right after its frame), and when that frame began. */
  produced: { t: number; frameStart: number; frame: Uint8Array }[];
  /** Primary: a log message sent, with the frame-end seqs it carried (first send only). */
  logSent: { t: number; frameEnds: number[] }[];
  /** Backup: a log message fed to the agent, with the highest seq it carried. */
  logReceived: { t: number; maxSeq: number }[];
  /** Backup: an ack sent; primary: an ack fed to the agent. */
  ackSent: { t: number; ackSeq: number }[];
  ackReceived: { t: number; ackSeq: number }[];
  /** Primary: a held packet released to the network. */
  released: Map<Uint8Array, number>;
  /** Primary: a packet from the network fed to the agent, and when the next frame began (the guest sees it). */
  packetIn: { t: number; frameStart?: number; frame?: Uint8Array }[];
}

const traces = new Map<string, HostTrace>();

export function emptyTrace(): HostTrace {
  return { produced: [], logSent: [], logReceived: [], ackSent: [], ackReceived: [], released: new Map(), packetIn: [] };
}

/** The trace of `hostId` (starts empty; `reset` empties it). */
export function traceOf(hostId: string): HostTrace {
  let t = traces.get(hostId);
  if (!t) traces.set(hostId, (t = emptyTrace()));
  return t;
}

export function resetTraces(): void {
  for (const id of traces.keys()) traces.set(id, emptyTrace());
}

let installed = false;
/** Patches this thread's AgentDriver and LockstepEngine once. */
export function installHoldTrace(): void {
  if (installed) return;
  installed = true;
  let frameStart = 0;
  const pendingIn: { t: number; frameStart?: number; frame?: Uint8Array }[] = [];
  const runFrame = LockstepEngine.prototype.runFrame;
  LockstepEngine.prototype.runFrame = function (this: LockstepEngine) {
    frameStart = sharedNow();
    if (this.mode === "record") for (const p of pendingIn.splice(0)) p.frameStart = frameStart;
    return runFrame.call(this);
  };
  const seenFrameEnds = new Set<number>();
  type Driver = { ctx: { ports: { hostId: string } }; feed(ev: FtEvent): void; perform(a: FtAction): void };
  const proto = AgentDriver.prototype as unknown as Driver;
  const feed = proto.feed;
  proto.feed = function (this: Driver, ev: FtEvent) {
    const tr = traceOf(this.ctx.ports.hostId);
    const t = sharedNow();
    if (ev.type === "outputProduced" && ev.kind === "packet") tr.produced.push({ t, frameStart, frame: ev.frame });
    else if (ev.type === "packetReceived") {
      const p = { t, frame: ev.frame };
      pendingIn.push(p);
      tr.packetIn.push(p);
    } else if (ev.type === "message" && ev.msg.t === "log") {
      tr.logReceived.push({ t, maxSeq: Math.max(0, ...ev.msg.records.map((r) => r.seq)) });
    } else if (ev.type === "message" && ev.msg.t === "ack") tr.ackReceived.push({ t, ackSeq: ev.msg.ackSeq });
    return feed.call(this, ev);
  };
  const perform = proto.perform;
  proto.perform = function (this: Driver, a: FtAction) {
    const tr = traceOf(this.ctx.ports.hostId);
    const t = sharedNow();
    if (a.type === "send" && a.msg.t === "log") {
      const frameEnds = a.msg.records.filter((r) => r.kind === "frame-end" && !seenFrameEnds.has(r.seq)).map((r) => r.seq);
      for (const s of frameEnds) seenFrameEnds.add(s);
      if (frameEnds.length > 0) tr.logSent.push({ t, frameEnds });
    } else if (a.type === "send" && a.msg.t === "ack") tr.ackSent.push({ t, ackSeq: a.msg.ackSeq });
    else if (a.type === "transmitPacket") tr.released.set(a.frame, t);
    return perform.call(this, a);
  };
}

/** A trace as plain data (for postMessage from a worker thread: no Map of buffers). */
export function portable(tr: HostTrace): Omit<HostTrace, "released" | "produced"> {
  return { logSent: tr.logSent, logReceived: tr.logReceived, ackSent: tr.ackSent, ackReceived: tr.ackReceived, packetIn: tr.packetIn };
}

/** Per transmitted packet, the stages of its hold in ms: each from the end of the previous one. */
export interface HoldBreakdown {
  /** Frame start → the packet fed to the agent after its frame (an upper bound of its wait for the frame's end). */
  frame: number[];
  /** Fed → the log message with the frame-end covering it sent (the batch flush). */
  flush: number[];
  /** Sent → fed to the backup's agent (the channel plus the backup's thread busy replaying). */
  toBackup: number[];
  /** Received → the backup's ack sent. */
  backupAck: number[];
  /** Ack sent → fed to the primary's agent (the channel plus the primary's thread busy recording). */
  toPrimary: number[];
  /** Ack received → released to the network. */
  release: number[];
  /** Fed → released: the whole hold. */
  held: number[];
}

/** Matches each packet `a` produced to the first frame-end after it, and that frame-end's way. */
export function breakdown(a: HostTrace, b: Pick<HostTrace, "logReceived" | "ackSent">): HoldBreakdown {
  const out: HoldBreakdown = { frame: [], flush: [], toBackup: [], backupAck: [], toPrimary: [], release: [], held: [] };
  const firstAt = <T extends { t: number }>(xs: T[], ok: (x: T) => boolean, from: number) => xs.find((x) => x.t >= from && ok(x));
  for (const p of a.produced) {
    const rel = a.released.get(p.frame);
    const sent = firstAt(a.logSent, () => true, p.t);
    if (rel === undefined || !sent) continue;
    const seq = sent.frameEnds[0]!;
    const got = firstAt(b.logReceived, (x) => x.maxSeq >= seq, sent.t);
    const acked = got && firstAt(b.ackSent, (x) => x.ackSeq >= seq, got.t);
    const back = acked && firstAt(a.ackReceived, (x) => x.ackSeq >= seq, acked.t);
    if (!got || !acked || !back) continue;
    out.frame.push(p.t - p.frameStart);
    out.flush.push(sent.t - p.t);
    out.toBackup.push(got.t - sent.t);
    out.backupAck.push(acked.t - got.t);
    out.toPrimary.push(back.t - acked.t);
    out.release.push(rel - back.t);
    out.held.push(rel - p.t);
  }
  return out;
}

/** An IPv4 TCP segment's fields we need (null if `f` is not one). */
function tcp(f: Uint8Array): { seq: number; ack: number; len: number; win: number; sport: number } | null {
  if (f.length < 54 || f[12] !== 0x08 || f[13] !== 0x00 || f[23] !== 6) return null;
  const ihl = (f[14]! & 0x0f) * 4;
  const ipLen = (f[16]! << 8) | f[17]!;
  const t = 14 + ihl;
  const u32 = (o: number) => ((f[o]! << 24) | (f[o + 1]! << 16) | (f[o + 2]! << 8) | f[o + 3]!) >>> 0;
  const off = (f[t + 12]! >> 4) * 4;
  return { sport: (f[t]! << 8) | f[t + 1]!, seq: u32(t + 4), ack: u32(t + 8), win: (f[t + 14]! << 8) | f[t + 15]!, len: ipLen - ihl - off };
}

/**
 * The guest's TCP as the primary sees it, from the packets it produced and the client's packets it
 * fed to the guest (one bulk connection from port 80): bytes in flight (sent by the guest, held or
 * not, minus what the client's ACKs that reached the guest cover) at each data segment produced;
 * the window the client advertised; and the rest of a round trip after the release: released →
 * the client's ACK covering the segment at the host, and that ACK's wait for the next frame.
 */
export function tcpFlow(a: HostTrace): { inflight: number[]; window: number[]; toAck: number[]; ackToFrame: number[] } {
  const ins = a.packetIn.map((p) => ({ ...p, h: p.frame ? tcp(p.frame) : null })).filter((p) => p.h !== null);
  const out = { inflight: [] as number[], window: [] as number[], toAck: [] as number[], ackToFrame: [] as number[] };
  let sndNxt = -1;
  let i = 0;
  let una = -1;
  for (const p of a.produced) {
    const h = tcp(p.frame);
    if (!h || h.sport !== 80 || h.len <= 0) continue;
    // The client's ACKs the guest had seen when this segment was produced (entered at a frame before it).
    while (i < ins.length && ins[i]!.frameStart !== undefined && ins[i]!.frameStart! <= p.frameStart) {
      una = Math.max(una, ins[i]!.h!.ack);
      out.window.push(ins[i]!.h!.win);
      i++;
    }
    const end = (h.seq + h.len) >>> 0;
    sndNxt = Math.max(sndNxt, end);
    if (una >= 0) out.inflight.push(sndNxt - una);
    const rel = a.released.get(p.frame);
    const ack = rel === undefined ? undefined : ins.find((x) => x.t >= rel && x.h!.ack >= end);
    if (ack && rel !== undefined) {
      out.toAck.push(ack.t - rel);
      if (ack.frameStart !== undefined) out.ackToFrame.push(ack.frameStart - ack.t);
    }
  }
  return out;
}
