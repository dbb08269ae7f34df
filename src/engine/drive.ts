// Async loops that drive an engine: pacing, yielding to the event loop (so disk promises and
// host messages run), console watching and typed workloads. No DOM or Node APIs.

import { realNow } from "./clock.ts";
import type { LockstepEngine, OutputChunk } from "./engine.ts";

/**
 * Yields to the event loop (so timers, messages and I/O callbacks run) without setTimeout's
 * ~1 ms (Node) / 4 ms (nested, browsers) clamp: setImmediate where it exists, else a
 * MessageChannel round trip.
 */
export function macrotask(): Promise<void> {
  const si = (globalThis as { setImmediate?: (f: () => void) => void }).setImmediate;
  if (si) return new Promise<void>((r) => si(r));
  return new Promise<void>((r) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      r();
    };
    ch.port2.postMessage(0);
  });
}

/** Accumulates an engine's console output (and keeps the chunks with their positions). */
export class ConsoleLog {
  text = "";
  readonly chunks: OutputChunk[] = [];
  private readonly decoder = new TextDecoder("latin1");

  pull(e: LockstepEngine): void {
    for (const c of e.takeOutput()) {
      this.chunks.push(c);
      this.text += this.decoder.decode(c.bytes);
    }
  }

  bytes(): Uint8Array {
    const n = this.chunks.reduce((a, c) => a + c.bytes.length, 0);
    const out = new Uint8Array(n);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c.bytes, o);
      o += c.bytes.length;
    }
    return out;
  }
}

export interface RecordLoopOptions {
  /** Give up (throw) after this many real ms. */
  timeoutMs?: number;
  /** Called after every frame (collect log batches, output, stats). */
  onFrame?: () => void;
  /** Yield to the event loop at least this often (real ms). */
  yieldEveryMs?: number;
}

/** Record mode: runs paced frames until stop() is true. */
export async function recordUntil(e: LockstepEngine, stop: () => boolean, opts: RecordLoopOptions = {}): Promise<void> {
  const timeout = opts.timeoutMs ?? 600_000;
  const yieldEvery = opts.yieldEveryMs ?? 8;
  const deadline = realNow() + timeout;
  let lastYield = realNow();
  while (!stop()) {
    const now = realNow();
    if (now > deadline) throw new Error(`recordUntil: timed out after ${timeout} ms at frame ${e.frame}`);
    const d = e.nextFrameDelay();
    if (d > 0) {
      await e.waitForWork(Math.min(d, deadline - now));
      lastYield = realNow();
      if (e.nextFrameDelay() > 0) continue;
    } else if (now - lastYield > yieldEvery) {
      await macrotask();
      lastYield = realNow();
    } else if (e.pendingIo().length > 0) {
      await Promise.resolve();
    }
    e.runFrame();
    opts.onFrame?.();
  }
}

/** Record mode: runs for `ms` of real time. */
export function recordFor(e: LockstepEngine, ms: number, opts: RecordLoopOptions = {}): Promise<void> {
  const end = realNow() + ms;
  return recordUntil(e, () => realNow() >= end, opts);
}

/** Replay mode: replays every frame in the backlog (following clone markers). */
export async function replayBacklog(e: LockstepEngine, onFrame?: () => void, yieldEveryMs = 50): Promise<void> {
  let lastYield = realNow();
  while (e.backlog > 0) {
    if (e.cloneAhead) await e.followClone();
    e.runFrame();
    onFrame?.();
    if (realNow() - lastYield > yieldEveryMs) {
      await macrotask();
      lastYield = realNow();
    }
  }
}

export interface WorkloadLine {
  delayMs: number;
  text: string;
}

/**
 * Parses a workload file: one console input per line, optionally prefixed by a delay
 * (`@500ms kv set a b`, `@2s sleep 1`). Blank lines and lines starting with '#' are skipped.
 */
export function parseWorkload(src: string): WorkloadLine[] {
  const out: WorkloadLine[] = [];
  for (const raw of src.split(/\r?\n/)) {
    const line = raw.replace(/\s+$/, "");
    if (line.trim() === "" || line.trimStart().startsWith("#")) continue;
    const m = /^@(\d+(?:\.\d+)?)(ms|s)\s+(.*)$/.exec(line);
    if (m) out.push({ delayMs: Number(m[1]) * (m[2] === "s" ? 1000 : 1), text: m[3] });
    else out.push({ delayMs: 0, text: line });
  }
  return out;
}

/**
 * Types each workload line into a recorder, after its delay, once the previous command has
 * printed the prompt again. `afterLine` runs between lines (e.g. to take a clone mid-run).
 */
export async function runWorkload(
  e: LockstepEngine,
  con: ConsoleLog,
  lines: WorkloadLine[],
  prompt: string,
  opts: RecordLoopOptions & { perLineTimeoutMs?: number; afterLine?: (i: number) => Promise<void> } = {},
): Promise<void> {
  const onFrame = () => {
    con.pull(e);
    opts.onFrame?.();
  };
  for (let i = 0; i < lines.length; i++) {
    const { delayMs, text } = lines[i];
    if (delayMs > 0) await recordFor(e, delayMs, { ...opts, onFrame });
    const from = con.text.length;
    e.sendSerial(text + "\n");
    await recordUntil(e, () => con.text.indexOf(prompt, from) >= 0, {
      ...opts,
      onFrame,
      timeoutMs: opts.perLineTimeoutMs ?? 120_000,
    });
    if (opts.afterLine) await opts.afterLine(i);
  }
}
