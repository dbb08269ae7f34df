import { DirtyPageTracker, PAGE_BYTES } from "../engine/dirty-pages.ts";

/**
 * The Remus meter (lockstep vs shipping state, paper §1 and §6): while it is on, the primary
 * closes a checkpoint epoch every `epochMs` of real time, at a frame boundary, and counts what a
 * Remus-style system would ship to its backup for that epoch: every 4 KiB page of guest RAM that
 * changed, plus the CPU state. Counted, not sent: pushing those megabytes through the logging
 * channel would only slow down the log it is compared with. Device state (and v86's separate
 * VGA memory) is not counted, so the Remus figure is a lower bound.
 */
export interface RemusReport {
  epochMs: number;
  /** Epochs closed since the meter started (the first one only takes the baseline). */
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

export class RemusMeter {
  private readonly tracker = new DirtyPageTracker(PAGE_BYTES);
  private readonly startedAt: number;
  private readonly logBytesAtStart: number;
  private lastEpochAt: number;
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
    this.startedAt = this.lastEpochAt = now();
    this.logBytesAtStart = logBytesNow;
  }

  /** An epoch is due (call at a frame boundary). */
  due(): boolean {
    return this.now() - this.lastEpochAt >= this.epochMs;
  }

  /** Closes an epoch on this RAM (call only at a frame boundary). */
  epoch(ram: Uint8Array): void {
    const t0 = this.now();
    const r = this.tracker.epoch(ram);
    const t1 = this.now();
    this.scanMs += t1 - t0;
    this.lastEpochAt = t1;
    this.epochs++;
    if (!r) return; // baseline: Remus's initial full copy corresponds to FT's clone, not counted on either side
    const bytes = r.dirtyPages * PAGE_BYTES + this.cpuStateBytes;
    this.lastDirty = r.dirtyPages;
    this.pages = r.pages;
    this.total += bytes;
    this.window.push({ at: t1, bytes });
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
