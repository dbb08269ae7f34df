import type { FlowCounters, FlowKinds, HostStatus } from "../../host/status.ts";
import type { Kind, Lane } from "./figure.ts";

/** What the Figure last saw of a host's cumulative flow counters (hosts report them every 200 ms). */
export interface FlowSeen {
  sent: FlowKinds;
  received: FlowKinds;
  released: number;
  packetsOut: number;
  packetsIn: number;
  writes: number;
}

export function flowSeen(f: FlowCounters): FlowSeen {
  return { sent: { ...f.sent }, received: { ...f.received }, released: f.released, packetsOut: f.packetsOut ?? 0, packetsIn: f.packetsIn ?? 0, writes: f.diskWrites };
}

/** Tokens to draw for one increase: how many of a kind on a lane (the Figure caps each at 3). */
export interface FlowTokens {
  kind: Kind;
  lane: Lane;
  n: number;
}

/**
 * The tokens a host's counters earned since it was last seen: the primary's log entries, frame
 * ends (one at most: they come once per batch), control entries, heartbeats, outputs (packets
 * apart), packets in and disk writes; the backup's acks (two at most) and heartbeats.
 */
export function flowTokens(role: HostStatus["role"], prev: FlowSeen, f: FlowCounters): FlowTokens[] {
  const packetsOut = (f.packetsOut ?? 0) - prev.packetsOut;
  if (role === "primary") {
    return [
      { kind: "entry", lane: "log", n: f.sent.entry - prev.sent.entry },
      { kind: "frameEnd", lane: "log", n: Math.min(1, f.sent.frameEnd - prev.sent.frameEnd) },
      { kind: "control", lane: "log", n: f.sent.control - prev.sent.control },
      { kind: "heartbeat", lane: "hbOut", n: f.sent.heartbeat - prev.sent.heartbeat },
      { kind: "output", lane: "output", n: f.released - prev.released - packetsOut },
      { kind: "packetOut", lane: "output", n: packetsOut },
      { kind: "packetIn", lane: "input", n: (f.packetsIn ?? 0) - prev.packetsIn },
      { kind: "write", lane: "write", n: f.diskWrites - prev.writes },
    ];
  }
  if (role === "backup") {
    return [
      { kind: "ack", lane: "ack", n: Math.min(2, f.sent.ack - prev.sent.ack) },
      { kind: "heartbeat", lane: "hbIn", n: f.sent.heartbeat - prev.sent.heartbeat },
    ];
  }
  return [];
}
