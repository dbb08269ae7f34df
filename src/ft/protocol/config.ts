/**
 * Timeouts and bounds. The protocol never reads a clock, so all of these are compared
 * against the `now` the host injects. Two sets of defaults exist because the transport
 * differs: workers in one page see each other within a millisecond, whereas separate tabs
 * can be throttled by the browser (background tabs run timers at ~1 Hz), so a tab deployment
 * needs a detector that tolerates second-long stalls without declaring split brain.
 */
export type DiskMode = 'shared' | 'non-shared';
export type ReadMode = 'log' | 'backup-reads';

/**
 * Test-only switches that remove one safety mechanism each. They exist so the simulator
 * can prove its checker detects the resulting violations; production code must never set them.
 */
export interface UnsafeFlags {
  noOutputRule?: boolean;
  noTestAndSet?: boolean;
  noFencing?: boolean;
  /** The primary halts as soon as it sent the power-off entry (paper 3.3), not once acknowledged. */
  noPowerOffWait?: boolean;
}

export interface FtConfig {
  /** How often each side proves liveness when it has nothing else to send. */
  heartbeatIntervalMs: number;
  /** Silence (no heartbeat, log or ack) after which the peer is declared failed (paper 2.3). */
  failureTimeoutMs: number;
  /** Unacknowledged log records are resent after this long (the channel may lose messages). */
  retransmitMs: number;
  /** Wait before retrying a test-and-set or a disk op the store could not serve. */
  storageRetryMs: number;
  /** Flow control (3.2): the primary stops executing above this many unacked log bytes. */
  maxUnackedLogBytes: number;
  /** Resume once unacked bytes fall below this (hysteresis avoids pause/resume flapping). */
  resumeUnackedLogBytes: number;
  /**
   * Flow control for outputs: the primary also stops executing above this many bytes of outputs
   * the Output Rule holds (transmitted packets, console bytes, disk writes). A transmitted packet
   * is logged as a few bytes (`net-transmit`) but held whole, so the log's bound alone lets a
   * guest flooding the network pile up ~100x more held bytes than log bytes.
   */
  maxHeldOutputBytes: number;
  /** Resume once held output bytes fall below this (and the log below its own resume mark). */
  resumeHeldOutputBytes: number;
  /** Lag control (3.2): guest-time lag beyond which the primary is slowed down. */
  lagBoundMs: number;
  /** Lowest speed lag control may impose; stops the feedback loop from starving the guest. */
  minSpeed: number;
  /** Per-adjustment change of the speed factor (the paper's slow feedback loop). */
  speedStep: number;
  /** Minimum time between two lag-control adjustments. */
  lagAdjustIntervalMs: number;
  /** After FT VMotion, how long each side tolerates the other's silence while the snapshot is restored. */
  cloneGraceMs: number;
  /** A pair booted together: how long each side tolerates the other's silence at the start. */
  bootGraceMs: number;
  /**
   * The boot and clone graces also end once the backup has replayed this many frames past the
   * start: by then each side has measured its first slow frames and reports them in its
   * heartbeats and acks (StallMeter), which is what keeps the failure detector patient with a
   * cold VM from there on. A real failure soon after is then detected within the failure
   * timeout plus the peer's recent stall, not after the whole time bound.
   */
  graceFrames: number;
  /** How long a host's stall (a long frame, a snapshot restore) is reported to its peer (StallMeter). */
  stallWindowMs: number;
  /** Resend released-but-unacknowledged console bytes to the client at most this often. */
  consoleResendMs: number;
  /** Largest console chunk pushed in one message. */
  consoleChunkBytes: number;
  /** Largest number of log records in one logging-channel message. */
  maxRecordsPerMessage: number;
  diskMode: DiskMode;
  readMode: ReadMode;
  unsafe: UnsafeFlags;
}

const COMMON = {
  // Restoring a snapshot blocks the new backup for seconds on a loaded machine (measured: a 2 s
  // timeout expired during it and the primary went alone again).
  cloneGraceMs: 10_000,
  // The first frames of a boot run in v86's interpreter, before the JIT warms up: up to half a
  // second each, seconds on a loaded machine (measured: a backup declared a live primary failed
  // at frame 0 with the machine at load 17). A host cannot heartbeat in the middle of a frame.
  bootGraceMs: 10_000,
  graceFrames: 2,
  // Interpreter frames shrink to milliseconds within a few seconds of a boot or a restore.
  stallWindowMs: 3000,
  maxUnackedLogBytes: 4 << 20,
  resumeUnackedLogBytes: 2 << 20,
  // 16x the largest TCP window the guest's Linux offers or uses without window scaling (64 KiB):
  // TCP transfers never reach it (their window bounds what is in flight, held or not); a flood
  // that does not wait for acknowledgements (UDP, raw frames) does.
  maxHeldOutputBytes: 1 << 20,
  resumeHeldOutputBytes: 512 << 10,
  minSpeed: 0.1,
  speedStep: 0.05,
  consoleChunkBytes: 4096,
  maxRecordsPerMessage: 512,
  diskMode: 'shared' as DiskMode,
  readMode: 'log' as ReadMode,
  unsafe: {},
};

