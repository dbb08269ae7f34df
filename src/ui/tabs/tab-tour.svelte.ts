import { KILL_TAB_TOUR, type TourView } from "./kill-tab-tour.ts";

/** What tabs say to each other about the tour (its own channel: the cluster's bus is the protocol's). */
type TourMsg = { t: "step"; step: number } | { t: "stop" } | { t: "ask" };

const CHANNEL = "lockstep-tour";
/** A step's caption stays up at least this long after its event, so it can be read. */
const SETTLE_MS = 1200;

/**
 * The kill-tab tour's runner, shared by every tab: a tab that starts it, or advances it, tells
 * the others, so the tour survives the tab the teacher closes (it may well be the primary's, the
 * one the tour was started in). Each tab judges the steps on its own view of the whole cluster;
 * the step only moves forward (the highest any tab reached).
 */
export class TabTour {
  /** The current step, or -1 while the tour is off. */
  step = $state(-1);
  private readonly bus: BroadcastChannel | null = typeof BroadcastChannel === "undefined" ? null : new BroadcastChannel(CHANNEL);
  private doneSince: number | null = null;

  constructor() {
    this.bus?.addEventListener("message", (e: MessageEvent<TourMsg>) => this.onMsg(e.data));
    // A tab opened while the tour runs (by its button, most often) joins at the current step.
    this.bus?.postMessage({ t: "ask" } satisfies TourMsg);
  }

  get running(): boolean {
    return this.step >= 0;
  }

  get last(): boolean {
    return this.step === KILL_TAB_TOUR.length - 1;
  }

  start(): void {
    this.goTo(0);
  }

  stop(): void {
    this.step = -1;
    this.bus?.postMessage({ t: "stop" } satisfies TourMsg);
  }

  /** Looks at the cluster now (called a few times a second): a step whose event happened moves on. */
  check(view: TourView, now: number): void {
    const s = KILL_TAB_TOUR[this.step];
    if (!s) return;
    if (!s.done(view)) {
      this.doneSince = null;
      return;
    }
    this.doneSince ??= now;
    if (now - this.doneSince >= SETTLE_MS && this.step < KILL_TAB_TOUR.length - 1) this.goTo(this.step + 1);
  }

  dispose(): void {
    this.bus?.close();
  }

  private goTo(step: number): void {
    this.step = step;
    this.doneSince = null;
    this.bus?.postMessage({ t: "step", step } satisfies TourMsg);
  }

  private onMsg(m: TourMsg): void {
    if (m.t === "step" && m.step > this.step) {
      this.step = m.step;
      this.doneSince = null;
    } else if (m.t === "stop") this.step = -1;
    else if (m.t === "ask" && this.running) this.bus?.postMessage({ t: "step", step: this.step } satisfies TourMsg);
  }
}
