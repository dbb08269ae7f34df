import type { ReadCounters } from "../../host/status.ts";
import type { Measurement } from "../lib/cluster.svelte.ts";
import { comparisonRatio } from "./compare.ts";
import { fmtBits, fmtBytes, fmtRatio } from "./format.ts";
import { bootFreshPair, pairLost } from "./fresh-pair.ts";
import type { Ctx, Scenario, Step } from "./tour.ts";

/**
 * "Disk reads in the log vs by the backup" (paper 4.2, 5.1): the same read-heavy guest workload
 * runs on two pairs booted one after the other in this page, first with read data in the log
 * (the paper's default), then with the backup reading the shared disk itself (the log carries a
 * hash). Both pairs run without Lockstep's disk cache (not in the paper), which would otherwise
 * already keep re-reads of data written in this session out of the log in both modes.
 * What is compared is measured: bytes the primary put on the logging channel wire while the
 * guest read the file back, and how the reads were logged (entry kinds counted by the primary).
 */

const BLOB_KIB = 256;
const WRITE = `dd if=/dev/urandom of=/data/blob bs=4096 count=${BLOB_KIB / 4} 2>/dev/null; sync; echo 3 > /proc/sys/vm/drop_caches; echo BLOB-WRITTEN`;
const READ = "md5sum /data/blob";
const MD5_LINE = /^[0-9a-f]{32}\s+\/data\/blob$/;
export const READS_GROUP = "Disk reads (§4.2)";

type Mode = "log" | "backup-reads";
interface Mark {
  host: string;
  at: number;
  sent: number;
  reads: ReadCounters;
}
export interface ReadPhase {
  mode: Mode;
  ms: number;
  logBytes: number;
  reads: ReadCounters;
}
interface PhaseState {
  stage: "boot" | "write" | "read" | "done";
  primary?: string;
  start?: Mark;
  doneAt?: number;
  result?: ReadPhase;
}

const ZERO: ReadCounters = { count: 0, bytes: 0, inLog: 0, inLogBytes: 0, byBackup: 0, cached: 0 };

function mark(c: Ctx): Mark | null {
  const p = c.primary();
  const s = p?.status;
  if (!p || !s || s.logBytesSent === undefined) return null;
  return { host: p.id, at: performance.now(), sent: s.logBytesSent, reads: { ...(s.reads ?? ZERO) } };
}

function since(a: Mark, b: Mark, mode: Mode): ReadPhase {
  const r = {} as ReadCounters;
  for (const k of Object.keys(ZERO) as (keyof ReadCounters)[]) r[k] = b.reads[k] - a.reads[k];
  return { mode, ms: b.at - a.at, logBytes: b.sent - a.sent, reads: r };
}

const bps = (p: ReadPhase) => (p.logBytes * 8) / Math.max(0.001, p.ms / 1000);
const label = (m: Mode) => (m === "log" ? "read data in the log" : "backup reads the disk");
const md5Done = (c: Ctx) => c.linesSince().some((l) => MD5_LINE.test(l));

/**
 * One phase as a small state machine (boot a pair in `mode` → write the file → read it back and
 * measure). A loaded machine can stall a host past the failure timeout: that is a correct
 * failover but not this tour's subject, and it would spoil the measurement, so the phase then
 * boots a fresh pair and starts over (fresh-pair.ts).
 */
function advance(c: Ctx, mode: Mode): boolean {
  const key = `phase:${mode}`;
  const st = ((c.vars[key] as PhaseState | undefined) ??= { stage: "boot" });
  const cfg = c.cluster.config;
  // §4.2 compares the designs on the shared disk: a tour before this one may have left the pair on
  // non-shared disks (§4.1), where the backup would read its own copy instead.
  const pairMode = { readMode: mode, diskCache: false, diskMode: c.cluster.initial.diskMode };
  const restart = (why: string) => {
    c.vars[key] = { stage: "boot" } satisfies PhaseState;
    bootFreshPair(c, why, pairMode);
  };
  if (st.stage === "boot") {
    if (cfg.readMode !== mode || cfg.diskCache !== false || cfg.diskMode !== pairMode.diskMode) {
      void c.cluster.restart(pairMode);
      return false;
    }
    if (c.inLockstep()) {
      st.primary = c.primary()!.id;
      st.stage = "write";
      c.typeLine(WRITE);
      return false;
    }
    if (pairLost(c)) restart("the pair failed over while booting");
    return false;
  }
  if (st.stage === "done") return true;
  if (c.primary()?.id !== st.primary || !c.backup()) {
    restart("the pair failed over during the workload");
    return false;
  }
  if (st.stage === "write") {
    if (!c.linesSince().includes("BLOB-WRITTEN")) return false;
    const m = mark(c);
    if (!m) return false;
    st.start = m;
    st.stage = "read";
    c.typeLine(READ);
    return false;
  }
  // read: the md5 line is an output, so by the Output Rule the log up to it was sent and acked.
  // Wait for two more status reports (200 ms apart) so the counters include all of it.
  if (!md5Done(c)) return false;
  st.doneAt ??= performance.now();
  if (performance.now() - st.doneAt < 500) return false;
  const b = mark(c);
  if (!b || b.host !== st.start!.host) return false;
  const p = since(st.start!, b, mode);
  st.result = p;
  st.stage = "done";
  c.cluster.measure(phaseMeasurement(p));
  return true;
}

