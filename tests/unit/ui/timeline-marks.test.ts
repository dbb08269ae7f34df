import { describe, expect, it } from "vitest";
import type { FrameLog, LogEntry } from "../../../src/ft/log/entries.ts";
import { niceSpan, recordingMarks } from "../../../src/ui/timeline/marks.ts";

const serial = (text: string): LogEntry => ({ k: "serial", bytes: new TextEncoder().encode(text) });
const frame = (n: number, ...entries: LogEntry[]): FrameLog => ({ frame: n, startIcount: n * 1000, length: 1000, entries });
/** A line typed key by key, one key every `gap` frames from `at`. */
const typed = (at: number, line: string, gap = 3) => [...line].map((ch, i) => frame(at + i * gap, serial(ch)));

describe("timeline marks", () => {
  it("three commands typed within 200 frames are three marks, apart from the terminal's boot-time reply", () => {
    const frames = [frame(40, serial("\x1b[24;80R")), ...typed(50, "kv set a 1\r"), ...typed(90, "kv get a\r"), ...typed(130, "ls\r")];
    const marks = recordingMarks(frames);
    expect(marks).toEqual([
      { frame: 40, kind: "reply", text: "\x1b[24;80R" },
      { frame: 50, kind: "input", text: "kv set a 1\r" },
      { frame: 90, kind: "input", text: "kv get a\r" },
      { frame: 130, kind: "input", text: "ls\r" },
    ]);
  });

  it("a line typed slowly stays one mark at its first key; a reply typed-over stays apart", () => {
    const frames = [...typed(100, "echo hi", 500), frame(4000, serial("\x1b[5;1R")), frame(4100, serial("\r"))];
    expect(recordingMarks(frames)).toEqual([
      { frame: 100, kind: "input", text: "echo hi\r" },
      { frame: 4000, kind: "reply", text: "\x1b[5;1R" },
    ]);
  });

  it("whole lines sent at once (the tours) and clone points", () => {
    const frames = [frame(10, serial("kv set course ft\n")), frame(11, serial("kv get course\r\n")), frame(20, { k: "clone", id: 2, hash: 7 })];
    expect(recordingMarks(frames).map((m) => [m.frame, m.kind, m.text])).toEqual([
      [10, "input", "kv set course ft\n"],
      [11, "input", "kv get course\r\n"],
      [20, "clone", "FT VMotion clone 2"],
    ]);
  });

  it("the track's length grows in round steps, so it does not rescale with every frame", () => {
    expect([0, 1, 3, 10, 11, 199, 201, 4999, 5001, 123_456].map(niceSpan)).toEqual([1, 1, 5, 10, 20, 200, 500, 5000, 10_000, 200_000]);
  });
});
