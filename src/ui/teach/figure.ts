import type { FlowCounters, HostStatus } from "../../host/status.ts";
import type { TcpStats } from "../../net/tcp-types.ts";

/** What the live Figure 1 draws (Figure.svelte): the kinds of tokens, the geometry, the lanes. */

export type Kind = "entry" | "frameEnd" | "control" | "ack" | "heartbeat" | "output" | "packetOut" | "write" | "input" | "packetIn" | "tcp";

export interface Token {
  id: number;
  kind: Kind;
  lane: Lane;
  born: number;
  dur: number;
}

export const KINDS: Record<Kind, { label: string; color: string; help: string; ref: string }> = {
  entry: { label: "log entry", color: "#2f6fed", help: "Non-deterministic inputs and events of a batch of frames (client input, disk data, timer/interrupt points), sent primary → backup.", ref: "replay" },
  frameEnd: { label: "frame end", color: "#8e44ad", help: "Marks that the log of a frame is complete: an output of that frame may go out once the backup acknowledges it.", ref: "output-rule" },
  control: { label: "control", color: "#e67e22", help: "Control operations such as power-off travel in the log, so the backup does not mistake them for a failure.", ref: "channel" },
  ack: { label: "ack", color: "#2e9d57", help: "The backup acknowledges a prefix of the log it has received; acks release held outputs and drive flow control.", ref: "output-rule" },
  heartbeat: { label: "heartbeat", color: "#8a93a6", help: "Sent when there is nothing else to say; silence longer than the timeout means the peer failed.", ref: "failure" },
  output: { label: "output", color: "#d4a017", help: "A console message released to the client (the outside world) after the Output Rule allowed it.", ref: "output-rule" },
  packetOut: { label: "packet out", color: "#c0392b", help: "A network packet the guest transmitted: an output like any other, held until the backup acknowledged the log up to it. After a failover the new primary may send one again; the client's TCP discards the duplicate.", ref: "output-rule" },
  packetIn: { label: "packet in", color: "#0b7285", help: "A network packet for the VM: only the live primary takes it, logged with its bytes so the backup's NIC gets it at the same instruction. One lost in a failover is retransmitted by TCP.", ref: "replay" },
  tcp: { label: "TCP resends", color: "#6c5ce7", help: "The client's TCP (no token: counted at the client). ↻ segments the VM sent again: after a failover, the new primary resends from the oldest byte it has no ACK for. ✗ of those, duplicates of data the client had: discarded. The rest filled the gap the dead primary's held packets left.", ref: "network" },
  write: { label: "disk write", color: "#8a6d3b", help: "A disk write carries the writer's lock epoch: the shared storage refuses writes from an older epoch (fencing).", ref: "disk" },
  input: { label: "client input", color: "#16a2b8", help: "Input from the client goes to the live primary, which logs it so the backup replays it at the same instruction.", ref: "replay" },
};

// Figure geometry (viewBox 0 0 800 300).
// Text is 14 units or more: at 1280×720 the figure is ~730 px wide, so 14 units ≥ 12 px.
export const P = { x: 230, y: 40, w: 160, h: 130 };
export const B = { x: 590, y: 40, w: 160, h: 130 };
export const C = { x: 6, y: 60, w: 140, h: 108 };
export const D = { x: 230, y: 214, w: 520, h: 80 };
export const LANES = {
  log: { x1: P.x + P.w, y1: 78, x2: B.x, y2: 78 },
  hbOut: { x1: P.x + P.w, y1: 100, x2: B.x, y2: 100 },
  ack: { x1: B.x, y1: 122, x2: P.x + P.w, y2: 122 },
  hbIn: { x1: B.x, y1: 140, x2: P.x + P.w, y2: 140 },
  output: { x1: P.x, y1: 85, x2: C.x + C.w, y2: 85 },
  input: { x1: C.x + C.w, y1: 118, x2: P.x, y2: 118 },
  write: { x1: P.x + 75, y1: P.y + P.h, x2: P.x + 75, y2: D.y },
  /** A halted host drawn in the backup's slot writes from there (a zombie write). */
  writeB: { x1: B.x + 80, y1: B.y + B.h, x2: B.x + 80, y2: D.y },
} as const;
export type Lane = keyof typeof LANES;

