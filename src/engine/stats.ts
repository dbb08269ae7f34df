// Counters an engine keeps about itself (status pages, benchmarks, tests). Every part of the
// engine adds to the one object the facade exposes as `engine.stats`.

export interface EngineStats {
  frames: number;
  instructions: number;
  checkpoints: number;
  jitInstalls: number;
  rdrand: number;
  ioCompleted: number;
  serialBytesIn: number;
  consoleBytes: number;
  clockEntries: number;
  clones: number;
  /** Disk reads completed from the disk cache (no data in the log), and their bytes. */
  diskCacheHits: number;
  diskCacheHitBytes: number;
  /** Frames cut short by the recorder's real-time budget (`cut` entries), recorded or replayed. */
  cutFrames: number;
  /** Network packets received (logged) and transmitted (outputs), and their bytes. */
  netPacketsIn: number;
  netBytesIn: number;
  netPacketsOut: number;
  netBytesOut: number;
  /** Received frames refused before the log: truncated or larger than one MTU. */
  netRejected: number;
  /** Received frames dropped because the NIC's receive queue was full (a flood while the VM waits: RxQueue). */
  netDropped: number;
}

export function emptyStats(): EngineStats {
  return {
    frames: 0,
    instructions: 0,
    checkpoints: 0,
    jitInstalls: 0,
    rdrand: 0,
    ioCompleted: 0,
    serialBytesIn: 0,
    consoleBytes: 0,
    clockEntries: 0,
    clones: 0,
    diskCacheHits: 0,
    diskCacheHitBytes: 0,
    cutFrames: 0,
    netPacketsIn: 0,
    netBytesIn: 0,
    netPacketsOut: 0,
    netBytesOut: 0,
    netRejected: 0,
    netDropped: 0,
  };
}
