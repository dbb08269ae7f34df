import type { HostEngine, Pace } from "./engine-port.ts";
import type { HostContext } from "./host-context.ts";
import type { Timer } from "./scheduler.ts";

/** What the loop runs; the parts that know how (host.ts wires them). */
export interface LoopWork {
  /** The agent lets this host run its VM live (recording or alone). */
  live(): boolean;
  recordFrame(engine: HostEngine): void;
  batchDue(): boolean;
  flush(engine: HostEngine): void;
  remusEpoch(): void;
  cloneDue(engine: HostEngine): boolean;
  takeClone(engine: HostEngine): Promise<void>;
  replaySlice(engine: HostEngine): void;
}

/**
 * The frame loop: runs the VM in slices of a few ms (record or replay) and lets the event loop in
 * between, so the logging channel, timers and storage replies are served while the guest runs.
 * It also holds what stops or slows the VM without stopping the host: flow control and lag
 * control from the protocol, and the teaching controls (pause, step one frame, pace).
 */
export class FrameLoop {
  /** Flow control (paper 3.2): the primary stops until the backup has caught up. */
  private flowPaused = false;
  private poweredOff = false;
  /** Lag control (paper 3.2): fraction of full speed. */
  private speed = 1;
  /**
   * Teaching controls: they stop or slow the VM, never the host. Heartbeats, acks and the
   * logging channel keep running, so the failure detector sees a live host with a stopped
   * guest, and the guest's virtual clock does not see the pause.
   */
  private vmPaused = false;
  private stepsPending = 0;
  private pace: Pace = 1;
  /**
   * Teaching control (the §3.2 tour): a slow backup host. Its replay gets this fraction of the
   * CPU it could use: after each replay slice the loop rests (1 - f) / f of the slice's time.
   */
  private replaySpeed = 1;
  private timer: Timer | null = null;
  /** Waiting (idle, or for the guest's next timer): wake() ends the wait early. */
  private waiting = false;

  constructor(
    private readonly ctx: HostContext,
    private readonly work: LoopWork,
  ) {}

  get vmState(): { paused: boolean; pace: Pace; replaySpeed: number } {
    return { paused: this.vmPaused, pace: this.pace, replaySpeed: this.replaySpeed };
  }

  start(): void {
    this.next();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
    this.waiting = false;
  }

  /** Something changed (input, log to replay, a state): a waiting loop looks again at once. */
  wake(): void {
    if (!this.waiting) return;
    this.timer?.cancel();
    this.waiting = false;
    this.timer = this.ctx.scheduler.yield(this.turn);
  }

  // ---- protocol controls

  pauseForFlow(): void {
    this.flowPaused = true;
  }

  /** Paper 3.3: the VM was powered off; the protocol still runs until the backup is stopped too. */
  powerOff(): void {
    this.poweredOff = true;
  }

  resumeAfterFlow(): void {
    this.flowPaused = false;
    this.wake();
  }

  setSpeed(factor: number): void {
    this.speed = factor;
  }

  // ---- teaching controls

  /** Stop the VM between frames (true) or let it run again (false). */
  setVmPaused(paused: boolean): void {
    if (paused === this.vmPaused) return;
    this.vmPaused = paused;
    const engine = this.ctx.engine;
    if (!paused) {
      this.stepsPending = 0;
      // The guest must not see the pause: its clock continues from where it stopped.
      if (engine?.mode === "record") engine.rebaseClock();
      this.wake();
    } else if (engine?.mode === "record" && !this.ctx.stopped) {
      // Paused between slices: the frames of the last one still wait in the batch (not yet due),
      // and a paused VM runs no frame that would send them; the backup would stay behind for as
      // long as the pause lasts (seen in timeline.spec under load: one frame short for a minute).
      this.work.flush(engine);
    }
    this.ctx.event(paused ? { kind: "vm-paused", frame: engine?.position().frame ?? 0 } : { kind: "vm-resumed" });
    this.ctx.reportStatus();
  }

  /** A paused VM runs exactly one frame (one main_loop call). */
  stepVm(): void {
    if (!this.vmPaused) return;
    this.stepsPending++;
    this.wake();
  }

