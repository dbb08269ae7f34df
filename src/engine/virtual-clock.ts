// The engine's virtual clock and its pacing against real time.
//
// Virtual time: t = anchorUs/1000 + (icount − anchorIcount) / ipms. Anchors move only at frame
// boundaries: to the predicted start of the next frame (a halted guest's next timer), or to a
// start the recorder chose and logged (a resync to real time, an early wake on input).
// Pacing (record mode): real time maps onto virtual time as
// virtual = virtualBase + (real − realBase) × pace; the recorder waits while it leads and logs a
// resync when it lags. None of the pacing changes what a replayer computes (docs/engine-notes.md, "Pacing").

import type { TimeSource } from "./clock.ts";

/** Record-mode pacing: a factor of real time, or "max" (no waiting). */
export type Pace = number | "max";

/** How the previous frame ended: drives the next frame's predicted start. */
export interface FrameEnd {
  halted: boolean;
  /** ms to the guest's next timer, as v86's main loop reported it. */
  t: number;
  /** Virtual ms at the frame end. */
  endMs: number;
}

/** The clock's part of a snapshot. */
export interface ClockState {
  anchorUs: number;
  anchorIcount: number;
  pred: FrameEnd;
}

/** Where the instruction count comes from (the frame runner: live inside a frame). */
export interface InstructionCounter {
  readonly icount: number;
}

export interface ClockOptions {
  ipms: number;
  epochMs: number;
  realNow: () => number;
  /** Resync when virtual time lags real time by more than this (ms). */
  maxLagMs: number;
  /** Sleep when virtual time leads real time by more than this (ms). */
  maxLeadMs: number;
  /** Predict a halted frame's successor from the µs anchor, not the ms frame end (session.haltClock). */
  exactHaltEnd?: boolean;
}

export class VirtualClock {
  private anchorUs = 0;
  private anchorIcount = 0;
  private pred: FrameEnd = { halted: false, t: 0, endMs: 0 };
  private realBase = 0;
  private virtualBase = 0;
  private pace: Pace = 1;
  private readonly ipms: number;
  /** What v86 reads (performance.now, Date.now) inside an engine call. */
  readonly time: TimeSource;

  constructor(
    private readonly o: ClockOptions,
    private readonly counter: InstructionCounter,
  ) {
    this.ipms = o.ipms;
    this.time = { now: () => this.nowMs(), wallNow: () => o.epochMs + this.nowMs() };
  }

  /** Virtual ms: anchor + (icount - anchorIcount) / ipms. */
  nowMs(): number {
    return this.anchorUs / 1000 + (this.counter.icount - this.anchorIcount) / this.ipms;
  }

  /** At a frame boundary: the next frame starts at `us`. */
  private setAnchor(us: number): void {
    this.anchorUs = us;
    this.anchorIcount = this.counter.icount;
  }

  /**
   * Start time of the next frame if nothing intervenes: a µs anchor when the guest halted (its
   * next timer, and at least 1 µs later: v86's timers report 0 ms left while the deadline is
   * still a fraction of a tick away, and a halted guest must not spin at a frozen time), null
   * when it did not halt (the clock just continues).
   */
  private predictedAnchorUs(): number | null {
    if (!this.pred.halted) return null;
    // Called at a boundary: the anchor is still the ended frame's and the counter is at its end.
    // (anchorUs / 1000 + n / ipms) * 1000 can come out below anchorUs for n = 0, and then
    // floor() + 1 is anchorUs again: a zero-length halted frame would repeat at a frozen time.
    const endUs = this.o.exactHaltEnd ? this.anchorUs + ((this.counter.icount - this.anchorIcount) * 1000) / this.ipms : this.pred.endMs * 1000;
    return Math.max(Math.ceil(endUs + Math.max(0, this.pred.t) * 1000), Math.floor(endUs) + 1);
  }

