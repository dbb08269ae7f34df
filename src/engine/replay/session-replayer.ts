// Replays a session recording (src/engine/recording.ts) in its own engine, never a live
// host's: the timeline's "where you are looking" clock. Seeking forward replays on; seeking
// backward restarts a fresh engine from the nearest restart point and replays forward.
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
import type { RecordingMark, ReplaySummary, ReplayView } from "./types.ts";

/** Serial input frames closer than this join one mark (a typed line arrives key by key). */
const INPUT_JOIN_FRAMES = 200;
/** The replay runs in slices of this many ms, each followed by an equal rest (see seekNow). */
const SLICE_MS = 40;

export class SessionReplayer {
  private engine: LockstepEngine | null = null;
  private broken = false;
  private readonly frames: FrameLog[];
  /** Restart point frame → snapshot to restore (null: boot from the images). */
  private readonly restart = new Map<number, Uint8Array | null>();
  private console = new Uint8Array(4096);
  private readonly consoleBase: number;
  private readonly checkpoints = new Map<number, CheckpointInfo>();
  private divergence: DivergenceReport | null = null;
  private furthest: number;
  private seekGen = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly wasm: WebAssembly.Module,
    private readonly images: GuestImages,
    readonly rec: Recording,
    private readonly progress: (frame: number) => void = () => {},
  ) {
    this.frames = rec.batches.flatMap((b) => decodeBatch(b));
    this.restart.set(rec.meta.start.frame, rec.snapshot);
    this.consoleBase = rec.snapshot ? decodeSnapshot(rec.snapshot).meta.consoleOffset : 0;
    this.furthest = rec.meta.start.frame;
  }

  summary(fileBytes: number): ReplaySummary {
    const marks: RecordingMark[] = [];
    let lastInput = -Infinity;
    const dec = new TextDecoder("latin1");
    for (const f of this.frames) {
      for (const e of f.entries) {
        if (e.k === "serial") {
          const text = dec.decode(e.bytes);
          const prev = marks[marks.length - 1];
          if (prev?.kind === "input" && f.frame - lastInput <= INPUT_JOIN_FRAMES) prev.text += text;
          else marks.push({ frame: f.frame, kind: "input", text });
          lastInput = f.frame;
        } else if (e.k === "clone") {
          marks.push({ frame: f.frame, kind: "clone", text: `FT VMotion clone ${e.id}` });
        }
      }
    }
    return {
      meta: this.rec.meta,
      fileBytes,
      logBytes: this.rec.batches.reduce((a, b) => a + b.length, 0),
      recordedCheckpoints: this.rec.checkpoints,
      marks,
    };
  }

  /** Replays to the boundary before `target`; a newer seek supersedes one still running. */
  seek(target: number): Promise<ReplayView> {
    const gen = ++this.seekGen;
    const run = this.queue.then(() => this.seekNow(target, gen));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async seekNow(target: number, gen: number): Promise<ReplayView> {
    const t0 = realNow();
    const { start, end } = this.rec.meta;
    target = Math.max(start.frame, Math.min(end.frame, Math.floor(target)));
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
    return {
      position: e.position(),
      guestMs: e.nowMs(),
      console: new TextDecoder("latin1").decode(this.console.subarray(0, Math.max(0, e.consoleBytes - this.consoleBase))),
      consoleBefore: this.consoleBase,
      stateHash: e.stateHash(),
      replayedCheckpoints: [...this.checkpoints.values()].sort((a, b) => a.frame - b.frame),
      furthest: this.furthest,
      restartPoints: [...this.restart.keys()].sort((a, b) => a - b),
      divergence: this.divergence,
      seekMs: realNow() - t0,
    };
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
      onCheckpoint: (c) => this.checkpoints.set(c.frame, { ...c }),
    });
    engine.pushFrames(this.frames.slice(from - this.rec.meta.start.frame));
    // Backup-reads sessions: the data the guest read, which the log itself does not carry.
    for (const d of this.rec.readData) engine.provideRead(d.id, d.data);
    this.engine = engine;
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
