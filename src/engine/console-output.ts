// The guest's console output (ttyS0): bytes collected during a frame become visible at its end,
// as one `output` log entry (end offset + CRC32) that the replayer must reproduce exactly, and as
// chunks the host takes to show or release (Output Rule).

import { crc32 } from "../ft/log/crc32.ts";
import type { OutputEntry } from "../ft/log/entries.ts";
import type { EngineStats } from "./stats.ts";

/** Console bytes the guest wrote, with the position at which they became visible (frame end). */
export interface OutputChunk {
  /** Console offset of bytes[0]. */
  offset: number;
  bytes: Uint8Array;
  frame: number;
  icount: number;
}

export class ConsoleOutput {
  /** Console bytes so far: the offset of the next one (travels in snapshots). */
  offset = 0;
  private frameBytes: number[] = [];
  private chunks: OutputChunk[] = [];

  constructor(private readonly stats: EngineStats) {}

  /** Machine hook: one byte from the UART. */
  byte(b: number): void {
    this.frameBytes.push(b);
  }

  startFrame(): void {
    this.frameBytes = [];
  }

  /** At the end of frame `frame` (instruction count `icount`): its output entry, if it wrote anything. */
  endFrame(frame: number, icount: number): OutputEntry | null {
    if (this.frameBytes.length === 0) return null;
    const bytes = Uint8Array.from(this.frameBytes);
    this.chunks.push({ offset: this.offset, bytes, frame, icount });
    this.offset += bytes.length;
    this.stats.consoleBytes += bytes.length;
    this.frameBytes = [];
    return { k: "output", end: this.offset, crc: crc32(bytes) };
  }

  /** Output since the last call. */
  take(): OutputChunk[] {
    const o = this.chunks;
    this.chunks = [];
    return o;
  }
}