/** A zombie write a halted host tried (the teaching control), and what the storage said. */
export interface Zombie {
  host: string;
  epoch: number;
  fenced: boolean;
}

/** The lanes of the logging channel: nothing travels them while it is cut. */
export const CHANNEL_LANES: readonly Lane[] = ["log", "hbOut", "ack", "hbIn"];

/**
 * How long a held output stays drawn after its release (ms). Outputs are held for the ack's
 * round trip, a few ms to a few hundred: without this the Figure shows a blip nobody sees.
 */
export const HELD_AFTERGLOW_MS = 1500;

export const fmtBytes = (n: number) => (n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(2)} MiB`);

/** The client TCP's counters of the latest download (the one a failover happens under), drawn at the client. */
export interface TcpCounts {
  /** Downloads the client made (0: nothing drawn). */
  downloads: number;
  /** Segments the VM sent again (TcpStats.retransmitsIn) and, of those, duplicates discarded. */
  resent: number;
  duplicates: number;
  /** The client's own retransmissions (its requests and ACKs: timeouts and fast retransmits). */
  clientRetransmits: number;
}

export function tcpCounts(downloads: readonly { tcp: TcpStats }[]): TcpCounts {
  const t = downloads.at(-1)?.tcp;
  return { downloads: downloads.length, resent: t?.retransmitsIn ?? 0, duplicates: t?.duplicates ?? 0, clientRetransmits: (t?.timeouts ?? 0) + (t?.fastRetransmits ?? 0) };
}

export const sameTcpCounts = (a: TcpCounts, b: TcpCounts): boolean =>
  a.downloads === b.downloads && a.resent === b.resent && a.duplicates === b.duplicates && a.clientRetransmits === b.clientRetransmits;

/** The legend's live numbers for one kind. */
export function kindCounts(k: Kind, p: FlowCounters | undefined, b: FlowCounters | undefined, held: number, rejected: number, clientBytes: number, tcp?: TcpCounts): string {
  switch (k) {
    case "entry":
      return `sent ${p?.sent.entry ?? 0} (${fmtBytes(p?.sent.entryBytes ?? 0)}) · received ${b?.received.entry ?? 0}`;
    case "frameEnd":
      return `sent ${p?.sent.frameEnd ?? 0} · received ${b?.received.frameEnd ?? 0}`;
    case "control":
      return `sent ${p?.sent.control ?? 0}`;
    case "ack":
      return `sent ${b?.sent.ack ?? 0} · received ${p?.received.ack ?? 0}`;
    case "heartbeat":
      return `primary sent ${p?.sent.heartbeat ?? 0} · backup sent ${b?.sent.heartbeat ?? 0}`;
    case "output":
      return `released ${(p?.released ?? 0) - (p?.packetsOut ?? 0)} · held now ${held} (all outputs)`;
    case "packetOut":
      return `transmitted ${p?.packetsOut ?? 0}`;
    case "packetIn":
      return `into the VM ${p?.packetsIn ?? 0}`;
    case "write":
      return `issued ${p?.diskWrites ?? 0} · refused (fenced) ${rejected}`;
    case "input":
      return `client stream ${clientBytes} bytes`;
    case "tcp":
      return tcp?.downloads
        ? `latest download: sent again by the VM ${tcp.resent} · duplicates discarded ${tcp.duplicates} · gap filled ${tcp.resent - tcp.duplicates} · the client's own retransmissions ${tcp.clientRetransmits}`
        : "no download yet (client panel: Network)";
  }
}

/**
 * The primary's last line: its unacknowledged log bytes, or, while flow control (paper 3.2) has
 * stopped it, which buffer did (the log the backup has not acknowledged, or the held outputs).
 */
export function flowLine(s: Pick<HostStatus, "unackedBytes" | "flowControl">): string {
  if (s.flowControl?.pausedBy === "log") return "⏸ log buffer full";
  if (s.flowControl?.pausedBy === "held") return "⏸ held outputs full";
  return `unacked ${fmtBytes(s.unackedBytes)}`;
}

/** A host's role and state under its name ("failed" once its worker is gone). */
export function hostLabel(h: { dead: boolean; status: HostStatus | null } | null): string {
  if (!h) return "—";
  if (h.dead) return "failed";
  return h.status ? `${h.status.role} · ${h.status.state}` : "starting…";
}
