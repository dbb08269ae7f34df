import type { Scenario, Step } from "./tour.ts";

const halted = (s: { state: string } | null | undefined) => s?.state === "halted";

/**
 * Paper §3.3, control operations: the VM is powered off on purpose. The primary logs the
 * power-off as a control entry and stops the VM; the backup replays up to it and stops too.
 * Without the entry the backup would see silence, take it for a failure and go live; so the
 * primary halts only once the backup has acknowledged the entry (were it lost, the primary would
 * take the lock record first: src/ft/protocol/power-off.ts).
 */
export function powerOffTour(boot: Step): Scenario {
  return {
    id: "power-off",
    title: "Power off is not a failure",
    summary: "The primary logs the power-off as a control entry: the backup stops too instead of going live.",
    steps: [
      boot,
      {
        caption:
          "An operator powers the VM off. The primary does not simply stop: it stops the VM, sends a control entry (orange) on the logging channel, and halts once the backup has acknowledged it.",
        ref: "control",
        run: (c) => {
          c.vars.p = c.primary()!.id;
          c.vars.b = c.backup()!.id;
          c.vars.eventMark = performance.now();
          c.cluster.powerOff();
        },
        until: (c) => halted(c.host(c.vars.p as string)?.status),
        note: (c) => `control entries sent: ${c.host(c.vars.p as string)?.status?.flow?.sent.control ?? 0}`,
      },
      {
        caption:
          "The backup replays the log up to the power-off entry and halts too. Its heartbeats stopped as well, yet it does not go live: no test-and-set, the lock record stays at epoch 1.",
        ref: "control",
        // Halted, or gone live (what the entry is there to prevent): the verdict tells.
        until: (c) => {
          const s = c.host(c.vars.b as string)?.status;
          return halted(s) || s?.role === "primary";
        },
        verdict: (c) => {
          const s = c.host(c.vars.b as string)?.status;
          const epoch = c.cluster.lock?.epoch ?? 0;
          const wentLive = c.eventsSince("go-live") > 0;
          const ok = halted(s) && !wentLive;
          // Epoch 1: the backup acknowledged the entry. Later: no acknowledgement came in time, and
          // the primary took the lock record so that the backup's test-and-set would lose.
          const lock = epoch === 1 ? "the lock record is still at epoch 1" : `the primary moved the lock record to epoch ${epoch} so the backup could not go live`;
          return {
            kind: ok ? "powered-off" : "failed-over",
            ok,
            text: ok
              ? `${c.vars.b} received ${s?.flow?.received.control ?? 0} control entry and halted with the primary; no host went live, ${lock}. Start a new pair to go on.`
              : `Unexpected: ${c.vars.b} is ${s?.role}/${s?.state} at epoch ${epoch} (went live: ${wentLive}).`,
          };
        },
      },
    ],
  };
}
