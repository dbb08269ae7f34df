import type { Cluster } from "../lib/cluster.svelte.ts";
import { TourCore, initialTourState, type TourState } from "./tour-core.ts";
import type { Ctx, RunStatus, Scenario, TranscriptEntry, Verdict } from "./tour.ts";

export type { Ctx, RunStatus, Scenario, Step, Verdict } from "./tour.ts";

export interface RunnerOptions {
  /** Multiplies caption reading times (URL ?pace=). */
  pace?: number;
  /**
   * Freezes or thaws the whole world (both VMs, failure detectors, the cluster's timers): the
   * one-page demo wires Cluster.freezeWorld. Without it pausing stops only the tour.
   */
  freezeWorld?: (on: boolean) => void | Promise<void>;
}

/** The reactive shell over TourCore (tour-core.ts): the panel, the embed API and tests read it. */
export class ScenarioRunner implements TourState {
  scenario = $state.raw<Scenario | null>(null);
  step = $state(0);
  viewing = $state(0);
  status = $state<RunStatus>("idle");
  verdict = $state.raw<Verdict | null>(null);
  error = $state<string | null>(null);
  note = $state("");
  pace = $state(1);
  transcript = $state.raw<TranscriptEntry[]>([]);
  frozen = $state(false);
  private readonly core: TourCore;

  constructor(cluster: Cluster, opts: RunnerOptions = {}) {
    Object.assign(this, initialTourState(opts.pace ?? 1));
    this.core = new TourCore(this, {
      ctx: () => makeCtx(cluster),
      now: () => performance.now(),
      // A timer here paces the tour for a human reader; every wait for state is a predicate.
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      freezeWorld: opts.freezeWorld ?? null,
    });
  }

  /** The current step's caption (the one the tour is at, not one being reviewed). */
  get caption(): string {
    return this.scenario?.steps[this.step]?.caption ?? "";
  }

  /** Whether pausing freezes the VMs too (a freezeWorld switch was given). */
  get freezesWorld(): boolean {
    return this.core.freezes;
  }

  onChange(fn: (r: ScenarioRunner) => void): void {
    this.core.onChange(() => fn(this));
  }

  start(s: Scenario): void {
    this.core.start(s);
  }
  pause(): void {
    this.core.pause();
  }
  resume(): void {
    this.core.resume();
  }
  toggle(): void {
    this.core.toggle();
  }
  next(): void {
    this.core.next();
  }
  prev(): void {
    this.core.prev();
  }
  jumpTo(step: number): void {
    this.core.jumpTo(step);
  }
  setPace(pace: number): void {
    this.core.setPace(pace);
  }
  stop(): void {
    this.core.stop();
  }
}

function makeCtx(cluster: Cluster): Ctx {
  const vars: Record<string, unknown> = {};
  const live = () => cluster.hosts.filter((h) => !h.dead && h.status && h.status.state !== "halted");
  const ctx: Ctx = {
    cluster,
    vars,
    primary: () => live().find((h) => h.status!.role === "primary"),
    backup: () => live().find((h) => h.status!.role === "backup"),
    host: (id) => cluster.hosts.find((h) => h.id === id),
    typeLine(cmd) {
      vars.mark = cluster.client.length;
      cluster.type(cmd + "\n");
    },
    linesSince: () =>
      cluster
        .clientText()
        .slice((vars.mark as number) ?? 0)
        .split(/\r?\n/)
        .map((l) => l.trim()),
    inLockstep: () =>
      ctx.primary()?.status?.state === "recording" &&
      ctx.backup()?.status?.state === "replaying" &&
      /LOCKSTEP READY[\s\S]*lockstep# /.test(cluster.clientText()),
    eventsSince(kind) {
      const from = (vars.eventMark as number) ?? 0;
      return cluster.events.filter((e) => e.at >= from && e.kind === kind).length;
    },
  };
  return ctx;
}
