import type { HostStatus, ProtocolEvent } from "../../host/status.ts";

/**
 * What the metrics plots draw, derived from the hosts' own cumulative counters so that no
 * figure is negative or stale:
 * - log bandwidth is the change of the live primary's `logBytesSent` between two samples of the
 *   same host, over the last second (the page's sampling, not the host's report times). The
 *   host's counters span every logging channel it had (src/host/peer-link.ts), so they only grow;
 *   should one ever go down it restarted, and its value is what was sent since.
 * - the FT VMotion snapshot crosses the same wire: the first `bytes` sent after the primary's
 *   `clone-snapshot` event are the snapshot's, counted apart, not as log.
 * - lag is plotted only while a backup replays: a halted, stopped or dead host's last lag is
 *   frozen, not a lag (its line ends).
 */
export interface SeriesPoint {
  /** Page clock, ms. */
  t: number;
  lagMs: number | null;
  logBitsPerSec: number | null;
  /** FT VMotion snapshot bytes on the logging channel wire, bits per second (null: none moving). */
  snapshotBitsPerSec: number | null;
  remusBitsPerSec: number | null;
  unackedBytes: number | null;
  heldOutputs: number | null;
}

/** What the series needs of a host (HostView's shape). */
export interface HostLike {
  id: string;
  dead: boolean;
  status: HostStatus | null;
}

const WINDOW_MS = 1000;
export const POINTS_KEPT = 240;

interface Delta {
  at: number;
  ms: number;
  log: number;
  snapshot: number;
}

export class MetricsSeries {
  points: SeriesPoint[] = [];
  /** The host whose counter the window measures, and its last reading. */
  private counted: { host: string; at: number; sent: number } | null = null;
  private window: Delta[] = [];
  /** Snapshot bytes announced by a primary's clone-snapshot event and not yet seen on its wire. */
  private snapshotOwed = 0;

  event(e: ProtocolEvent): void {
    if (e.kind === "clone-snapshot") this.snapshotOwed += e.bytes;
    // The standby restores once it holds every byte: what is still owed did not cross this
    // wire (it went through shared storage, the tab mode's path).
    if (e.kind === "clone-restoring") this.snapshotOwed = 0;
  }

  sample(now: number, hosts: readonly HostLike[]): SeriesPoint {
    const live = hosts.filter((h) => !h.dead && h.status);
    const primary = live.find((h) => h.status!.role === "primary" && h.status!.state !== "halted" && h.status!.state !== "stopped")?.status ?? null;
    const backup = live.find((h) => h.status!.role === "backup" && (h.status!.state === "replaying" || h.status!.state === "draining"))?.status ?? null;
    const { log, snapshot } = this.bandwidth(now, primary);
    const p: SeriesPoint = {
      t: now,
      lagMs: backup ? backup.lagMs : null,
      logBitsPerSec: log,
      snapshotBitsPerSec: snapshot,
      remusBitsPerSec: primary?.remus ? primary.remus.bytesPerSec * 8 : null,
      unackedBytes: primary ? primary.unackedBytes : null,
      heldOutputs: primary ? primary.heldOutputs : null,
    };
    this.points = [...this.points.slice(-(POINTS_KEPT - 1)), p];
    return p;
  }

  private bandwidth(now: number, primary: HostStatus | null): { log: number | null; snapshot: number | null } {
    if (!primary || primary.logBytesSent === undefined) {
      this.counted = null;
      this.window = [];
      return { log: null, snapshot: null };
    }
    const sent = primary.logBytesSent;
    const prev = this.counted;
    this.counted = { host: primary.hostId, at: now, sent };
    if (!prev || prev.host !== primary.hostId) {
      // A new primary: its rate is known from its second sample on.
      this.window = [];
      return { log: null, snapshot: null };
    }
    const bytes = sent >= prev.sent ? sent - prev.sent : sent;
    const snapshot = Math.min(bytes, this.snapshotOwed);
    this.snapshotOwed -= snapshot;
    this.window = [...this.window.filter((d) => now - d.at < WINDOW_MS), { at: now, ms: now - prev.at, log: bytes - snapshot, snapshot }];
    const ms = this.window.reduce((a, d) => a + d.ms, 0);
    if (ms <= 0) return { log: null, snapshot: null };
    const rate = (k: "log" | "snapshot") => (this.window.reduce((a, d) => a + d[k], 0) * 8 * 1000) / ms;
    const snap = rate("snapshot");
    return { log: rate("log"), snapshot: snap > 0 ? snap : null };
  }
}
