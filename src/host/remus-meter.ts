import { DirtyPageTracker, PAGE_BYTES } from "../engine/dirty-pages.ts";

/**
 * The Remus meter (lockstep vs shipping state, paper §1 and §6): while it is on, the primary
 * starts a checkpoint epoch every `epochMs` of real time (or as soon as the last sweep is done),
 * at frame boundaries, and counts what a Remus-style system would ship to its backup for that
 * epoch: every 4 KiB page of guest RAM that changed, plus the CPU state. Counted, not sent: pushing those megabytes through the logging
 * channel would only slow down the log it is compared with. Device state (and v86's separate
 * VGA memory) is not counted, so the Remus figure is a lower bound.
 */
export interface RemusReport {
  epochMs: number;
  /** Epochs closed since the meter started (sweeps that compared every page; the baseline is not one). */
  epochs: number;
  /** Dirty pages in the last epoch, and the pages compared. */
  lastDirtyPages: number;
  pages: number;
  /** Bytes Remus would have shipped over the last second, and since the meter started. */
  bytesPerSec: number;
  totalBytes: number;
  /** Logging-channel bytes this host sent since the meter started (the same window). */
  logBytes: number;
  /** Real ms since the meter started, and ms spent finding dirty pages (the meter's own cost). */
  elapsedMs: number;
  scanMs: number;
}

/** Pages compared between two looks at the clock (1 MiB): small enough to keep to a budget. */
const CHUNK_PAGES = 256;

export class RemusMeter {
  private readonly tracker = new DirtyPageTracker(PAGE_BYTES);
  private readonly startedAt: number;
  private readonly logBytesAtStart: number;
  /** When the sweep in progress (or the last one) started; an epoch is due epochMs after it. */
  private epochStartedAt: number;
  /** Next page of the sweep in progress, or -1 between sweeps. */
  private cursor = -1;
  private sweepDirty = 0;
  private epochs = 0;
  private lastDirty = 0;
  private pages = 0;
  private total = 0;
  private scanMs = 0;
  private window: { at: number; bytes: number }[] = [];

  constructor(
    readonly epochMs: number,
    private readonly cpuStateBytes: number,
    private readonly now: () => number,
    logBytesNow: number,
  ) {
    this.startedAt = this.epochStartedAt = now();
    this.logBytesAtStart = logBytesNow;
  }

  /**
   * Work at a frame boundary (RAM is stable): take the baseline, start an epoch's sweep when one
   * is due, or go on with the sweep in progress for at most `budgetMs`, so a host never stalls
   * for a whole compare of RAM. An epoch closes when its sweep has compared every page: under
   * load epochs stretch, and fewer changes are counted (the figure stays a lower bound).
   */
  step(ram: Uint8Array, budgetMs = Infinity): void {
    const t0 = this.now();
    if (!this.tracker.hasBaseline(ram)) {
      // The baseline is Remus's initial full copy; like FT's clone it is not counted on either side.
      this.tracker.baseline(ram);
      this.pages = this.tracker.pagesOf(ram);
      this.cursor = -1;
      this.epochStartedAt = this.now();
      this.scanMs += this.epochStartedAt - t0;
      return;
    }
    if (this.cursor < 0) {
      if (t0 - this.epochStartedAt < this.epochMs) return;
      this.cursor = 0;
      this.sweepDirty = 0;
      this.epochStartedAt = t0;
    }
    let t = t0;
    while (this.cursor < this.pages && t - t0 < budgetMs) {
      const to = Math.min(this.pages, this.cursor + CHUNK_PAGES);
      this.sweepDirty += this.tracker.compare(ram, this.cursor, to);
      this.cursor = to;
      t = this.now();
    }
    this.scanMs += t - t0;
    if (this.cursor < this.pages) return;
    this.cursor = -1;
    const bytes = this.sweepDirty * PAGE_BYTES + this.cpuStateBytes;
    this.epochs++;
    this.lastDirty = this.sweepDirty;
    this.total += bytes;
    this.window.push({ at: t, bytes });
  }

  report(logBytesNow: number): RemusReport {
    const now = this.now();
    while (this.window.length > 0 && now - this.window[0]!.at > 1000) this.window.shift();
    return {
      epochMs: this.epochMs,
      epochs: this.epochs,
      lastDirtyPages: this.lastDirty,
      pages: this.pages,
      bytesPerSec: this.window.reduce((a, w) => a + w.bytes, 0),
      totalBytes: this.total,
      logBytes: logBytesNow - this.logBytesAtStart,
      elapsedMs: now - this.startedAt,
      scanMs: this.scanMs,
    };
  }
}
