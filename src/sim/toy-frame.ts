import type { LogEntry } from "../ft/log/entries.ts";
import type { Position } from "../ft/protocol/types.ts";
import type { ToyEngine } from "./toy-engine.ts";
import type { StartEvent, VmEffects } from "./toy-vm.ts";

/** Input bytes as the toy guest reads them: the client types `k<seq>` (see world.ts). */
const INPUT_TOKEN = /k(\d+)/g;

/**
 * The guest's effects during one frame: console bytes collected, inputs and disk requests noted.
 * A class rather than an object of arrow functions: one is made per frame, and the simulator runs
 * under tsx, whose keep-names transform would name each arrow (a property definition) per frame.
 */
export class FrameEffects implements VmEffects {
  private readonly frame: number;

  constructor(
    private readonly engine: ToyEngine,
    private readonly out: number[],
    private readonly packets: Uint8Array[],
    private readonly start: number,
    private readonly draw: (at: number) => number,
  ) {
    this.frame = engine.vm.frame;
  }

  inputApplied(_p: unknown, seq: number): void {
    this.engine.inputFrame.set(seq, this.frame);
  }

  ioCompleted(): void {}

  nd(p: Position): number {
    return this.draw(Number(p.icount) - this.start);
  }

  console(_p: unknown, bytes: Uint8Array): void {
    for (const b of bytes) this.out.push(b);
  }

  diskWrite(_p: unknown, ioId: number, block: number, data: Uint8Array): void {
    this.engine.issued(this.frame, ioId, "write", block, data);
  }

  diskRead(_p: unknown, ioId: number, block: number): void {
    this.engine.issued(this.frame, ioId, "read", block);
  }

  packet(_p: unknown, bytes: Uint8Array): void {
    this.packets.push(bytes);
  }
}

/** The same output or checkpoint (what endKey prints, without the strings: one check per replayed frame). */
export function sameEnd(a: LogEntry, b: LogEntry): boolean {
  if (a.k === "output") return b.k === "output" && a.end === b.end && a.crc === b.crc;
  if (a.k === "net-transmit") return b.k === "net-transmit" && a.end === b.end && a.crc === b.crc;
  if (a.k === "checkpoint") return b.k === "checkpoint" && a.cpu === b.cpu && a.ram === b.ram;
  return a.k === b.k;
}

export function endKey(e: LogEntry): string {
  if (e.k === "output") return `output:${e.end}:${e.crc}`;
  if (e.k === "net-transmit") return `net-transmit:${e.end}:${e.crc}`;
  if (e.k === "checkpoint") return `checkpoint:${e.cpu}:${e.ram}`;
  return e.k;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** The toy guest's input events for serial bytes: one per `k<seq>` token typed by the client. */
export function inputs(bytes: Uint8Array): StartEvent[] {
  const text = decoder.decode(bytes);
  return [...text.matchAll(INPUT_TOKEN)].map((m) => ({ k: "input" as const, seq: Number(m[1]), bytes: encoder.encode(m[0]) }));
}

export function divergence(frame: number, what: string, expected: string, actual: string): Error {
  return new Error(`replay diverged at frame ${frame}: ${what}: expected ${expected}, got ${actual}`);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
