import type { HostScheduler, Timer } from "./scheduler.ts";

/** What a host does while its thread is away from the event loop (the stall meter attributes stalls to it). */
export type StallSource = "record" | "replay" | "step" | "engine-start" | "recorder-start" | "clone-prewarm" | "channel-message" | "status" | "clone-snapshot" | "clone-restore" | "clone-follow";

/** What the probe saw since the host started (cumulative: a reader diffs two reports). */
export interface LoopGaps {
  /** Probe turns so far. */
  turns: number;
  /** Turns that came at least `tailMs` late: how late each was (ms, rounded), in order (the last `tailCap`). */
  late: number[];
  /**
   * What kept the thread away, for each entry of `late`: the longest section the host reported
   * since the turn before (`ran`) if it lasted at least half the lateness, else what it was doing
   * at any time since the turn before (`doing`: a synchronous piece inside an async step, a
   * restore, including the tail after its last await), else "other" (GC, status, messages).
   */
  lateBy: string[];
  /** Turns that came late but fell off the front of `late` (a long run). */
  lateDropped: number;
  /** The latest a turn has come (ms). */
  maxMs: number;
  /** The probe's period and the threshold of `late`. */
  periodMs: number;
  tailMs: number;
}

/**
 * The stall meter (issue 15): how long this host's thread stays away from its event loop. A timer
 * due every `periodMs` notes how late each turn comes; a turn `d` ms late means nothing on this
 * thread — no heartbeat, ack or log message — could run for about `d` ms (a long frame, a
 * snapshot restore, a JIT compile, GC). Only lateness of `tailMs` or more is kept one by one; the
 * rest counts as on time, so percentiles over all turns stay exact above `tailMs`.
 *
 * It uses the host's real scheduler, not the freezable one: the lecture's pause stops the host's
 * time, not the thread. The simulator does not run it (timing.loopProbeMs 0).
 */
export class LoopProbe {
  private timer: Timer | null = null;
  private last = 0;
  private turns = 0;
  private late: number[] = [];
  private lateBy: string[] = [];
  private lateDropped = 0;
  private maxMs = 0;
  private section: { what: string; ms: number } | null = null;
  private activity: string | null = null;
  /** The activity current at any time since the last turn: the synchronous tail of an async step ends it before the turn comes. */
  private activitySince: string | null = null;

  constructor(
    private readonly scheduler: HostScheduler,
    private readonly periodMs: number,
    private readonly tailMs = 5,
    private readonly tailCap = 2_000,
  ) {}

  start(): void {
    if (this.timer || this.periodMs <= 0) return;
    this.last = this.scheduler.now();
    this.timer = this.scheduler.every(this.periodMs, () => {
      const now = this.scheduler.now();
      const late = now - this.last - this.periodMs;
      // A short slice that ended just before a long synchronous step (a snapshot) did not cause it.
      const section = this.section && this.section.ms * 2 >= late ? this.section.what : null;
      this.note(late, section ?? this.activitySince ?? "other");
      this.section = null;
      this.activitySince = this.activity;
      this.last = now;
    });
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  /** One turn `lateMs` after it was due, the thread kept away by `by`. */
  note(lateMs: number, by = "other"): void {
    this.turns++;
    if (lateMs > this.maxMs) this.maxMs = lateMs;
    if (lateMs < this.tailMs) return;
    this.late.push(Math.round(lateMs));
    this.lateBy.push(by);
    if (this.late.length > this.tailCap) {
      this.late.shift();
      this.lateBy.shift();
      this.lateDropped++;
    }
  }

  /** The host ran `what` for `ms` without looking at its event loop (a slice of frames, a restore). */
  ran(what: string, ms: number): void {
    if (!this.section || ms > this.section.ms) this.section = { what, ms };
  }

  /** The host is in the middle of `what` (null: done), which may block the thread in pieces between awaits. */
  doing(what: string | null): void {
    this.activity = what;
    if (what !== null) this.activitySince = what;
  }

  get running(): boolean {
    return this.timer !== null;
  }

  report(): LoopGaps {
    return { turns: this.turns, late: this.late.slice(), lateBy: this.lateBy.slice(), lateDropped: this.lateDropped, maxMs: Math.round(this.maxMs), periodMs: this.periodMs, tailMs: this.tailMs };
  }
}

/**
 * Percentile `p` (0-100) of lateness over `turns` probe turns of which `late` are the ones at or
 * above the tail threshold: the turns below it count as 0 (on time, for this purpose).
 */
export function latePercentile(turns: number, late: readonly number[], p: number): number {
  if (turns <= 0) return 0;
  const rank = Math.ceil((p / 100) * turns); // 1-based rank of the percentile turn
  const onTime = turns - late.length;
  if (rank <= onTime) return 0;
  const sorted = [...late].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, rank - onTime - 1)]!;
}
