import type { RemusReport } from "../../host/remus-meter.ts";
import { fmtBits, fmtBytes, fmtRatio } from "./format.ts";
import { bootFreshPair, pairLost } from "./fresh-pair.ts";
import type { Ctx, Scenario, Step } from "./tour.ts";

/**
 * "Lockstep vs shipping state" (paper §1 and §6): the primary's Remus meter counts, every epoch,
 * the RAM pages a Remus-style checkpoint would ship (remus-meter.ts); beside it, the bytes the
 * same primary really put on the logging channel in the same window. Idle shell, then a busy
 * command. Both numbers come from the same host over the same time.
 */

export const REMUS_EPOCH_MS = 100;
export const REMUS_GROUP = "Remus vs log (§1, §6)";
const IDLE_MS = 5000;
const BUSY = "dd if=/dev/urandom of=/tmp/scratch bs=64k count=32 2>/dev/null; md5sum /tmp/scratch; rm /tmp/scratch; echo BUSY-DONE";

interface Mark {
  host: string;
  at: number;
  remus: RemusReport;
}
interface Window {
  ms: number;
  remusBytes: number;
  logBytes: number;
  epochs: number;
}

function mark(c: Ctx): Mark | null {
  const p = c.primary();
  const r = p?.status?.remus;
  return p && r ? { host: p.id, at: performance.now(), remus: r } : null;
}

function between(a: Mark, b: Mark): Window {
  return {
    ms: b.at - a.at,
    remusBytes: b.remus.totalBytes - a.remus.totalBytes,
    logBytes: b.remus.logBytes - a.remus.logBytes,
    epochs: b.remus.epochs - a.remus.epochs,
  };
}

const bits = (bytes: number, ms: number) => (bytes * 8) / Math.max(0.001, ms / 1000);
const ratio = (w: Window) => w.remusBytes / Math.max(1, w.logBytes);
const describe = (w: Window) =>
  `Remus ${fmtBytes(w.remusBytes)} (${fmtBits(bits(w.remusBytes, w.ms))}) vs log ${fmtBytes(w.logBytes)} (${fmtBits(bits(w.logBytes, w.ms))}) in ${(w.ms / 1000).toFixed(1)} s: ${fmtRatio(ratio(w))}`;

/** Live numbers since the step's mark (or the final window once recorded). */
function live(c: Ctx, key: string): string {
  const done = c.vars[key] as Window | undefined;
  if (done) return describe(done);
  const a = c.vars[`${key}:start`] as Mark | undefined;
  const b = mark(c);
  return a && b && a.host === b.host ? describe(between(a, b)) : "waiting for the meter…";
}

/** Closes a measured window: a second mark from the same primary, recorded and shown in Metrics. */
function close(c: Ctx, key: string, label: string): boolean {
  const a = c.vars[`${key}:start`] as Mark | undefined;
  const b = mark(c);
  if (!a || !b) return false;
  if (a.host !== b.host) throw new Error("the primary changed during the measurement (a failover): start the tour again");
  const w = between(a, b);
  if (w.epochs < 2) return false;
  c.vars[key] = w;
  const group = `${REMUS_GROUP}, ${label}`;
  c.cluster.measure({ group, label: "Remus (counted)", bitsPerSec: bits(w.remusBytes, w.ms), detail: `${fmtBytes(w.remusBytes)} of dirty pages + CPU state in ${(w.ms / 1000).toFixed(1)} s` });
  c.cluster.measure({ group, label: "log (sent)", bitsPerSec: bits(w.logBytes, w.ms), detail: `${fmtBytes(w.logBytes)} on the logging channel in the same ${(w.ms / 1000).toFixed(1)} s` });
  return true;
}

export function remusTour(boot: Step): Scenario {
  return {
    id: "remus",
    title: "Lockstep vs shipping state (Remus)",
    summary: "Count what a Remus-style checkpoint would ship (dirty RAM pages every 100 ms) beside the log the primary really sends.",
    steps: [
      {
        // The boot step (a new pair if an earlier tour changed it), and a fresh pair again if one is lost while booting.
        caption: boot.caption,
        ref: boot.ref,
        ...(boot.run ? { run: boot.run } : {}),
        timeoutMs: boot.timeoutMs,
        until: (c) => {
          if (boot.until!(c)) return true;
          if (pairLost(c)) bootFreshPair(c, "the pair failed over while booting");
          return false;
        },
      },
      {
        caption: `Another way to keep a backup: ship the primary's state. Remus checkpoints the VM every few tens of ms and sends every memory page that changed. The primary now runs a meter: every ${REMUS_EPOCH_MS} ms it compares all of guest RAM with a copy and counts the changed 4 KiB pages (counted, not sent).`,
        ref: "remus",
        run: (c) => c.cluster.setRemus(REMUS_EPOCH_MS),
        until: (c) => (c.primary()?.status?.remus?.epochs ?? 0) >= 3,
        note: (c) => {
          const r = c.primary()?.status?.remus;
          return r ? `${r.epochs} epochs; last one: ${r.lastDirtyPages} of ${r.pages.toLocaleString()} pages changed; the compare costs ${(r.scanMs / Math.max(1, r.epochs)).toFixed(1)} ms per epoch` : "starting the meter…";
        },
        timeoutMs: 30_000,
      },
      {
        caption:
          "An idle shell. The log carries little more than timer interrupts and frame ends; the guest kernel still writes memory on every tick (timers, statistics, stacks), and each touched page would be shipped whole.",
        ref: "bandwidth",
        run: (c) => {
          c.vars["idle:start"] = mark(c);
          c.vars.idleAt = performance.now();
        },
        until: (c) => performance.now() - (c.vars.idleAt as number) >= IDLE_MS && close(c, "idle", "idle"),
        note: (c) => live(c, "idle"),
        timeoutMs: 60_000,
      },
      {
        caption:
          "A busy command: write 2 MiB of random data to a RAM file, hash it, delete it. For the log, the random bytes are a few RDRAND values and timer events; for Remus, every page the guest wrote (file, pipe and page-cache buffers) must cross the wire.",
        ref: "remus",
        run: (c) => {
          c.vars["busy:start"] = mark(c);
          c.typeLine(BUSY);
        },
        until: (c) => {
          if (!c.linesSince().includes("BUSY-DONE")) return false;
          c.vars.busyDoneAt ??= performance.now();
          // Two more status reports, so the counters include the end of the command.
          return performance.now() - (c.vars.busyDoneAt as number) >= 500 && close(c, "busy", "busy");
        },
        note: (c) => live(c, "busy"),
        timeoutMs: 120_000,
      },
      {
        caption:
          "Deterministic replay sends only the non-deterministic inputs, a tiny fraction of the state they change: that is why VMware FT needed < 20 Mbit/s where Remus needed a 1 Gbit/s link for 40 checkpoints per second (§6). The price: replay must capture every source of non-determinism, and works for one CPU.",
        ref: "remus",
        holdMs: 5000,
        run: (c) => c.cluster.setRemus(null),
        verdict: (c) => {
          const s = summary(c);
          return { kind: "remus-compared", ok: s.ok, text: s.text };
        },
      },
    ],
  };
}

function summary(c: Ctx): { ok: boolean; text: string } {
  const idle = c.vars.idle as Window | undefined;
  const busy = c.vars.busy as Window | undefined;
  if (!idle || !busy) return { ok: false, text: "a measurement did not finish" };
  return {
    ok: ratio(idle) > 1 && ratio(busy) > 1,
    text: `Idle: ${describe(idle)} more for Remus. Busy: ${describe(busy)} more. Shipping state needs far more bandwidth than the log.`,
  };
}
