import { WORKER_DEFAULTS } from "../../ft/protocol/config.ts";
import type { Ctx, Scenario, Step } from "./tour.ts";
import { diskReadsTour } from "./disk-reads-tour.ts";
import { freshPairForTour } from "./fresh-pair.ts";
import { remusTour } from "./remus-tour.ts";
import { powerOffTour } from "./power-off-tour.ts";
import { nonSharedTour } from "./non-shared-tour.ts";
import { lagTour } from "./lag-tour.ts";
import { reissueTour } from "./reissue-tour.ts";
import { networkTour } from "./network-tour.ts";

const boot: Step = {
  caption:
    "Two hosts start the same Linux VM. The primary runs it and records every non-deterministic input in a log; the backup replays that log and follows instruction by instruction.",
  ref: "replay",
  // Tours back to back: one that ended with a failure (or any change) leaves no fresh pair.
  run: freshPairForTour,
  until: (c) => c.inLockstep(),
  timeoutMs: 240_000,
};

const hasLine = (c: Ctx, l: string) => c.linesSince().includes(l);
const conflicts = (c: Ctx) => c.cluster.clientConflicts;
const epoch = (c: Ctx) => c.cluster.lock?.epoch ?? 0;
/** The Output Rule tour's output: a line only the guest's `echo` prints (the typed command line differs). */
const PAID = "PAYMENT-ACCEPTED";
const paidLines = (c: Ctx) => c.linesSince().filter((l) => l === PAID).length;

/** Log records the primary sent (entries and frame ends: an idle frame may log no entry) and acks the backup sent. */
const flow = (c: Ctx) => {
  const sent = c.primary()?.status?.flow?.sent;
  return { records: (sent?.entry ?? 0) + (sent?.frameEnd ?? 0), acks: c.backup()?.status?.flow?.sent.ack ?? 0 };
};
const verified = (c: Ctx) => c.backup()?.status?.verifiedFrame ?? 0;
const seconds = (ms: number) => `${(ms / 1000).toLocaleString("en-US", { maximumFractionDigits: 1 })} s`;

export interface TourOptions {
  /** The counterfactual switch (?rule=off): it changes the Output Rule tour's ending. */
  noOutputRule: boolean;
  /**
   * The hosts' failure timeout, for the captions that name it. Hosts that are workers of one
   * page run with WORKER_DEFAULTS (src/workers/ft-host.worker.ts).
   */
  failureTimeoutMs?: number;
}

