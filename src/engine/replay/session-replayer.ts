// Replays a session recording (src/engine/recording.ts) in its own engine, never a live
// host's: the timeline's "where you are looking" clock. Seeking forward replays on. Seeking
// backward to a boundary already passed is answered from the frame index (frame-index.ts): the
// position, guest time and console there, at once. An exact backward seek (the full state hash
// at the cursor) restarts a fresh engine from the nearest restart point and replays forward.
//
// Restart points are the recording's start and every FT VMotion clone point in it, not arbitrary
// positions: at those points the recording host itself continued from a fresh machine restored
// from the snapshot, so a replay restored there meets the same hidden state (empty JIT cache,
// TLBs). A snapshot taken anywhere else would restore into a machine whose JIT cache is empty
// where the recorder's was warm; its JIT installs and frame lengths would stop matching the log
// and the replayer's checks would report a divergence (docs/engine-notes.md, "Clone"). Replay itself
// is fast (idle frames cost little), so going back means re-running from the nearest such point.

import { decodeBatch } from "../../ft/log/codec.ts";
import type { FrameLog } from "../../ft/log/entries.ts";
import { realNow } from "../clock.ts";
import { DivergenceError, LockstepEngine, type CheckpointInfo, type DivergenceReport } from "../engine.ts";
import type { GuestImages } from "../machine.ts";
import type { Recording } from "../recording.ts";
import { decodeSnapshot } from "../snapshot.ts";
import type { ReplaySummary, ReplayView } from "./types.ts";
import { FrameIndex, type Boundary } from "./frame-index.ts";

/** The replay runs in slices of this many ms, each followed by an equal rest (see seekNow). */
const SLICE_MS = 40;

export class SessionReplayer {
  private engine: LockstepEngine | null = null;
  private broken = false;
  private readonly frames: FrameLog[];
  /** Restart point frame → snapshot to restore (null: boot from the images). */
  private readonly restart = new Map<number, Uint8Array | null>();
  private console = new Uint8Array(4096);
  /** Console bytes before the start (the snapshot's offset) and what of them the recording holds. */
  private readonly consoleBase: number;
  private readonly consolePrefix: string;
  private readonly checkpoints = new Map<number, CheckpointInfo>();
  private divergence: DivergenceReport | null = null;
  private furthest: number;
  private seekGen = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly index: FrameIndex;

  constructor(
    private readonly wasm: WebAssembly.Module,
    private readonly images: GuestImages,
    readonly rec: Recording,
    private readonly progress: (frame: number) => void = () => {},
  ) {
    this.frames = rec.batches.flatMap((b) => decodeBatch(b));
    this.restart.set(rec.meta.start.frame, rec.snapshot);
    this.consoleBase = rec.snapshot ? decodeSnapshot(rec.snapshot).meta.consoleOffset : 0;
    // A prefix that does not end exactly at the snapshot's offset is not this run's: ignore it.
    this.consolePrefix = rec.meta.consolePrefix?.length === this.consoleBase ? rec.meta.consolePrefix : "";
    this.furthest = rec.meta.start.frame;
    this.index = new FrameIndex(rec.meta.start.frame);
  }

  summary(fileBytes: number): ReplaySummary {
    return {
      meta: this.rec.meta,
      fileBytes,
      logBytes: this.rec.batches.reduce((a, b) => a + b.length, 0),
      recordedCheckpoints: this.rec.checkpoints,
    };
  }

