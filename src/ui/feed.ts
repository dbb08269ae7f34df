import type { HostStatus, ProtocolEvent } from "../host/status.ts";

/**
 * What the protocol feed lists. Events are one line each, except a snapshot transfer's
 * progress, which is one line per transfer that updates in place ("receiving snapshot: 70%")
 * instead of a line per tenth. Above them, the normal operation a student should see (log
 * entries out, acks back, outputs released under the Output Rule, state hashes verified),
 * as lines that update, never as a line per frame.
 */
export interface FeedLine {
  /** Stable across updates (the first event of the line). */
  key: ProtocolEvent;
  at: number;
  hostId: string;
  kind: ProtocolEvent["kind"];
  text: string;
}

export function feedLines(events: readonly ProtocolEvent[]): FeedLine[] {
  const out: FeedLine[] = [];
  /** Per host, the progress line of the transfer under way. */
  const progress = new Map<string, FeedLine>();
  for (const e of events) {
    if (e.kind === "clone-progress") {
      const line = progress.get(e.hostId);
      if (line) {
        line.at = e.at;
        line.text = e.text;
      } else {
        const l: FeedLine = { key: e, at: e.at, hostId: e.hostId, kind: e.kind, text: e.text };
        progress.set(e.hostId, l);
        out.push(l);
      }
      if (e.percent >= 100) progress.delete(e.hostId);
      continue;
    }
    // Anything else the receiving host says ends its transfer's line.
    progress.delete(e.hostId);
    out.push({ key: e, at: e.at, hostId: e.hostId, kind: e.kind, text: e.text });
  }
  return out;
}

/** A host as the feed sees it (HostView's shape). */
export interface FeedHost {
  id: string;
  dead: boolean;
  status: HostStatus | null;
}

/** One updating line per mechanism at work in normal operation (empty when there is no pair). */
export function normalOperation(hosts: readonly FeedHost[]): { id: string; text: string }[] {
  const live = hosts.filter((h) => !h.dead && h.status && h.status.state !== "halted" && h.status.state !== "stopped");
  const p = live.find((h) => h.status!.role === "primary");
  const b = live.find((h) => h.status!.role === "backup" && h.status!.state === "replaying");
  const lines: { id: string; text: string }[] = [];
  const n = (x: number) => x.toLocaleString("en-US");
  const pf = p?.status?.flow;
  if (p && pf) {
    lines.push({
      id: "log",
      text: b
        ? `${p.id} → ${b.id}: ${n(pf.sent.entry)} log entries and ${n(pf.sent.frameEnd)} frame ends sent; ${n(pf.received.ack)} acks back`
        : `${p.id} runs alone: nothing is logged to anyone`,
    });
    lines.push({
      id: "output",
      text: b
        ? `${p.id}: ${n(pf.released)} outputs released after the backup's ack (Output Rule); ${n(p.status!.heldOutputs)} held now`
        : `${p.id}: ${n(pf.released)} outputs released; alone, none waits for an ack`,
    });
  }
  if (b?.status) {
    lines.push({
      id: "replay",
      text: `${b.id} replays ${n(Math.round(b.status.lagMs))} ms behind; its state hash equalled the primary's at frame ${n(b.status.verifiedFrame)}`,
    });
  }
  return lines;
}
