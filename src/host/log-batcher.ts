import { encodeBatch } from "../ft/log/codec.ts";
import type { FrameLog } from "../ft/log/entries.ts";
import type { FtEvent, ProducedEntry } from "../ft/protocol/index.ts";
import type { HostEngine } from "./engine-port.ts";
import type { FrameEffects } from "./frame-effects.ts";
import { pos, type HostContext } from "./host-context.ts";
import { encodeEnvelope, type EnvelopeItem } from "./log-envelope.ts";
import type { ReadCounters } from "./status.ts";

/**
 * The primary's log: frames recorded but not yet handed to the agent, sent as one log entry per
 * batch (plus one per completion that waits for disk work the backup does itself), and the
 * order in which a batch reaches the protocol:
 *
 *   logEntriesProduced (the batch) → the events of its frames (inputs applied, outputs, disk
 *   requests and completions, in frame order) → frameDone (the boundary after the batch).
 *
 * The log entries come first so that an output enters the Output Rule only once the entries of
 * the frame that produced it are in the log: whatever acknowledgement releases it (a frame-end
 * at or after its position) then necessarily covers them.
 */
export class LogBatcher {
  private frames: FrameLog[] = [];
  private items: EnvelopeItem[] = [];
  private since = 0;
  private urgent = false;
  private injected: number[] = [];
  /** Events of the frames in the batch, fed after its log entries. */
  private events: FtEvent[] = [];
  /** Backup-reads mode: the hash of each read's data, logged for the backup to check its own read against. */
  private readonly readHashes = new Map<number, number>();

  constructor(
    private readonly ctx: HostContext,
    private readonly effects: FrameEffects,
    private readonly reads: ReadCounters,
  ) {}

  /** Client input `seq` was handed to the engine: it enters the guest at the next frame. */
  inputInjected(seq: number): void {
    this.injected.push(seq);
  }

  readHash(ioId: number, hash: number): void {
    this.readHashes.set(ioId, hash);
  }

  /** Runs one frame and queues its log and events for the next batch. */
  recordFrame(engine: HostEngine): void {
    const seqs = this.injected;
    this.injected = [];
    const res = engine.runFrame();
    if (this.frames.length === 0) this.since = this.ctx.scheduler.now();
    for (const seq of seqs) {
      this.items.push({ k: "input", seq, frame: res.frame });
      // The input entered at the frame's start, but it is logged in the batch holding this frame:
      // name the boundary after the frame, or the previous batch's frame-end (the same boundary as
      // this frame's start) would release the input-ack before the backup has the input.
      this.events.push({ type: "inputApplied", position: pos(res.frame + 1, res.startIcount + res.length), seq });
    }
    this.takeFrames(engine);
  }

  /** Frames the engine ran on its own (a clone's quiesce) join the batch. */
  takeFrames(engine: HostEngine): void {
    this.frames.push(...engine.takeFrames());
    if (this.effects.take(engine, (ev) => this.events.push(ev))) this.urgent = true;
  }

  /** An output or a disk request waits, the batch is full, or it is old enough. */
  get due(): boolean {
    const t = this.ctx.timing;
    return this.urgent || this.frames.length >= t.batchMaxFrames || this.ctx.scheduler.now() - this.since >= t.batchMaxMs;
  }

  flush(engine: HostEngine): void {
    this.urgent = false;
    const events = this.events;
    this.events = [];
    if (this.frames.length === 0) {
      for (const ev of events) this.ctx.feed(ev);
      return;
    }
    const frames = this.frames;
    this.frames = [];
    const bytes = encodeBatch(frames);
    const items = [...this.items, { k: "batch" as const, bytes }];
    this.items = [];
    const first = frames[0]!;
    const last = frames[frames.length - 1]!;
    const next = { frame: last.frame + 1, icount: last.startIcount + last.length };
    const entries: ProducedEntry[] = [{ position: pos(first.frame, first.startIcount), bytes: encodeEnvelope(items) }];
    // Completions that wait for disk work the backup does itself: one entry each naming the I/O
    // (the protocol holds the frame until that work is done). Reads the backup performs itself
    // (paper 4.2) carry the hash its read must match; with a non-shared disk (paper 4.1) a
    // write's completion waits until the backup's own copy of the write has landed.
    const ownWrites = this.ctx.ports.ft.diskMode === "non-shared";
    for (const f of frames) {
      for (const e of f.entries) {
        if (e.k === "disk-read") {
          this.reads.inLog++;
          this.reads.inLogBytes += e.data.length;
        } else if (e.k === "disk-read-cached") this.reads.cached++;
        if (e.k === "io-done" && ownWrites) {
          entries.push({ position: pos(f.frame, f.startIcount), bytes: encodeEnvelope([]), io: { ioId: e.id } });
        }
        if (e.k !== "disk-read-by-backup") continue;
        this.reads.byBackup++;
        const hash = this.readHashes.get(e.id);
        this.readHashes.delete(e.id);
        entries.push({ position: pos(f.frame, f.startIcount), bytes: encodeEnvelope([]), io: { ioId: e.id, hash } });
      }
    }
    this.ctx.feed({ type: "logEntriesProduced", entries });
    for (const ev of events) this.ctx.feed(ev);
    // A frame-end position names the boundary after the batch: where the next frame starts.
    this.ctx.feed({ type: "frameDone", position: pos(next.frame, next.icount), guestTime: engine.nowMs() });
  }
}
