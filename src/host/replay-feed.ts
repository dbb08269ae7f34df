import { decodeBatch } from "../ft/log/codec.ts";
import type { FrameLog } from "../ft/log/entries.ts";
import type { FtAction, Position } from "../ft/protocol/index.ts";
import type { HostEngine } from "./engine-port.ts";
import type { FrameEffects } from "./frame-effects.ts";
import { pos, type HostContext } from "./host-context.ts";
import { decodeEnvelope } from "./log-envelope.ts";

type ReplayRecords = Extract<FtAction, { type: "replay" }>["records"];

/**
 * The backup's side of the log: complete frames the agent released for replay go to the engine
 * (or wait while a clone is being restored), and every replayed frame is reported back in the
 * same order as on the primary: inputs applied, outputs and disk activity, then frameDone.
 */
export class ReplayFeed {
  private frameEnds: { position: Position; guestTime: number }[] = [];
  private inputMarkers = new Map<number, number[]>();
  /** Batches that arrived while the engine does not exist yet (a clone being restored). */
  private waiting: Uint8Array[] = [];
  /** Set while an engine is being restored from a clone: batches wait in `waiting`. */
  restoring = false;
  /** The primary's guest time at its last frame-end we received (the status's lag). */
  lastPrimaryGuestTime = 0;
  /** The last frame whose checkpoint the engine computed, and the last one verified by replaying past it. */
  lastCheckpointFrame = 0;
  verifiedFrame = 0;

  constructor(
    private readonly ctx: HostContext,
    private readonly effects: FrameEffects,
  ) {}

  /** The agent's `replay` action. */
  onReplay(records: ReplayRecords): void {
    const engine = this.ctx.engine;
    for (const r of records) {
      if (r.kind === "entry") {
        for (const item of decodeEnvelope(r.bytes)) {
          if (item.k === "batch") {
            const frames = decodeBatch(item.bytes);
            if (engine && !this.restoring) engine.pushFrames(frames);
            else this.waiting.push(item.bytes);
          } else {
            const list = this.inputMarkers.get(item.frame) ?? [];
            list.push(item.seq);
            this.inputMarkers.set(item.frame, list);
          }
        }
      } else if (r.kind === "frame-end") {
        this.frameEnds.push({ position: r.position, guestTime: r.guestTime });
        this.lastPrimaryGuestTime = r.guestTime;
      }
    }
    this.ctx.wake();
  }

  /** A restored engine takes the batches that arrived during its restore. */
  restored(engine: HostEngine): void {
    for (const b of this.waiting.splice(0)) engine.pushBatch(b);
    this.restoring = false;
  }

  /** Replays frames for at most one slice; a frame that diverges throws. */
  slice(engine: HostEngine): void {
    const start = this.ctx.scheduler.now();
    while (engine.backlog > 0 && this.ctx.scheduler.now() - start < this.ctx.timing.sliceMs && !this.ctx.stopped) {
      if (engine.cloneAhead) {
        this.ctx.stalledSince(start, "replay");
        this.ctx.doing("clone-follow");
        void engine.followClone().finally(() => this.ctx.doing(null));
        return;
      }
      const res = engine.runFrame();
      // runFrame throws on a mismatch, so a checkpoint it computed and returned from is verified.
      this.verifiedFrame = this.lastCheckpointFrame;
      for (const seq of this.inputMarkers.get(res.frame) ?? []) {
        this.ctx.feed({ type: "inputApplied", position: pos(res.frame + 1, res.startIcount + res.length), seq });
      }
      this.inputMarkers.delete(res.frame);
      this.effects.take(engine, (ev) => this.ctx.feed(ev));
      while (this.frameEnds.length > 0 && this.frameEnds[0]!.position.frame <= res.frame + 1) {
        const end = this.frameEnds.shift()!;
        this.ctx.feed({ type: "frameDone", position: end.position, guestTime: end.guestTime });
      }
    }
    this.ctx.stalledSince(start, "replay");
  }
}