  /** Pace of the VM against real time (see LockstepEngine.setPace). */
  setPace(pace: Pace): void {
    this.pace = pace;
    const engine = this.ctx.engine;
    if (engine?.mode === "record") engine.setPace(pace);
    this.ctx.event({ kind: "vm-pace", pace });
    this.ctx.reportStatus();
  }

  /** A slow backup (the §3.2 tour): its replay runs at `factor` (0 < factor ≤ 1) of its speed. */
  setReplaySpeed(factor: number): void {
    const f = Math.min(1, Math.max(0.01, factor));
    if (f === this.replaySpeed) return;
    this.replaySpeed = f;
    this.ctx.event({ kind: "replay-speed", factor: f });
    this.ctx.reportStatus();
  }

  // ---- the loop

  private next(): void {
    this.timer = this.ctx.scheduler.yield(this.turn);
  }

  private wait(ms: number, then: () => void): void {
    this.waiting = true;
    this.timer = this.ctx.scheduler.after(ms, () => {
      this.waiting = false;
      this.guard(then);
    });
  }

  private readonly turn = (): void => this.guard(() => this.decide());

  private guard(f: () => void): void {
    this.timer = null;
    if (this.ctx.stopped) return;
    try {
      f();
    } catch (e) {
      this.ctx.fail(e);
    }
  }

  private decide(): void {
    const engine = this.ctx.engine;
    const runsLive = engine?.mode === "record" && this.work.live() && !this.flowPaused && !this.poweredOff;
    if (engine && runsLive && !this.vmPaused) return this.recordSlice(engine, false);
    if (engine && runsLive && this.stepsPending > 0) {
      this.stepFrame(engine);
      return this.next();
    }
    if (engine?.mode === "replay" && engine.backlog > 0) {
      const start = this.ctx.scheduler.now();
      this.work.replaySlice(engine);
      const ran = this.ctx.scheduler.now() - start;
      // A slow backup rests after each slice; not a wait(): arriving log must not cut the rest short.
      if (this.replaySpeed < 1) this.timer = this.ctx.scheduler.after((ran * (1 - this.replaySpeed)) / this.replaySpeed, this.turn);
      else this.next();
      return;
    }
    this.wait(this.ctx.timing.idleMs, () => this.decide());
  }

  /** Records frames for one slice. `timed`: the guest's next timer was just waited for. */
  private recordSlice(engine: HostEngine, timed: boolean): void {
    const w = this.work;
    const s = this.ctx.scheduler;
    if (!timed) {
      const delay = engine.nextFrameDelay();
      if (delay > 0) {
        // The guest waits for a timer: what was recorded goes out meanwhile.
        w.flush(engine);
        w.remusEpoch();
        return this.wait(Math.max(1, delay), () => {
          if (this.flowPaused || this.poweredOff || this.vmPaused || this.ctx.engine !== engine) return this.decide();
          this.recordSlice(engine, true);
        });
      }
    }
    const start = s.now();
    do {
      w.recordFrame(engine);
      if (w.batchDue()) w.flush(engine);
      if (w.cloneDue(engine)) {
        w.flush(engine);
        this.ctx.stalledSince(start, "record");
        w.takeClone(engine).then(
          // A world frozen during the clone runs on only at the thaw (a yield waits for it).
          () => (this.ctx.frozen ? this.next() : this.guard(() => this.decide())),
          (e: unknown) => this.ctx.fail(e),
        );
        return;
      }
    } while (!engine.halted && s.now() - start < this.ctx.timing.sliceMs && !this.flowPaused && !this.poweredOff && !this.vmPaused && !this.ctx.stopped);
    // A paused VM's last frames go out now: the backup acks them and held outputs are released.
    if (this.vmPaused) w.flush(engine);
    this.ctx.stalledSince(start, "record");
    const ran = s.now() - start;
    // Lag control slows the primary by stretching real time between slices.
    if (this.speed < 1) this.timer = s.after((ran * (1 - this.speed)) / this.speed, this.turn);
    else this.next();
  }

  private stepFrame(engine: HostEngine): void {
    this.stepsPending--;
    const start = this.ctx.scheduler.now();
    // Real time passed while paused; the step must not log a resync that jumps the guest clock.
    engine.rebaseClock();
    this.work.recordFrame(engine);
    this.work.flush(engine);
    this.ctx.stalledSince(start, "step");
    this.ctx.reportStatus();
  }
}
