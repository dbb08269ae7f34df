import type { FrameLog } from "../../ft/log/entries.ts";

/**
 * The points of interest on the timeline's track, read from a recording's log: one mark per
 * line typed into the client (at its first key), one per terminal reply (the client's terminal
 * answering the guest's cursor query: input in the log, but not something the student typed),
 * one per FT VMotion clone point. A typed line arrives key by key: its keys join until the line
 * ends (Enter, Ctrl-C), however many frames apart; a new line is a new mark, however close.
 */
export interface TrackMark {
  frame: number;
  kind: "input" | "reply" | "clone";
  text: string;
}

/** Terminal answers: cursor position (CSI r;c R), device attributes/status (CSI … c, CSI … n), OSC answers. */
const REPLY = /^(?:\x1b\[[0-9;?>]*[Rcn]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\))/;
const LINE_END = new Set(["\r", "\n", "\x03", "\x04"]);

export function recordingMarks(frames: Iterable<FrameLog>): TrackMark[] {
  const marks: TrackMark[] = [];
  const dec = new TextDecoder("latin1");
  let open: TrackMark | null = null;
  for (const f of frames) {
    for (const e of f.entries) {
      if (e.k === "clone") {
        marks.push({ frame: f.frame, kind: "clone", text: `FT VMotion clone ${e.id}` });
        continue;
      }
      if (e.k !== "serial") continue;
      const text = dec.decode(e.bytes);
      for (let i = 0; i < text.length; ) {
        const reply = REPLY.exec(text.slice(i));
        if (reply) {
          const last = marks[marks.length - 1];
          if (last?.kind === "reply" && last.frame === f.frame) last.text += reply[0];
          else marks.push({ frame: f.frame, kind: "reply", text: reply[0] });
          i += reply[0].length;
          continue;
        }
        const ch = text[i]!;
        // "\r\n" ends one line, not two.
        const end = LINE_END.has(ch) ? (ch === "\r" && text[i + 1] === "\n" ? "\r\n" : ch) : null;
        if (!open) {
          open = { frame: f.frame, kind: "input", text: "" };
          marks.push(open);
        }
        open.text += end ?? ch;
        i += end?.length ?? 1;
        if (end) open = null;
      }
    }
  }
  return marks;
}

/** A round track length of at least `frames`: 1, 2 or 5 × 10^k, so the scale changes rarely and in steps. */
export function niceSpan(frames: number): number {
  const n = Math.max(1, Math.ceil(frames));
  const p = 10 ** Math.floor(Math.log10(n));
  return [1, 2, 5, 10].map((m) => m * p).find((v) => v >= n)!;
}