  /**
   * Replays to the boundary before `target`; a newer seek supersedes one still running. A
   * boundary behind the engine that a replay already passed is recalled from the index (no state
   * hash unless one was computed there) unless `exact`, which replays there again.
   */
  seek(target: number, exact = false): Promise<ReplayView> {
    const gen = ++this.seekGen;
    const run = this.queue.then(() => this.seekNow(target, gen, exact));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async seekNow(target: number, gen: number, exact: boolean): Promise<ReplayView> {
    const t0 = realNow();
    const { start, end } = this.rec.meta;
    target = Math.max(start.frame, Math.min(end.frame, Math.floor(target)));
    const known = !exact && !this.broken && this.engine && target < this.engine.frame ? this.index.get(target) : null;
    if (known) return this.view(known, this.index.hash(target), true, t0);
    if (!this.engine || this.broken || this.engine.frame > target) await this.restartBefore(target);
    const e = this.engine!;
    let last = realNow();
    while (e.frame < target && !this.broken && gen === this.seekGen) {
      try {
        if (e.cloneAhead) {
          const c = await e.followClone();
          this.restart.set(c.frame, c.snapshot);
        }
        e.runFrame();
      } catch (err) {
        if (!(err instanceof DivergenceError)) throw err;
        this.divergence ??= err.report;
        this.broken = true;
      }
      this.pullConsole(e);
      this.noteBoundary(e);
      this.furthest = Math.max(this.furthest, e.frame);
      const ran = realNow() - last;
      if (ran > SLICE_MS) {
        this.progress(e.frame);
        // Half duty: the live hosts share these cores, and a host starved past the failure
        // timeout (2 s) would be declared dead. Scrubbing must never cost the live run a failover.
        await new Promise((r) => setTimeout(r, ran));
        last = realNow();
      }
    }
    const hash = e.stateHash();
    this.index.setHash(e.frame, hash);
    return this.view({ frame: e.frame, icount: e.position().icount, guestMs: e.nowMs(), consoleBytes: e.consoleBytes }, hash, false, t0);
  }

  private view(b: Boundary, stateHash: string | null, recalled: boolean, t0: number): ReplayView {
    return {
      position: { frame: b.frame, icount: b.icount },
      guestMs: b.guestMs,
      console: this.consolePrefix + new TextDecoder("latin1").decode(this.console.subarray(0, Math.max(0, b.consoleBytes - this.consoleBase))),
      consoleBefore: this.consoleBase - this.consolePrefix.length,
      stateHash,
      recalled,
      replayedCheckpoints: [...this.checkpoints.values()].sort((a, b) => a.frame - b.frame),
      furthest: this.furthest,
      restartPoints: [...this.restart.keys()].sort((a, b) => a - b),
      divergence: this.divergence,
      seekMs: realNow() - t0,
    };
  }

  private noteBoundary(e: LockstepEngine): void {
    this.index.note({ frame: e.frame, icount: e.position().icount, guestMs: e.nowMs(), consoleBytes: e.consoleBytes });
  }

  private async restartBefore(target: number): Promise<void> {
    const from = Math.max(...[...this.restart.keys()].filter((f) => f <= target));
    this.engine?.destroy();
    this.engine = null;
    const engine = await LockstepEngine.create({
      mode: "replay",
      wasm: this.wasm,
      images: this.images,
      session: this.rec.meta.session,
      snapshot: this.restart.get(from) ?? undefined,
      bootImage: from === this.rec.meta.start.frame && this.rec.meta.origin === "image",
      onCheckpoint: (c) => this.checkpoints.set(c.frame, { ...c }),
    });
    engine.pushFrames(this.frames.slice(from - this.rec.meta.start.frame));
    // Backup-reads sessions: the data the guest read, which the log itself does not carry.
    for (const d of this.rec.readData) engine.provideRead(d.id, d.data);
    this.engine = engine;
    this.noteBoundary(engine);
    this.broken = false;
  }

  private pullConsole(e: LockstepEngine): void {
    // Packets the replayed guest transmits go nowhere (the log checks them): do not let them pile up.
    e.takePackets();
    for (const c of e.takeOutput()) {
      const at = c.offset - this.consoleBase;
      const need = at + c.bytes.length;
      if (need > this.console.length) {
        const grown = new Uint8Array(Math.max(need, this.console.length * 2));
        grown.set(this.console);
        this.console = grown;
      }
      this.console.set(c.bytes, at);
    }
  }

  destroy(): void {
    this.seekGen++;
    this.engine?.destroy();
    this.engine = null;
  }
}
