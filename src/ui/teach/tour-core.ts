import { holdFor, type Ctx, type RunStatus, type Scenario, type TranscriptEntry, type Verdict } from "./tour.ts";

/** The runner's observable state (the Svelte shell keeps it in runes; tests in a plain object). */
export interface TourState {
  scenario: Scenario | null;
  /** The step the tour is at: acting, waiting for its event, or holding its caption. */
  step: number;
  /** The caption on screen: the current step's, or an earlier one being reviewed. */
  viewing: number;
  status: RunStatus;
  verdict: Verdict | null;
  error: string | null;
  /** The current step's live numbers (Step.note), "" when it has none. */
  note: string;
  /** Multiplies every caption's reading time (slow 1.5, normal 1, fast 0.6; tests 0.2). */
  pace: number;
  /** Every caption shown in this run, in order. */
  transcript: TranscriptEntry[];
  /** The world is frozen: the tour is paused, or a timing-critical caption is being read. */
  frozen: boolean;
}

export interface TourWorld {
  /** A fresh context for one run. */
  ctx(): Ctx;
  now(): number;
  sleep(ms: number): Promise<void>;
  /**
   * Freezes (true) or thaws (false) the whole world: both VMs, their failure detectors and
   * the cluster's timers. null when the page has no such switch: pausing then stops only the
   * tour, and timing-critical captions get no reading time.
   */
  freezeWorld: ((on: boolean) => void | Promise<void>) | null;
}

export const POLL_MS = 100;

export const initialTourState = (pace: number): TourState => ({
  scenario: null,
  step: 0,
  viewing: 0,
  status: "idle",
  verdict: null,
  error: null,
  note: "",
  pace,
  transcript: [],
  frozen: false,
});

/**
 * Runs a scenario as a self-running captioned tour: each step acts, then waits for the event
 * its caption describes (a predicate over the cluster) and for the caption's reading time.
 * The lecturer can pause, go back to earlier captions, skip ahead, and change the pace.
 */
export class TourCore {
  private runId = 0;
  private skip = false;
  /** Skip reading times until this step (the step list's "skip ahead"); the events still count. */
  private fastForwardTo: number | null = null;
  /** The pause was caused by reviewing an earlier caption: returning to the current one resumes. */
  private reviewPause = false;
  /** A timing-critical caption holds the world while it is read. */
  private slowMotion = false;
  private listeners: (() => void)[] = [];

  constructor(
    readonly state: TourState,
    private readonly world: TourWorld,
  ) {}

  get freezes(): boolean {
    return this.world.freezeWorld !== null;
  }

  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  start(s: Scenario): void {
    const id = ++this.runId;
    const st = this.state;
    st.scenario = s;
    st.step = 0;
    st.viewing = 0;
    st.note = "";
    st.verdict = null;
    st.error = null;
    st.transcript = [];
    st.status = "running";
    this.reset();
    this.changed();
    void this.loop(s, id);
  }

  pause(): void {
    if (this.state.status !== "running") return;
    this.state.status = "paused";
    this.syncFreeze();
    this.changed();
  }

  resume(): void {
    if (this.state.status !== "paused") return;
    this.state.status = "running";
    this.reviewPause = false;
    this.state.viewing = this.state.step;
    this.syncFreeze();
    this.changed();
  }

  toggle(): void {
    if (this.state.status === "running") this.pause();
    else if (this.state.status === "paused") this.resume();
  }

  /** Forward: the next reviewed caption, or (at the current one) skip the rest of its reading time. */
  next(): void {
    const st = this.state;
    if (st.viewing < st.step) {
      st.viewing++;
      if (st.viewing === st.step && this.reviewPause) this.resume();
      this.changed();
      return;
    }
    if (st.status === "paused") this.resume();
    if (st.status === "running") this.skip = true;
  }

  /** Back: show the previous caption again; a running tour waits (paused) until Next returns to it. */
  prev(): void {
    const st = this.state;
    if (!st.scenario || st.viewing === 0) return;
    st.viewing--;
    if (st.status === "running") {
      this.pause();
      this.reviewPause = true;
    }
    this.changed();
  }