/** The guided tours. */
export function scenarios(opts: TourOptions): Scenario[] {
  const timeout = seconds(opts.failureTimeoutMs ?? WORKER_DEFAULTS.failureTimeoutMs);
  return [
    {
      id: "normal",
      title: "Normal operation",
      summary: "Log entries flow, the backup acknowledges, outputs wait for the ack.",
      steps: [
        boot,
        {
          caption:
            "Blue tokens are log entries (inputs, interrupt points); purple ones close a frame. Green acks come back. Heartbeats (grey) fill the silences.",
          ref: "channel",
          run: (c) => (c.vars.flow = flow(c)),
          // The tokens the caption names: more log sent and more acks back since it went up.
          until: (c) => {
            const was = c.vars.flow as ReturnType<typeof flow>;
            const now = flow(c);
            return now.records > was.records && now.acks > was.acks;
          },
        },
        {
          caption:
            "The client types `kv set course ft`. Its echo and the `OK` are outputs: the primary holds each one until the backup has acknowledged the log up to it (the Output Rule).",
          ref: "output-rule",
          run: (c) => c.typeLine("kv set course ft"),
          until: (c) => hasLine(c, "OK"),
          holdMs: 3500,
        },
        {
          caption: "The backup checks a hash of its state against the primary's at every checkpoint: the two VMs are in sync.",
          ref: "replay",
          run: (c) => (c.vars.verified = verified(c)),
          // A new checkpoint verified while the caption is up.
          until: (c) => verified(c) > (c.vars.verified as number),
          verdict: (c) => ({
            kind: "in-sync",
            ok: conflicts(c) === 0 && !!c.backup(),
            text: `The client got OK; the backup verified its state at frame ${(c.backup()?.status?.verifiedFrame ?? 0).toLocaleString()}; conflicts ${conflicts(c)}.`,
          }),
        },
      ],
    },
    {
      id: "primary-failure",
      title: "Primary failure",
      summary: "The backup notices the silence, wins the test-and-set and goes live; the client loses nothing.",
      steps: [
        boot,
        {
          caption: "Store a key: `kv set a 1`. The OK reaches the client only once the backup has the log of the command.",
          ref: "output-rule",
          run: (c) => c.typeLine("kv set a 1"),
          until: (c) => hasLine(c, "OK"),
        },
        {
          caption: `Now the primary's host dies (fail-stop). No more log, no heartbeats: the backup's failure detector declares it failed after ${timeout} of silence (its configured timeout).`,
          ref: "failure",
          run: (c) => {
            const p = c.primary()!;
            const b = c.backup()!;
            c.vars.old = p.id;
            c.vars.next = b.id;
            c.vars.killedAt = performance.now();
            c.cluster.kill(p.id);
          },
          until: (c) => {
            const n = c.host(c.vars.next as string)?.status;
            if (n?.role !== "primary" || n.state !== "alone") return false;
            c.vars.liveAt ??= performance.now();
            return true;
          },
          note: (c) => {
            const since = ((c.vars.liveAt as number | undefined) ?? performance.now()) - (c.vars.killedAt as number);
            return c.vars.liveAt ? `${c.vars.next} went live ${seconds(since)} after the kill (timeout ${timeout})` : `silence for ${seconds(since)}…`;
          },
          holdMs: 3000,
        },
        {
          caption: "Before going live the backup replayed every entry it had, then won the atomic test-and-set on the shared lock record: the epoch is now 2.",
          ref: "test-and-set",
          until: (c) => epoch(c) === 2,
        },
        {
          caption: "Ask the new primary for the key: the state survived the failover.",
          ref: "go-live",
          run: (c) => c.typeLine("kv get a"),
          until: (c) => hasLine(c, "1") || hasLine(c, "(nil)"),
          verdict: (c) => ({
            kind: "failover",
            ok: hasLine(c, "1") && conflicts(c) === 0,
            text: `${c.vars.next} took over at epoch ${epoch(c)}; kv get a → ${hasLine(c, "1") ? "1" : "(nil)"}; conflicts ${conflicts(c)}.`,
          }),
        },
      ],
    },
    {
      id: "backup-failure",
      title: "Backup failure",
      summary: "The primary stops logging, goes live alone and releases outputs without waiting.",
      steps: [
        boot,
        {
          caption: "The backup's host dies. The primary notices the missing acks and heartbeats.",
          ref: "failure",
          run: (c) => {
            const b = c.backup()!;
            c.vars.gone = b.id;
            c.vars.p = c.primary()!.id;
            c.cluster.kill(b.id);
          },
          until: (c) => c.host(c.vars.p as string)?.status?.state === "alone",
        },
        {
          caption: "It takes the lock record too (epoch 2): a backup that was merely cut off must not go live now.",
          ref: "test-and-set",
          until: (c) => epoch(c) === 2,
        },
        {
          caption: "Running alone, nothing can take over, so outputs go out at once: no held outputs, no unacked log.",
          ref: "output-rule",
          run: (c) => c.typeLine("kv set b 2"),
          until: (c) => hasLine(c, "OK"),
          verdict: (c) => {
            const s = c.host(c.vars.p as string)?.status;
            return {
              kind: "alone",
              ok: s?.heldOutputs === 0 && s.unackedBytes === 0,
              text: `${c.vars.p} runs alone at epoch ${epoch(c)}: held outputs ${s?.heldOutputs}, unacked ${s?.unackedBytes} B. Restore redundancy with FT VMotion.`,
            };
          },
        },
      ],
    },
    {
      id: "split-brain",
      title: "Split-brain prevented",
      summary: "Cut the logging channel: both hosts think the other died; test-and-set lets exactly one go live and fencing stops the other.",
      steps: [
        boot,
        {
          caption: "Cut the logging channel. Both hosts are fine, but each sees the other fall silent and tries to go live.",
          ref: "failure",
          run: (c) => c.cluster.cutChannel(),
          until: (c) => {
            const states = c.cluster.hosts.filter((h) => !h.dead).map((h) => h.status?.state).sort();
            return states.length === 2 && states[0] === "alone" && states[1] === "halted";
          },
        },
        {
          caption: "Only one wins the atomic test-and-set on shared storage (epoch 1 → 2); the loser halts instead of going live.",
          ref: "test-and-set",
          until: (c) => epoch(c) === 2,
        },
        {
          caption: "A zombie: the halted host tries to write the disk anyway, at its old epoch. The storage refuses it.",
          ref: "disk",
          run: (c) => {
            c.vars.eventMark = performance.now();
            c.cluster.zombieWrite();
          },
          until: (c) => c.eventsSince("fenced") + c.eventsSince("zombie-write") > 0,
          verdict: (c) => {
            const live = c.cluster.hosts.filter((h) => !h.dead && h.status?.state !== "halted");
            const fenced = c.eventsSince("fenced") > 0 && c.eventsSince("zombie-write") === 0;
            return {
              kind: "split-brain-prevented",
              ok: live.length === 1 && fenced,
              text: `${live.length} live host (${live.map((h) => h.id).join(", ")}) at epoch ${epoch(c)}; zombie write ${fenced ? "fenced" : "ACCEPTED"}.`,
            };
          },
        },
      ],
    },
    {
      id: "output-rule",
      title: opts.noOutputRule ? "Why the Output Rule (rule OFF)" : "Why the Output Rule",
      summary: "The primary fails right after an output whose log never reached the backup. With the rule, nobody saw it; without it, the client did.",
      steps: [
        { ...boot, caption: `${boot.caption} The Output Rule is ${opts.noOutputRule ? "OFF (counterfactual)" : "ON"}.` },
        {
          caption: "The logging channel is cut: from now on the backup hears nothing from the primary.",
          ref: "output-rule",
          run: (c) => {
            c.vars.p = c.primary()!.id;
            c.vars.b = c.backup()!.id;
          },
          // Cut only once the backup has replayed every input the client sent. The primary is
          // armed to fail-stop in the very step its VM prints the answer: the failure cannot come
          // too late (after the failure detectors fire on the cut) or too early. The caption is
          // read in a frozen world (slow motion), so the detectors' clocks stand still meanwhile.
          until: (c) => {
            const b = c.host(c.vars.b as string)?.status;
            const client = c.cluster.client;
            if (!b?.console || b.console.nextInputSeq !== client.sentInputs || client.unackedInputs !== 0) return false;
            c.cluster.failAfterOutput(c.vars.p as string, PAID);
            c.cluster.cutChannel();
            return true;
          },
          critical: true,
          timeoutMs: 10_000,
        },
        {
          caption: opts.noOutputRule
            ? `The client sends \`echo ${PAID}\`. Without the Output Rule the primary answers at once, though the backup never got the command…`
            : `The client sends \`echo ${PAID}\`. The primary runs it but holds the outputs: no ack can come back…`,
          ref: "output-rule",
          run: (c) => c.typeLine(`echo ${PAID}`),
          until: (c) => {
            const p = c.host(c.vars.p as string);
            if (p?.status?.state === "alone" && !p.dead) {
              throw new Error("the primary's failure detector fired on the cut before its VM ran the command (a very slow machine): the lesson needs the failure first");
            }
            // Rule off: the answer was released before the failure, and is on its way to the client.
            return !!p?.dead && (!opts.noOutputRule || paidLines(c) > 0);
          },
          critical: true,
          timeoutMs: 10_000,
        },
        {
          caption: "…and the primary fails right then. The backup goes live with only the log it received: it never ran the command.",
          ref: "go-live",
          run: (c) => {
            c.vars.sawBefore = paidLines(c) > 0;
            c.vars.clientBytes = c.cluster.client.length;
            c.vars.acked = c.cluster.client.inputAcked;
          },
          until: (c) => {
            const s = c.host(c.vars.b as string)?.status;
            return s?.role === "primary" && s.state === "alone" && s.console !== undefined;
          },
          holdMs: 3000,
        },
        opts.noOutputRule
          ? {
              caption:
                `Compare what the client holds with what the new primary produced: the client was told “${PAID}” by a VM that no longer exists, and the new primary will never say it. That is the inconsistency the Output Rule prevents.`,
              ref: "output-rule",
              holdMs: 4000,
              verdict: (c) => {
                const con = c.host(c.vars.b as string)!.status!.console!;
                const held = c.vars.clientBytes as number;
                const inconsistent = (c.vars.sawBefore as boolean) && con.produced < held;
                return {
                  kind: inconsistent ? "inconsistent" : "consistent",
                  ok: inconsistent,
                  text: inconsistent
                    ? `INCONSISTENT: the client saw “${PAID}” (it holds ${held} bytes of output) but the promoted backup produced only ${con.produced}: it never ran the command, and waits for input #${con.nextInputSeq}, which the client was told had been consumed.`
                    : `No inconsistency this time (the client saw the output before the failure: ${c.vars.sawBefore}).`,
                };
              },
            }
          : {
              caption: "The client never saw the held outputs, so its input is still unacknowledged and it resends it: the new primary runs the command itself and answers.",
              ref: "output-rule",
              until: (c) => paidLines(c) > 0,
              timeoutMs: 30_000,
              holdMs: 3500,
              verdict: (c) => {
                const ok = !(c.vars.sawBefore as boolean) && paidLines(c) === 1 && conflicts(c) === 0;
                return {
                  kind: ok ? "consistent" : "inconsistent",
                  ok,
                  text: ok
                    ? `CONSISTENT: nothing the dead primary produced after the cut reached the client; ${c.vars.b} re-ran the command and “${PAID}” appears exactly once; conflicts 0.`
                    : `Unexpected: output seen before the failure ${c.vars.sawBefore}, lines ${paidLines(c)}, conflicts ${conflicts(c)}.`,
                };
              },
            },
      ],
    },
    {
      id: "vmotion",
      title: "FT VMotion",
      summary: "After a failure, clone the running primary to a new host and be fault tolerant again.",
      steps: [
        boot,
        {
          caption: "The backup fails; the primary goes on alone. It is no longer fault tolerant.",
          ref: "failure",
          run: (c) => {
            c.vars.p = c.primary()!.id;
            c.cluster.kill(c.backup()!.id);
          },
          until: (c) => c.host(c.vars.p as string)?.status?.state === "alone",
        },
        {
          caption: "The cluster service restores redundancy: it clones the running primary to a standby host (FT VMotion). The guest pauses only for the snapshot.",
          ref: "vmotion",
          run: (c) => {
            c.vars.before = new Set(c.cluster.hosts.map((h) => h.id));
            c.cluster.restoreRedundancy();
          },
          until: (c) => !!c.cluster.hosts.find((h) => !(c.vars.before as Set<string>).has(h.id) && h.status?.state === "replaying"),
          timeoutMs: 120_000,
        },
        {
          caption: "The new backup replays from the clone point and acknowledges the log; outputs wait for its acks again.",
          ref: "output-rule",
          run: (c) => c.typeLine("kv set again 1"),
          until: (c) => hasLine(c, "OK") && (c.backup()?.status?.verifiedFrame ?? 0) > 0,
          timeoutMs: 60_000,
          verdict: (c) => ({
            kind: "redundant",
            ok: c.primary()?.status?.state === "recording" && !!c.backup(),
            text: `Fault tolerant again: ${c.primary()?.id} records, ${c.backup()?.id} replays (verified frame ${(c.backup()?.status?.verifiedFrame ?? 0).toLocaleString()}).`,
          }),
        },
      ],
    },
    networkTour(),
    diskReadsTour(),
    remusTour(boot),
    powerOffTour(boot),
    nonSharedTour(),
    lagTour(boot),
    reissueTour(boot),
  ];
}
