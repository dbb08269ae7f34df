// How an engine is created (LockstepEngine.create).

import type { BlockDevice } from "./block-device.ts";
import type { CheckpointInfo } from "./checkpoints.ts";
import type { ExternalIo } from "./disk-requests.ts";
import type { GuestImages } from "./machine.ts";
import type { SessionInfo } from "./session.ts";

export type EngineMode = "record" | "replay";

export interface EngineOptions {
  mode: EngineMode;
  /** v86.wasm, compiled once by the host (WebAssembly.compile) and shared by all machines. */
  wasm: WebAssembly.Module;
  images: GuestImages;
  session: SessionInfo;
  /** The data disk (record mode). Replay never touches a disk: read data comes from the log. */
  disk?: BlockDevice;
  /** Start from this snapshot (encoded) instead of booting. */
  snapshot?: Uint8Array;
  /**
   * The snapshot is the guest's boot image (boot-image.ts), which both sides of a pair restore on
   * their own: a replayer expects no clone marker before its first frame.
   */
  bootImage?: boolean;
  /** Real monotonic ms (record mode pacing). Defaults to the unshimmed performance.now. */
  realNow?: () => number;
  /** Record: resync the virtual clock when it lags real time by more than this (ms). */
  maxLagMs?: number;
  /** Record: sleep when the virtual clock leads real time by more than this (ms). */
  maxLeadMs?: number;
  /**
   * Record: a frame running longer than this (real ms) is cut short after its current
   * instruction chunk (a `cut` entry; machine.ts says how). Default 10; null: never cut.
   */
  frameBudgetMs?: number | null;
  /**
   * FT hosts: the host performs disk I/O itself (the Output Rule holds writes, storage is fenced),
   * so the engine only reports requests and completions, in both modes, and record-mode
   * completions come back through complete(). Replaces `disk`.
   */
  external?: ExternalIo;
  /**
   * Record: RDRAND's source (a uint32 per call); default the platform's cryptographic random numbers.
   * A seeded one makes a record run reproducible (the boot image build); the log carries the values either way.
   */
  entropy?: () => number;
  /** Called with every checkpoint this engine computes (the same as observe({ checkpoint })). */
  onCheckpoint?: (c: CheckpointInfo) => void;
}

export function checkOptions(opts: EngineOptions): void {
  if (opts.mode === "record" && !opts.disk && !opts.external && opts.images.diskSize > 0) {
    throw new Error("record mode needs a disk (BlockDevice) when images.diskSize > 0");
  }
  if (opts.disk && opts.disk.sizeBytes !== opts.images.diskSize) {
    throw new Error(`disk is ${opts.disk.sizeBytes} bytes, images.diskSize says ${opts.images.diskSize}`);
  }
}

/** A snapshot restores only into an engine whose session shapes the guest the same way. */
export function checkSnapshotSession(s: SessionInfo, mine: SessionInfo): void {
  for (const k of ["epochMs", "ipms", "checkpointEvery", "checkpointMs", "ramSliceBytes", "jit", "diskCacheBytes", "diskReads", "haltClock"] as const) {
    if (s[k] !== mine[k]) throw new Error(`snapshot session ${k}=${String(s[k])} differs from engine session ${String(mine[k])}`);
  }
}
