import { BOUNDARY_KINDS, END_KINDS, entryIcount, type FrameLog, type LogEntry } from "../../ft/log/entries.ts";

/**
 * A recording's log entries as the timeline's inspector shows them: kind, position (frame and
 * instruction count, paper §2.1: the backup applies each one at the same instruction) and what
 * it carries. Boundary entries apply before their frame runs, RDRAND values during it, outputs and
 * checkpoints are observed after it (src/ft/log/entries.ts).
 */
export interface EntryRow {
  kind: LogEntry["k"];
  label: string;
  frame: number;
  icount: number;
  when: "before the frame" | "during the frame" | "after the frame";
  detail: string;
}

const LABELS: Record<LogEntry["k"], string> = {
  clock: "frame start time",
  serial: "client input",
  "disk-read": "disk read completed (data in the log)",
  "disk-read-cached": "disk read completed (data both sides hold)",
  "disk-read-by-backup": "disk read completed (the backup reads it)",
  "io-done": "disk write completed",
  jit: "JIT code installed",
  clone: "FT VMotion clone point",
  rdrand: "RDRAND value",
  output: "console output",
  "net-receive": "network packet received",
  "net-transmit": "network packets sent (outputs)",
  cut: "frame cut short (the host's real-time budget)",
  checkpoint: "state checkpoint",
};

/** Kinds that are non-deterministic inputs to the guest (what "previous/next input" steps through). */
const INPUT_KINDS: ReadonlySet<LogEntry["k"]> = new Set(["serial", "net-receive", "disk-read", "disk-read-cached", "disk-read-by-backup", "io-done", "rdrand", "clone"]);

const printable = (bytes: Uint8Array) =>
  JSON.stringify(new TextDecoder("latin1").decode(bytes)).slice(1, -1).slice(0, 60);

function detail(e: LogEntry): string {
  switch (e.k) {
    case "clock":
      return `guest time ${(e.us / 1e6).toFixed(3)} s`;
    case "serial":
      return `"${printable(e.bytes)}"`;
    case "disk-read":
      return `read #${e.id}, ${e.data.length.toLocaleString("en-US")} B`;
    case "disk-read-cached":
    case "disk-read-by-backup":
      return `read #${e.id}`;
    case "io-done":
      return `write #${e.id}`;
    case "jit":
      return `table slot ${e.index}`;
    case "clone":
      return `snapshot ${e.id}`;
    case "rdrand":
      return `0x${e.value.toString(16).padStart(8, "0")}, ${e.at.toLocaleString("en-US")} instructions into the frame`;
    case "output":
      return `console up to byte ${e.end.toLocaleString("en-US")}`;
    case "net-receive":
      return `${e.frame.length.toLocaleString("en-US")} B Ethernet frame`;
    case "net-transmit":
      return `packets sent up to #${e.end.toLocaleString("en-US")}`;
    case "cut":
      return "the frame ends here; the backup cuts at the same instruction";
    case "checkpoint":
      return `CPU ${e.cpu.toString(16).padStart(8, "0")}, RAM slice ${e.slice}`;
  }
}

export function frameEntries(f: FrameLog): EntryRow[] {
  return f.entries.map((e) => ({
    kind: e.k,
    label: LABELS[e.k],
    frame: f.frame,
    icount: entryIcount(f, e),
    when: BOUNDARY_KINDS.has(e.k) ? "before the frame" : END_KINDS.has(e.k) ? "after the frame" : "during the frame",
    detail: detail(e),
  }));
}

/** Frames whose log carries an input to the guest, in order (for previous/next input). */
export function inputFrames(frames: readonly FrameLog[]): number[] {
  return frames.filter((f) => f.entries.some((e) => INPUT_KINDS.has(e.k))).map((f) => f.frame);
}

/** The nearest frame in `sorted` after (dir 1) or before (dir −1) `from`, or null. */
export function nearest(sorted: readonly number[], from: number, dir: 1 | -1): number | null {
  if (dir === 1) return sorted.find((f) => f > from) ?? null;
  for (let i = sorted.length - 1; i >= 0; i--) if (sorted[i]! < from) return sorted[i]!;
  return null;
}
