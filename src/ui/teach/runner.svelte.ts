import type { Cluster, HostView } from "../lib/cluster.svelte.ts";

/** What a scenario step can look at and do. */
export interface Ctx {
  cluster: Cluster;
  /** Scratch space shared by the steps of one run (host ids, marks). */
  vars: Record<string, unknown>;
  primary(): HostView | undefined;
  backup(): HostView | undefined;
  host(id: string): HostView | undefined;
  /** Types a line into the client and remembers where the client stream stood. */
  typeLine(cmd: string): void;
  /** Trimmed lines of client output since the last typeLine. */
  linesSince(): string[];
  /** Primary recording, backup replaying, guest shell up. */
  inLockstep(): boolean;
  eventsSince(kind: string): number;
}

export interface Step {
  caption: string;
  /** Paper mechanism this step shows (a § link beside the caption). */
  ref?: string;
  run?: (c: Ctx) => void;
  /** The step is over when this holds (checked every 100 ms); no predicate: over at once. */
  until?: (c: Ctx) => boolean;
  timeoutMs?: number;
  /** Leave the caption up at least this long (ms, before pace); default 2500. Timing-critical steps use 0. */
  holdMs?: number;
  /** The final step: computes what the scenario showed. */
  verdict?: (c: Ctx) => Verdict;
  /** Live numbers shown under the caption while the step is up (refreshed every poll). */
  note?: (c: Ctx) => string;
}

export interface Verdict {
  /** What the run demonstrated, e.g. "consistent", "inconsistent", "failover". */
  kind: string;
  ok: boolean;
  text: string;
}

export interface Scenario {
  id: string;
  title: string;
  summary: string;
  steps: Step[];
}

export type RunStatus = "idle" | "running" | "paused" | "done" | "failed";

const POLL_MS = 100;

/**
 * Runs a scenario as a self-running captioned tour: each step acts, then waits for the state it
 * needs (an event-driven predicate over the cluster), keeping its caption up long enough to read.
 * Pausing freezes the tour (not the VMs): the next step waits until it is resumed.
 */
export class ScenarioRunner {
  scenario = $state<Scenario | null>(null);
  step = $state(0);
  status = $state<RunStatus>("idle");
  verdict = $state<Verdict | null>(null);
  error = $state<string | null>(null);
  /** The current step's live numbers (Step.note), "" when it has none. */
  note = $state("");
  private runId = 0;
  private skip = false;
  private listeners: ((r: ScenarioRunner) => void)[] = [];

  /** pace multiplies caption hold times (URL ?pace=0.2 for quick runs, e.g. tests). */
  constructor(
    private readonly cluster: Cluster,
    readonly pace = 1,
  ) {}

  get caption(): string {
    return this.scenario?.steps[this.step]?.caption ?? "";
  }

  onChange(fn: (r: ScenarioRunner) => void): void {
    this.listeners.push(fn);
  }

  start(s: Scenario): void {
    const id = ++this.runId;
    this.scenario = s;
    this.step = 0;
    this.note = "";
    this.verdict = null;
    this.error = null;
    this.status = "running";
    this.changed();
    void this.loop(s, id);
  }

  pause(): void {
    if (this.status === "running") this.status = "paused";
    this.changed();
  }

  resume(): void {
    if (this.status === "paused") this.status = "running";
    this.changed();
  }

  toggle(): void {
    if (this.status === "running") this.pause();
    else if (this.status === "paused") this.resume();
  }

  /** Skip the rest of the current caption's reading time (the step's condition still applies). */
  next(): void {
    this.skip = true;
  }

  stop(): void {
    this.runId++;
    this.status = "idle";
    this.scenario = null;
    this.changed();
  }

  private changed(): void {
    for (const l of this.listeners) l(this);
  }

  private ctx(): Ctx {
    const cluster = this.cluster;
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

  private async loop(s: Scenario, id: number): Promise<void> {
    const ctx = this.ctx();
    const alive = () => this.runId === id;
    for (let i = 0; i < s.steps.length; i++) {
      if (!alive()) return;
      const st = s.steps[i]!;
      // A paused tour does not start its next step.
      while (this.status === "paused" && alive()) await delay(POLL_MS);
      if (!alive()) return;
      this.step = i;
      this.skip = false;
      this.note = "";
      this.changed();
      const began = performance.now();
      try {
        st.run?.(ctx);
      } catch (e) {
        return this.fail(`step ${i + 1}: ${(e as Error).message}`);
      }
      const hold = (st.holdMs ?? 2500) * this.pace;
      const timeout = st.timeoutMs ?? 30_000;
      let met = !st.until;
      for (;;) {
        if (!alive()) return;
        try {
          if (!met && st.until!(ctx)) met = true;
          if (st.note) this.note = st.note(ctx);
        } catch (e) {
          return this.fail(`step ${i + 1}: ${(e as Error).message}`);
        }
        const held = this.skip || performance.now() - began >= hold;
        if (met && held && this.status !== "paused") break;
        if (!met && performance.now() - began > timeout) return this.fail(`step ${i + 1} timed out: ${st.caption}`);
        await delay(POLL_MS);
      }
      if (st.note) this.note = st.note(ctx);
      if (st.verdict) this.verdict = st.verdict(ctx);
    }
    if (!alive()) return;
    this.status = "done";
    this.changed();
  }

  private fail(msg: string): void {
    this.error = msg;
    this.status = "failed";
    this.changed();
  }
}

// A timer here paces the tour for a human reader; every wait for state is the predicate above.
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
