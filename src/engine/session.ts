// Parameters both sides must agree on before the first frame (they shape the guest's clock and
// the checkpoint schedule). The primary picks them; the backup receives them with the snapshot
// or at session start.

export interface SessionInfo {
  version: 1;
  /** Virtual wall clock (Date.now) at virtual time 0, ms since the Unix epoch. */
  epochMs: number;
  /** Nominal guest speed: instructions per virtual millisecond. */
  ipms: number;
  /** A checkpoint entry after N frames, or after checkpointMs of guest time, whichever first. */
  checkpointEvery: number;
  checkpointMs: number;
  /** RAM is hashed one slice per checkpoint, round robin. */
  ramSliceBytes: number;
  jit: boolean;
  /**
   * Both sides keep the sectors the guest wrote (or read) in this session, up to this many bytes
   * (FIFO); a read the primary verifies to return exactly those bytes is logged without its data.
   * 0 disables it. Emptied at every clone on both sides.
   */
  diskCacheBytes: number;
  /** Where the backup gets disk read data: from the log (default) or by reading the shared disk itself. */
  diskReads?: "log" | "backup";
  /**
   * How a halted frame's end is turned into the next frame's predicted start (virtual-clock.ts).
   * 2: from the µs anchor exactly. Absent (1, recordings made before it existed): through the
   * frame end in ms, whose float round trip can land back on the same µs, so a halted guest whose
   * timer reports 0 ms left re-ran zero-length frames at a frozen time until a logged resync
   * (thousands of frames, ~2 log bytes each, per occurrence: the idle log regression).
   */
  haltClock?: 2;
}

export const DEFAULT_SESSION: Omit<SessionInfo, "epochMs"> = {
  version: 1,
  // Above the JIT's real speed on typical hardware (300-650 MIPS measured), so that a busy guest's
  // virtual clock lags real time (corrected by logged resyncs) instead of racing ahead (throttled).
  ipms: 1_000_000,
  checkpointEvery: 256,
  checkpointMs: 250,
  ramSliceBytes: 4 * 1024 * 1024,
  jit: true,
  diskCacheBytes: 32 * 1024 * 1024,
  haltClock: 2,
};

export function makeSession(epochMs: number, overrides: Partial<SessionInfo> = {}): SessionInfo {
  return { ...DEFAULT_SESSION, epochMs: Math.floor(epochMs), ...overrides, version: 1 };
}