  /**
   * The step list: an earlier (or, after the run, any) step shows its caption again; a later
   * step is reached by running the steps between without their reading time (each still waits
   * for its event: later steps need what earlier ones did).
   */
  jumpTo(k: number): void {
    const st = this.state;
    if (!st.scenario || k < 0 || k >= st.scenario.steps.length) return;
    if (st.status === "done" || st.status === "failed") {
      if (k <= st.step) st.viewing = k;
      this.changed();
      return;
    }
    if (k < st.step) {
      st.viewing = k;
      if (st.status === "running") {
        this.pause();
        this.reviewPause = true;
      }
    } else {
      st.viewing = st.step;
      if (k > st.step) this.fastForwardTo = k;
      if (st.status === "paused") this.resume();
    }
    this.changed();
  }

  setPace(pace: number): void {
    if (pace > 0 && Number.isFinite(pace)) this.state.pace = pace;
    this.changed();
  }

  stop(): void {
    this.runId++;
    this.state.status = "idle";
    this.state.scenario = null;
    this.reset();
    this.changed();
  }

  private reset(): void {
    this.skip = false;
    this.fastForwardTo = null;
    this.reviewPause = false;
    this.slowMotion = false;
    this.syncFreeze();
  }

  /** The world is frozen exactly while the tour is paused or a critical caption is being read. */
  private syncFreeze(): void {
    const want = this.freezes && (this.state.status === "paused" || this.slowMotion);
    if (want === this.state.frozen) return;
    this.state.frozen = want;
    void this.world.freezeWorld?.(want);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  private async loop(s: Scenario, id: number): Promise<void> {
    const ctx = this.world.ctx();
    const alive = () => this.runId === id;
    const st = this.state;
    const began = this.world.now();
    for (let i = 0; i < s.steps.length; i++) {
      if (!alive()) return;
      const step = s.steps[i]!;
      // A paused tour does not start its next step.
      while (st.status === "paused" && alive()) await this.world.sleep(POLL_MS);
      if (!alive()) return;
      st.step = i;
      st.viewing = i;
      st.note = "";
      this.skip = false;
      st.transcript = [...st.transcript, { step: i, caption: step.caption, note: "", at: this.world.now() - began }];
      this.changed();
      try {
        step.run?.(ctx);
      } catch (e) {
        return this.fail(`step ${i + 1}: ${(e as Error).message}`);
      }
      const timeout = step.timeoutMs ?? 30_000;
      // Reading time and timeout count while the tour runs, not while it is paused.
      let ran = 0;
      let last = this.world.now();
      let met = !step.until;
      /** Run time when the event happened: a critical caption is read from then on (slow motion). */
      let metAt = met ? 0 : Infinity;
      for (;;) {
        if (!alive()) return;
        const t = this.world.now();
        if (st.status !== "paused") ran += t - last;
        last = t;
        try {
          if (!met && step.until!(ctx)) {
            met = true;
            metAt = ran;
          }
          if (step.note) st.note = step.note(ctx);
        } catch (e) {
          return this.fail(`step ${i + 1}: ${(e as Error).message}`);
        }
        const hold = step.critical && !this.freezes ? 0 : holdFor(step, st.pace);
        // A critical caption describes its event: its whole reading time comes after it, even
        // when the event took longer than that to happen.
        const read = step.critical ? ran - metAt : ran;
        const held = this.skip || (this.fastForwardTo !== null && this.fastForwardTo > i) || read >= hold;
        if (met && held && st.status !== "paused") break;
        if (met && !held && step.critical && !this.slowMotion) {
          // Slow motion: the event has happened; the world waits while its caption is read.
          this.slowMotion = true;
          this.syncFreeze();
          this.changed();
        }
        if (!met && ran > timeout) return this.fail(`step ${i + 1} timed out: ${step.caption}`);
        await this.world.sleep(POLL_MS);
      }
      if (this.slowMotion) {
        this.slowMotion = false;
        this.syncFreeze();
      }
      if (this.fastForwardTo !== null && this.fastForwardTo <= i + 1) this.fastForwardTo = null;
      try {
        if (step.note) st.note = step.note(ctx);
        if (step.verdict) st.verdict = step.verdict(ctx);
      } catch (e) {
        return this.fail(`step ${i + 1}: ${(e as Error).message}`);
      }
      st.transcript = st.transcript.map((e, j) => (j === st.transcript.length - 1 ? { ...e, note: st.note } : e));
      this.changed();
    }
    if (!alive()) return;
    st.status = "done";
    this.reset();
    this.changed();
  }

  private fail(msg: string): void {
    this.state.error = msg;
    this.state.status = "failed";
    this.reset();
    this.changed();
  }
}
