// Listening to an engine: `engine.observe({...})` subscribes to what it produces, so a session
// recorder (recording.ts) or a meter follows the engine instead of being fed by its driver.
// Observers run inside engine calls: they must be quick and must not throw (a throw would
// surface from runFrame / pushFrames after the engine's own state was already updated).

import type { FrameLog } from "../ft/log/entries.ts";
import type { CheckpointInfo } from "./checkpoints.ts";

export interface EngineObserver {
  /**
   * This VM's log, in order and continuous from where the engine started: each frame the
   * recorder ran (once it is complete), and each batch of frames a replayer accepted for replay
   * (pushFrames / pushBatch, possibly ahead of replaying them). Across go-live it continues
   * seamlessly: the first recorded frame follows the last replayed one.
   */
  frames?(frames: readonly FrameLog[]): void;
  /** Every checkpoint the engine computes (recorder: logged; replayer: the one it checked), after its frame. */
  checkpoint?(c: CheckpointInfo): void;
  /**
   * Backup-reads sessions: disk read data the log does not carry (a replay of the session needs
   * it). Recorder: what its disk returned for a `disk-read-by-backup` entry, when it logs it;
   * replayer: what the host read itself (provideRead).
   */
  readData?(id: number, data: Uint8Array): void;
}

export class Observers {
  private list: EngineObserver[] = [];

  add(o: EngineObserver): () => void {
    this.list = [...this.list, o];
    return () => {
      this.list = this.list.filter((x) => x !== o);
    };
  }

  frames(frames: readonly FrameLog[]): void {
    for (const o of this.list) o.frames?.(frames);
  }

  checkpoint(c: CheckpointInfo): void {
    for (const o of this.list) o.checkpoint?.(c);
  }

  readData(id: number, data: Uint8Array): void {
    for (const o of this.list) o.readData?.(id, data);
  }
}
