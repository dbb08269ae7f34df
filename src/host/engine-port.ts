import type { FrameLog } from "../ft/log/entries.ts";
import type { CheckpointInfo, EngineMode, EngineObserver, FrameResult, OutputChunk, PacketChunk, Pace, DiskRequest } from "../engine/engine.ts";

/**
 * What a host needs from a deterministic engine: LockstepEngine (v86, src/engine) satisfies it
 * structurally, and the simulator's toy engine (src/sim) stands in for it. The host imports only
 * these types; a factory (`EngineFactory`) makes the engines, so no host file names v86.
 */
export interface HostEngine {
  /** record: the primary runs the guest and logs; replay: the backup follows the log. */
  readonly mode: EngineMode;
  /** The guest waits in HLT for its next timer (record): a slice stops there. */
  readonly halted: boolean;
  /** Replay: frames logged but not replayed yet. */
  readonly backlog: number;
  /** Replay: the next frame starts with a clone marker (call followClone first). */
  readonly cloneAhead: boolean;
  /** Bytes of CPU state (what a Remus-style checkpoint ships besides dirty pages). */
  readonly cpuStateBytes: number;

  /** Subscribes to what the engine produces (frames, checkpoints, read data); returns the unsubscribe. */
  observe(o: EngineObserver): () => void;

  /** Where the next frame starts. */
  position(): { frame: number; icount: number };
  /** Guest (virtual) time in ms. */
  nowMs(): number;

  // ---- record (primary)
  /** Real ms to wait before the next frame is due (0: now). Inputs make it due at once. */
  nextFrameDelay(): number;
  /** The guest clock continues from where it stands (after a pause it must not see). */
  rebaseClock(): void;
  setPace(pace: Pace): void;
  /** Runs one frame: recorded (record) or replayed from the log (replay; throws on divergence). */
  runFrame(): FrameResult;
  /** Record: frame logs produced since the last call. */
  takeFrames(): FrameLog[];
  /** Console output since the last call, with the position it became visible at. */
  takeOutput(): OutputChunk[];
  /** Packets the guest transmitted since the last call (both modes), with their positions. */
  takePackets(): PacketChunk[];
  /** A received packet for the NIC, applied (and logged) at the next frame boundary; false: refused (malformed). */
  receivePacket(frame: Uint8Array): boolean;
  /** The VM's NIC MAC address (absent: no network card). */
  mac?(): Uint8Array;
  /** Console input, applied at the next frame boundary. */
  sendSerial(bytes: Uint8Array): void;
  /** The completion of disk request `id` (with read data), applied at the next frame boundary. */
  complete(id: number, data?: Uint8Array): void;
  /** Disk requests issued and not yet seen complete. */
  pendingIo(): DiskRequest[];
  /** Builds what the next clone needs ahead of time (keeps it out of the guest's pause). */
  prewarm(): Promise<void>;
  /** FT VMotion at the current frame boundary: snapshot, then continue from a fresh instance. */
  clone(): Promise<CloneSnapshot>;

  // ---- replay (backup)
  pushFrames(frames: readonly FrameLog[]): void;
  pushBatch(bytes: Uint8Array): void;
  /** Backup-reads mode: data this host read itself for request `id`. */
  provideRead(id: number, data: Uint8Array): void;
  followClone(): Promise<unknown>;
  /** Go-live: leave replay and record from here (every logged frame replayed). */
  promote(): void;

  /** Guest RAM, read at a frame boundary (the Remus meter). */
  guestRam(): Uint8Array;
  destroy(): void;
}

export interface CloneSnapshot {
  snapshot: Uint8Array;
  frame: number;
  icount: number;
  /** Real ms the guest did not run for the clone. */
  pauseMs: number;
}

/** What the engine tells its host while it runs (both modes). */
export interface EngineHooks {
  /** The guest issued a disk request: the host performs it (the Output Rule may hold a write). */
  issued(req: DiskRequest): void;
  /** The guest saw request `id` complete. */
  completed(id: number): void;
  /** A divergence checkpoint the engine computed (logged, or checked against the log). */
  checkpoint(c: CheckpointInfo): void;
}

/** Makes a host's engines. The v86 one lives in v86-engines.ts, the toy one in src/sim. */
export interface EngineFactory {
  /**
   * A machine booting from the guest images, or restored from the boot image: the primary or
   * backup of a pair started together. Its position() and nowMs() say where it starts.
   */
  boot(mode: EngineMode, hooks: EngineHooks): Promise<HostEngine>;
  /** Console bytes the guest printed before a booted machine's first frame (the boot image's transcript); absent: none. */
  readonly bootConsole?: Uint8Array;
  /** A replayer restored from an FT VMotion snapshot (the new backup). */
  restore(snapshot: Uint8Array, hooks: EngineHooks): Promise<HostEngine>;
  /**
   * The session recording of the VM a boot (snapshot null) or a restore starts; null: none kept.
   * `prefix`: the recording that ends where the snapshot starts (FT VMotion), continued if it fits.
   */
  recorder(snapshot: Uint8Array | null, prefix?: Uint8Array | null): HostRecorder | null;
}

export interface LogPosition {
  frame: number;
  icount: number;
}

/**
 * The timeline's session recording (src/engine/recording.ts). It listens to the engine
 * (`engine.observe(recorder)`): every frame the VM ran or accepted for replay, every checkpoint,
 * and the read data a backup-reads log does not carry. Nothing in the host feeds it.
 */
export interface HostRecorder extends EngineObserver {
  /**
   * The recording file as of now. `leaveOutBootImage`: without a start snapshot that is the boot
   * image (for FT VMotion: the new backup has the image, and fills it in).
   */
  encode(wallNowMs: number, opts?: { leaveOutBootImage?: boolean }): Uint8Array;
}

export type { CheckpointInfo, EngineMode, EngineObserver, FrameResult, OutputChunk, PacketChunk, Pace, DiskRequest };
