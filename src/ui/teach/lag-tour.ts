import { WORKER_DEFAULTS } from "../../ft/protocol/config.ts";
import type { Ctx, Scenario, Step } from "./tour.ts";

/** The share of the CPU the slow backup's replay gets. */
export const SLOW_BACKUP = 0.25;
/** A primary slowed to this speed or below has visibly answered the lag. */
const SLOWED = 0.5;

const bound = WORKER_DEFAULTS.lagBoundMs;
const lag = (c: Ctx) => c.backup()?.status?.lagMs ?? 0;
const speed = (c: Ctx) => c.primary()?.status?.speed ?? 1;
const pct = (f: number) => `${Math.round(f * 100)}%`;
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Keeps the extremes the steps saw (polled every 100 ms by the runner). */
function watch(c: Ctx): void {
  c.vars.maxLag = Math.max((c.vars.maxLag as number | undefined) ?? 0, lag(c));
  c.vars.minSpeed = Math.min((c.vars.minSpeed as number | undefined) ?? 1, speed(c));
}

const note = (c: Ctx) => {
  watch(c);
  return `backup lag ${secs(lag(c))} (bound ${secs(bound)}) · primary speed ${pct(speed(c))} · unacked log ${c.primary()?.status?.unackedBytes ?? 0} B`;
};

/**
 * Paper §3.2, flow and lag control: a slow backup makes the primary slow down. The backup
 * acknowledges log entries as they arrive, so the log buffer (flow control) stays nearly empty;
 * what grows is the execution lag, and lag control slows the primary's VM until the backup keeps
 * up. A CPU-bound loop in the guest gives the backup every instruction to replay.
 */
export function lagTour(boot: Step): Scenario {
  return {
    id: "lag-control",
    title: "Flow and lag control",
    summary: "Make the backup slow and watch the primary slow down, so the lag (and the failover time) stays bounded.",
    steps: [
      boot,
      {
        caption:
          "The client starts a CPU-bound loop in the background: `while :; do :; done &`. The guest now computes all the time, and the backup must replay every one of its instructions.",
        ref: "channel",
        run: (c) => {
          c.vars.p = c.primary()!.id;
          c.vars.b = c.backup()!.id;
          c.typeLine("while :; do :; done &");
        },
        // The next prompt (ash may follow it with a cursor query): the loop runs in the background.
        until: (c) => c.linesSince().slice(1).some((l) => l.startsWith("lockstep#")),
        note,
      },
      {
        caption: `The backup's host becomes slow: its replay gets only ${pct(SLOW_BACKUP)} of the CPU. It still acknowledges every log entry as it arrives, so the log buffer does not fill (flow control stays idle), but its replay falls behind: watch the lag pass the ${secs(bound)} bound.`,
        ref: "channel",
        run: (c) => c.cluster.slowBackup(SLOW_BACKUP),
        until: (c) => {
          watch(c);
          return lag(c) > bound;
        },
        timeoutMs: 60_000,
        note,
      },
      {
        caption:
          "Lag control: each ack tells the primary how far the backup's replay trails. Above the bound the primary slows its own VM, step by step (a slow feedback loop), until the backup keeps up: the failover time, detection plus lag, stays bounded.",
        ref: "channel",
        until: (c) => {
          watch(c);
          return speed(c) <= SLOWED;
        },
        timeoutMs: 60_000,
        note,
      },
      {
        caption: "The backup's host is fast again. It catches up within a moment and the lag falls below the bound; the primary speeds up again, step by step.",
        ref: "channel",
        run: (c) => {
          c.vars.slowest = c.vars.minSpeed;
          c.cluster.slowBackup(1);
        },
        until: (c) => {
          watch(c);
          return lag(c) < bound && speed(c) >= Math.min(1, (c.vars.slowest as number) + 0.2);
        },
        timeoutMs: 60_000,
        note,
      },
      {
        caption: "The client stops the loop (`kill $!`): idle again, the primary runs at full speed.",
        ref: "channel",
        run: (c) => c.typeLine("kill $!"),
        until: (c) => speed(c) === 1 && lag(c) < bound,
        timeoutMs: 60_000,
        note,
        verdict: (c) => {
          const maxLag = c.vars.maxLag as number;
          const slowest = c.vars.slowest as number;
          const sameHosts = c.primary()?.id === c.vars.p && c.backup()?.id === c.vars.b;
          const ok = maxLag > bound && slowest <= SLOWED && speed(c) === 1 && sameHosts && c.cluster.clientConflicts === 0;
          return {
            kind: "lag-bounded",
            ok,
            text: `With the backup at ${pct(SLOW_BACKUP)} of the CPU its lag reached ${secs(maxLag)} and lag control slowed the primary to ${pct(slowest)}; with the backup fast again the primary is back at ${pct(speed(c))}, lag ${secs(lag(c))}${sameHosts ? ", no failover" : ", but a host changed"}; conflicts ${c.cluster.clientConflicts}.`,
          };
        },
      },
    ],
  };
}
