/**
 * Paper 3.2: "if the primary VM encounters a full log buffer when it needs to write a log
 * entry, it must stop execution until log entries can be flushed out." The buffer here is
 * the set of records the backup has not acknowledged, measured in bytes, so a slow or
 * silent backup bounds the primary's memory instead of growing it without limit.
 * Hysteresis keeps the primary from pausing and resuming on every ack.
 *
 * The backup side of flow control needs no object: it simply has no frame to replay until
 * the frame's log is complete (see backup.ts).
 */
export class FlowControl {
  paused = false;

  constructor(
    private readonly maxBytes: number,
    private readonly resumeBytes: number,
  ) {}

  /** Returns 'pause' / 'resume' when the decision changes, null otherwise. */
  update(unackedBytes: number): 'pause' | 'resume' | null {
    if (!this.paused && unackedBytes > this.maxBytes) {
      this.paused = true;
      return 'pause';
    }
    if (this.paused && unackedBytes <= this.resumeBytes) {
      this.paused = false;
      return 'resume';
    }
    return null;
  }

  /** Leaving recording mode: nothing is logged any more, so nothing can fill up. */
  clear(): 'resume' | null {
    if (!this.paused) return null;
    this.paused = false;
    return 'resume';
  }
}