/** A phase's bar in the metrics panel; the verdict quotes the ratio of these same numbers. */
export function phaseMeasurement(p: ReadPhase): Measurement {
  return {
    group: READS_GROUP,
    label: label(p.mode),
    bitsPerSec: bps(p),
    detail: `${fmtBytes(p.logBytes)} of log in ${(p.ms / 1000).toFixed(1)} s while reading ${fmtBytes(p.reads.bytes)}`,
  };
}

function phaseNote(c: Ctx, mode: Mode): string {
  const st = c.vars[`phase:${mode}`] as PhaseState | undefined;
  if (!st || st.stage === "boot") return "booting the pair…";
  if (st.stage === "write") return `writing ${BLOB_KIB} KiB to /data/blob…`;
  const b = mark(c);
  const p = st.result ?? (st.start && b ? since(st.start, b, mode) : null);
  if (!p) return "";
  return `${label(mode)}: ${p.reads.count} reads (${fmtBytes(p.reads.bytes)}) · ${p.reads.inLog} logged with their data (${fmtBytes(p.reads.inLogBytes)}), ${p.reads.byBackup} read by the backup · log sent ${fmtBytes(p.logBytes)} in ${(p.ms / 1000).toFixed(1)} s = ${fmtBits(bps(p))}`;
}

function phase(mode: Mode): Step {
  return {
    caption:
      mode === "log"
        ? `Pair 1, the paper's default: the backup never touches the disk, so the data of every disk read travels to it in the log. The guest writes ${BLOB_KIB} KiB to /data/blob, drops its page cache, and reads the file back (\`${READ}\`).`
        : `Pair 2, the alternative of §4.2: the backup executes the disk reads itself on the shared disk; the log only names each completed read and carries a hash of its data, which the backup checks. Same workload.`,
    ref: mode === "log" ? "disk-reads-log" : "backup-reads",
    until: (c) => advance(c, mode),
    note: (c) => phaseNote(c, mode),
    timeoutMs: 300_000,
    holdMs: 3000,
  };
}

export function diskReadsTour(): Scenario {
  return {
    id: "disk-reads",
    title: "Disk reads: in the log vs by the backup",
    summary: "The same file read back on two pairs: with read data in the log, then with the backup reading the shared disk itself; log bandwidth measured side by side.",
    steps: [
      {
        caption:
          "Both pairs run without Lockstep's own disk cache (it is not in the paper: it already keeps re-reads of data written in this session out of the log), so every read is a real read and the two designs of §4.2 are compared as published.",
        ref: "disk-reads-log",
        holdMs: 3000,
      },
      phase("log"),
      phase("backup-reads"),
      {
        caption:
          "Side by side: reading on the backup takes the read data off the logging channel (the paper measured 12 → 3 Mbit/s for Oracle Swingbench), at the price of the backup waiting for its own disk and writes waiting for the backup's reads.",
        ref: "bandwidth",
        holdMs: 4000,
        verdict: (c) => {
          const s = summary(c);
          return { kind: "reads-compared", ok: s.ok, text: s.text };
        },
      },
    ],
  };
}

function ratioText(a: Measurement, b: Measurement): string {
  const r = comparisonRatio(a.bitsPerSec, b.bitsPerSec);
  return r === null ? "∞×" : fmtRatio(r);
}

function summary(c: Ctx): { ok: boolean; text: string } {
  const log = (c.vars["phase:log"] as PhaseState | undefined)?.result;
  const bak = (c.vars["phase:backup-reads"] as PhaseState | undefined)?.result;
  if (!log || !bak) return { ok: false, text: "a phase did not finish" };
  return readsVerdict(log, bak);
}

/** What the two phases showed; its ratio is the metrics panel's (compare.ts), over the same bars. */
export function readsVerdict(log: ReadPhase, bak: ReadPhase): { ok: boolean; text: string } {
  // What the lesson needs: the default logged the reads with their data, the alternative did
  // not, and the second used less of the channel for the same reads.
  const ok = log.reads.inLogBytes >= BLOB_KIB * 1024 * 0.9 && bak.reads.byBackup > 0 && bak.reads.inLogBytes === 0 && bak.logBytes < log.logBytes;
  return {
    ok,
    text:
      `Reading ${BLOB_KIB} KiB back: read data in the log ${fmtBytes(log.logBytes)} of log (${fmtBits(bps(log))}); ` +
      `backup reads ${fmtBytes(bak.logBytes)} of log (${fmtBits(bps(bak))}): ${ratioText(phaseMeasurement(log), phaseMeasurement(bak))} less log bandwidth, ` +
      `${bak.reads.byBackup} reads done by the backup itself.`,
  };
}