/** Two workers in one page: a sub-millisecond channel, but a host cannot send anything while
 * its VM runs a frame. Frames are cut short on a 10 ms budget (src/engine/machine.ts) and pairs
 * start from the boot image (no cold kernel boot), so bench:ft's stall meter, on this 2-core
 * machine at load 5-13 (other sessions' simulators and tests beside it), measured in four runs on
 * a running pair: busy workload p99 78-115 ms, max 182-322 ms (record and replay slices: single
 * frames); failover max 13-48 ms. The longer ones come before the pair runs in lockstep or around
 * a clone (boot max 434-591: restoring the boot image; clone max 603-887: the snapshot, the clone
 * message, the restore), under bootGraceMs / cloneGraceMs. The peer hears nothing for at most its
 * stall plus one heartbeat interval plus a tick: 322 + 50 + 10 = 382 ms against 500, before the
 * peer's own recent stalls are added to the timeout (its heartbeats report them: StallMeter); no
 * false failover in the benches nor in the failover and timeline e2e specs under a CPU hog. The
 * heartbeat went from 100 to 50 ms with it, so that a heartbeat's phase takes 50 ms of that margin,
 * not 100. At 1000/100 ms the failover took 1,238-1,358 ms (median of 5), at 500/50 ms 635-680. */
export const WORKER_DEFAULTS: FtConfig = {
  ...COMMON,
  heartbeatIntervalMs: 50,
  failureTimeoutMs: 500,
  retransmitMs: 200,
  storageRetryMs: 100,
  lagBoundMs: 1000,
  lagAdjustIntervalMs: 250,
  consoleResendMs: 250,
};

/** Two tabs: ICE needs 5-16 s to notice a closed tab, and throttled background tabs may
 * stall for a second, so heartbeats are slower and the timeout is a few seconds, as in
 * the paper ("on the order of a few seconds"). */
export const TAB_DEFAULTS: FtConfig = {
  ...COMMON,
  heartbeatIntervalMs: 250,
  failureTimeoutMs: 3000,
  retransmitMs: 500,
  storageRetryMs: 250,
  lagBoundMs: 1000,
  lagAdjustIntervalMs: 500,
  consoleResendMs: 500,
};

/** Two computers on etcd (issue 14): one visible page per computer, its host in a worker (a
 * worker's timers are not throttled as a background tab's page is), the logging channel a data
 * channel on a LAN. The 3 s of TAB_DEFAULTS waited for ICE to notice a closed tab and for throttled
 * background tabs; neither applies, and a killed browser's heartbeats simply stop. With them the
 * machines e2e test measured failovers of 3.8–5.4 s between two Chromium processes. The timeout is
 * 1 s on top of the peer's own reported stalls (StallMeter), what WORKER_DEFAULTS had before its
 * 0.5 s: no stall meter has measured hosts on two computers (a LAN, etcd) to say it may follow. */
export const MACHINE_DEFAULTS: FtConfig = {
  ...WORKER_DEFAULTS,
  heartbeatIntervalMs: 100,
  failureTimeoutMs: 1000,
  // etcd is a network round trip away, not an IndexedDB transaction in the same browser.
  storageRetryMs: 250,
};

export function makeConfig(overrides: Partial<FtConfig> = {}, base: FtConfig = WORKER_DEFAULTS): FtConfig {
  const cfg = { ...base, ...overrides, unsafe: { ...base.unsafe, ...(overrides.unsafe ?? {}) } };
  if (cfg.resumeUnackedLogBytes > cfg.maxUnackedLogBytes) {
    throw new Error('resumeUnackedLogBytes must not exceed maxUnackedLogBytes');
  }
  if (cfg.resumeHeldOutputBytes > cfg.maxHeldOutputBytes) {
    throw new Error('resumeHeldOutputBytes must not exceed maxHeldOutputBytes');
  }
  if (cfg.failureTimeoutMs <= cfg.heartbeatIntervalMs) {
    throw new Error('failureTimeoutMs must exceed heartbeatIntervalMs or every peer looks dead');
  }
  return cfg;
}
