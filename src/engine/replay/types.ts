import type { CheckpointInfo, DivergenceReport } from "../engine.ts";
import type { RecordingMeta } from "../recording.ts";

/** What the timeline shows about an imported recording before (and while) it is replayed. */
export interface ReplaySummary {
  meta: RecordingMeta;
  fileBytes: number;
  logBytes: number;
  /** Checkpoints the recording host's engine computed (the file's list). */
  recordedCheckpoints: CheckpointInfo[];
}

/** The replay at the cursor ("where you are looking"). */
export interface ReplayView {
  /** The next frame to run: the state shown is the one after frame − 1. */
  position: { frame: number; icount: number };
  guestMs: number;
  /** Console bytes the guest wrote up to the cursor (latin1): from the recording's start, after its known prefix. */
  console: string;
  /** Console bytes written before the recording's start that it does not hold (a clone's), not included. */
  consoleBefore: number;
  /** Hash of CPU state and all of RAM at the cursor; null when recalled where none was computed. */
  stateHash: string | null;
  /** Recalled from the frame index (a boundary a replay passed before), not replayed again. */
  recalled: boolean;
  /** Every checkpoint replayed so far (any pass), by frame. */
  replayedCheckpoints: CheckpointInfo[];
  /** The furthest frame any pass has replayed (and verified) so far. */
  furthest: number;
  /** Frames a backward seek can restart from: the start and every FT VMotion clone point seen. */
  restartPoints: number[];
  divergence: DivergenceReport | null;
  /** Real ms this seek took. */
  seekMs: number;
}

export interface ReplayWorkerApi {
  /** Decodes and checks the file; only then replaces the current recording. Throws with a reason. */
  load(imagesUrl: string, bytes: Uint8Array, progress: (frame: number) => void): Promise<ReplaySummary>;
  /**
   * Replays to the boundary before `frame` (clamped to the recording); a boundary already passed
   * is recalled at once from the frame index, unless `exact` (replay there again for its state hash).
   */
  seek(frame: number, exact?: boolean): Promise<ReplayView>;
}