  /** Real time mapped onto the virtual time line (what the virtual clock should read). */
  private realVirtualNow(): number {
    if (this.pace === "max") return this.nowMs();
    return this.virtualBase + (this.o.realNow() - this.realBase) * this.pace;
  }

  /**
   * Recorder, at a frame boundary: anchors the frame's start and returns it in µs when it must
   * be logged (it is not the predicted one), else null. A halted guest with inputs waiting wakes
   * now instead of at its timer; a clock lagging real time by more than maxLagMs catches up.
   */
  startRecordedFrame(inputsWaiting: boolean): number | null {
    const predicted = this.predictedAnchorUs();
    const pMs = predicted !== null ? predicted / 1000 : this.nowMs();
    const r = this.realVirtualNow();
    let chosen: number | null = null;
    if (this.pred.halted && inputsWaiting && r < pMs) {
      chosen = Math.max(Math.ceil(r * 1000), Math.ceil(this.pred.endMs * 1000));
    } else if (r - pMs > this.o.maxLagMs) {
      chosen = Math.ceil(r * 1000);
    }
    if (chosen !== null && chosen !== predicted) {
      this.setAnchor(chosen);
      return chosen;
    }
    if (predicted !== null) this.setAnchor(predicted);
    return null;
  }

  /** Replayer, at a frame boundary: the logged start (a `clock` entry) or else the predicted one. */
  startReplayedFrame(loggedUs: number | null): void {
    if (loggedUs !== null) {
      this.setAnchor(loggedUs);
      return;
    }
    const p = this.predictedAnchorUs();
    if (p !== null) this.setAnchor(p);
  }

  /** After a frame: how it ended (read at the boundary, instruction count already final). */
  frameEnded(halted: boolean, t: number): void {
    this.pred = { halted, t, endMs: this.nowMs() };
  }

  get halted(): boolean {
    return this.pred.halted;
  }

  /** Virtual ms at the end of the last frame. */
  get lastFrameEndMs(): number {
    return this.pred.endMs;
  }

  /**
   * Record mode: real ms to wait before the next frame should run (0 = now). While the guest
   * is halted this is the time to its next timer; inputs arriving earlier wake it.
   */
  delayUntilNextFrame(inputsWaiting: boolean): number {
    if (inputsWaiting || this.pace === "max") return 0;
    const r = this.realVirtualNow();
    const p = this.pred.halted ? this.predictedAnchorUs()! / 1000 : this.nowMs();
    const lead = p - r;
    if (this.pred.halted) return lead > 0 ? lead : 0;
    return lead > this.o.maxLeadMs ? lead : 0;
  }

  /** Real time from now on maps onto virtual time from where it stands now. */
  rebase(): void {
    this.realBase = this.o.realNow();
    this.virtualBase = this.nowMs();
  }

  setPace(pace: Pace): void {
    if (pace !== "max" && !(pace > 0)) throw new RangeError(`setPace: ${String(pace)}`);
    this.rebase();
    this.pace = pace;
  }

  get currentPace(): Pace {
    return this.pace;
  }

  state(): ClockState {
    return { anchorUs: this.anchorUs, anchorIcount: this.anchorIcount, pred: { ...this.pred } };
  }

  restore(s: ClockState): void {
    this.anchorUs = s.anchorUs;
    this.anchorIcount = s.anchorIcount;
    this.pred = { ...s.pred };
  }
}

/** Waiting for the next frame: a timer that inputs (serial, disk completions, a clone) cut short. */
export class Wakeup {
  private wakers: (() => void)[] = [];

  /** Resolves after `ms` real ms or at the next wake(); at once if `ready` or ms <= 0. */
  wait(ms: number, ready: boolean): Promise<void> {
    if (ready || ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(finish, Math.max(1, ms));
      this.wakers.push(finish);
    });
  }

  wake(): void {
    const w = this.wakers;
    this.wakers = [];
    for (const f of w) f();
  }
}
